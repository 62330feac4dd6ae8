"""IncrementalSegmenter: the scan loop that push, flush, flush_partial and reset drive.

The loop jumps with one precompiled regex from one candidate character (terminators,
line ends, ``<``, backticks, ``)``, bullets; clause marks while the first segment may
end at a clause) to the next: ordinary characters are never looked at one by one in
Python. At a candidate, the rule family it belongs to reads a bounded window around it
and returns a typed :class:`~.state.Decision`, or None when it needs more text; then
the scan waits at that candidate until the next push. Decisions depend only on the
text, so every split of the same text gives the same segments.
"""

from __future__ import annotations

import re

from .._normalize import SpeechNormalizer, normalize_speech, remove_unspeakable
from .._segment import Segment, SegmentKind
from .buffer import MIN_DROP, Buffer
from .chars import NON_SPACE, SPAN_CANDIDATES
from .markup import DEFAULT_SPAN_TAGS, FENCE, MAX_INLINE_CODE, code_body, code_end, open_fence
from .policy import Policy, check_count
from .state import Boundary, ScanState
from .tables import LanguageTables, not_a_candidate, tables_for

__all__ = ["IncrementalSegmenter"]


class IncrementalSegmenter:
    """Split text pushed in arbitrary pieces into :class:`Segment` objects.

    The segmenter is synchronous and incremental: :meth:`push` takes the next delta of
    the reply and returns the segments it completed, :meth:`flush` returns the rest at
    the end. It does no I/O and reads no clock, and its output does not depend on how
    the reply was split into deltas. Its work is linear in the length of the reply,
    whatever the size of the deltas.

    A segment ends at a sentence end (abbreviations, numbers, ordinals, initials,
    URLs, file names and ellipses mid-sentence are recognised), at a line end (markdown
    list items, headings, paragraphs), around a fenced code block (one ``"code"``
    segment, never cut), and, by the policy knobs below, earlier or later.

    Args:
        language: Language of the text (``"en"``, ``"de"``, ``"fr"``, ``"es"``,
            ``"it"``, ``"nl"``, ``"pt"``, ``"zh"``, ``"ja"``; a region such as
            ``"en-US"`` is ignored). Unknown codes get language-neutral rules.
        max_chars: A segment whose text would grow longer than this is cut at the best
            clause boundary (``,`` ``;`` ``:`` dash) before the limit, else at the last
            word boundary; never inside a word, number, URL, tag or code block.
            ``None`` disables the limit.
        min_chars: A sentence shorter than this is merged with the next one ("Yes."
            "Sure.") instead of being its own TTS request. Line ends, paragraphs and
            code blocks still end a segment. 0 disables merging.
        merge_first: Apply ``min_chars`` to the first segment too. Off by default: the
            first segment decides the time to first audio.
        first_clause_chars: The first segment may end at a clause boundary (``,``
            ``;`` ``:`` or a dash followed by a space) once its text has at least this
            many characters, to cut the time to first audio. ``None`` disables it.
        first_max_chars: A cap on the first segment alone, applied like ``max_chars``:
            a first sentence that would grow longer is cut at its last clause mark in
            the last two thirds before the cap, else at its last word boundary. For
            TTS engines that synthesize a whole segment before any audio (Piper), the
            first segment's length sets the time to first audio. ``None`` (the
            default): the first segment has the cap of the others.
        speak_code: Speak fenced code blocks (their body, without the fences) instead
            of marking them unspoken (``speech=""``).
        normalize: Function turning a segment's display text into its speech text,
            e.g. :func:`~e2estream.normalize_speech` (the default) or ``None`` to speak
            the display text as it is.
        span_tags: Names of SSML-like tags whose content is never cut
            (``<spell>…</spell>``). Any tag itself is never cut, whatever its name.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a count is negative (or ``max_chars`` is below 1).

    After :meth:`flush`, the next :meth:`push` starts a new reply: offsets and indexes
    start again at 0. :meth:`reset` does the same without flushing.

    Example:
        >>> seg = IncrementalSegmenter("en", min_chars=0, first_clause_chars=None)
        >>> [s.text for s in seg.push("Dr. Smith arrived at 10 a.m. on Monday. He")]
        ['Dr. Smith arrived at 10 a.m. on Monday.']
        >>> [s.text for s in seg.flush()]
        ['He']
    """

    # Per reply a server makes one: what depends on the language alone is shared
    # (tables.py), and an instance holds only its settings and its scan state.
    __slots__ = (
        "__weakref__",
        "_buffer",
        "_first_watch",
        "_limit",
        "_policy",
        "_state",
        "_tables",
        "_watch",
        "first_clause_chars",
        "first_max_chars",
        "language",
        "max_chars",
        "merge_first",
        "min_chars",
        "normalize",
        "span_tags",
        "speak_code",
    )

    _buffer: Buffer
    _state: ScanState
    _watch: re.Pattern[str]

    def __init__(
        self,
        language: str = "en",
        *,
        max_chars: int | None = 300,
        min_chars: int = 12,
        merge_first: bool = False,
        first_clause_chars: int | None = 30,
        first_max_chars: int | None = None,
        speak_code: bool = False,
        normalize: SpeechNormalizer | None = normalize_speech,
        span_tags: frozenset[str] | set[str] | None = None,
    ) -> None:
        if not isinstance(language, str):
            raise TypeError(f"language must be a str, not {type(language).__name__}")
        check_count("max_chars", max_chars, allow_none=True, minimum=1)
        check_count("min_chars", min_chars, allow_none=False)
        check_count("first_clause_chars", first_clause_chars, allow_none=True)
        check_count("first_max_chars", first_max_chars, allow_none=True, minimum=1)
        if normalize is not None and not callable(normalize):
            raise TypeError("normalize must be a callable (text) -> str, or None")
        self.language = language
        self.max_chars = max_chars
        self.min_chars = min_chars
        self.merge_first = bool(merge_first)
        self.first_clause_chars = first_clause_chars
        self.first_max_chars = first_max_chars
        self.speak_code = bool(speak_code)
        self.normalize = normalize
        self.span_tags = frozenset(
            DEFAULT_SPAN_TAGS if span_tags is None else (t.lower() for t in span_tags)
        )
        self._policy = Policy.shared(max_chars, min_chars, self.merge_first, first_max_chars)
        tables: LanguageTables = tables_for(language)
        self._tables = tables
        # What the scan stops at in the first segment: clause marks too, if it may end
        # at one.
        self._first_watch = (
            tables.candidates if first_clause_chars is None else tables.clause_candidates
        )
        self._reset()

    # -- public API -------------------------------------------------------------------

    def push(self, text: str) -> list[Segment]:
        """Add the next delta of the reply and return the segments it completes.

        A segment is returned as soon as no later text could change it: usually when
        the first non-space character after its end arrives.

        Args:
            text: The next piece of the reply, of any length (may be empty).

        Returns:
            The segments completed by ``text``, in order (often none).

        Raises:
            TypeError: If ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise TypeError(f"push() takes a str, not {type(text).__name__}")
        buffer, st = self._buffer, self._state
        # Append through a local, so that CPython can grow the string in place (released
        # text is dropped by the scan, see Buffer.compact).
        grown = buffer.text
        old_end = len(grown)
        buffer.text = ""
        grown += text
        buffer.text = grown
        n = len(grown)
        # Shortcuts for the commonest deltas, each concluding what _scan() would from one
        # search of the delta (the differential fuzz test checks them against the scan).
        if n <= st.quiet_until:  # the scan was caught up, and only a candidate can matter
            found = self._watch.search(text)
            if found is None:  # a word: nothing to decide in it
                st.resume = n
                return []
            if found.end() == len(text) and text[-1] in self._tables.waits_for_next:
                # A final terminator, ")" or clause mark, the only candidate: it waits
                # for what follows.
                st.resume = n - 1
                st.quiet_until = -1
                return []
        elif st.resume == old_end:
            if st.code is not None and st.text_start is not None and "\n" not in text:
                st.resume = st.code_seen = n  # inside code only a line end can matter
                return []
        elif (
            st.pending is not None
            and st.pending == st.resume
            and grown[st.pending] == "`"  # (a "<" waits for its ">": no shortcut)
            and grown[old_end - 1] != "`"
            and "`" not in text
            and "\n" not in text
            and n - st.resume < MAX_INLINE_CODE
        ):
            # Inside inline code that has not closed yet (the scan waits at its opening
            # backtick): only a backtick, a line end or the length bound can end the wait
            # (and a scan waiting at a candidate cuts nowhere, max_chars or not).
            return []
        out: list[Segment] = []
        self._scan(out, False)
        return out

    def flush(self) -> list[Segment]:
        """Return the rest of the reply as segments, at the end of the input.

        Returns:
            The remaining segments (possibly none). A later :meth:`push` starts a new
            reply.
        """
        out: list[Segment] = []
        self._scan(out, True)
        kind: SegmentKind = "code" if self._state.code is not None else "text"
        self._emit(len(self._buffer.text), out, kind)
        self._reset()
        return out

    def flush_partial(self) -> list[Segment]:
        """Hand over the buffered text up to its last word boundary, keep the rest.

        This is the synchronous hook for time-based flushing ("no token for T seconds:
        speak what we have"): the cut is at the last whitespace that is not inside a
        tag, a tagged span or inline code, and never inside a code block. It is the
        only operation whose result depends on timing, so it is never called by the
        segmenter itself.

        Returns:
            Zero or one segment.
        """
        out: list[Segment] = []
        buffer, st = self._buffer, self._state
        if st.code is not None or buffer.start >= len(buffer.text):
            return out
        limit = len(buffer.text)
        if st.span_start is not None:
            limit = min(limit, st.span_start)
        if st.pending is not None:
            limit = min(limit, st.pending)
        cut = buffer.last_space(buffer.start, limit)
        if cut > buffer.start and buffer.text[buffer.start : cut].strip():
            self._emit(cut, out, "text")
        return out

    def reset(self) -> None:
        """Forget everything pushed so far and start a new reply."""
        buffer = self._buffer
        # Only text changes the state: with none pushed since the last reset there is
        # nothing to forget (a stream resets the segmenter it was just given).
        if buffer.text or buffer.base:
            self._reset()

    # -- the scan ----------------------------------------------------------------------

    def _reset(self) -> None:
        tables = self._tables
        self._buffer = Buffer()
        self._state = ScanState(
            tables.rules,
            tables.starter_prefixes,
            tables.ordinal_prefixes,
            tables.abbreviation_prefixes,
            self.span_tags,
            self.first_clause_chars,
        )
        # What the scan stops at outside spans, and how long a segment may grow: the
        # first segment has its own of both.
        self._watch = self._first_watch
        self._limit = self._policy.first_limit

    def _scan(self, out: list[Segment], final: bool) -> None:
        """Decide every candidate from the resume point on, emitting the segments."""
        buffer, st, policy = self._buffer, self._state, self._policy
        rules_at = self._tables.rules_at
        if buffer.start >= MIN_DROP:  # (tested here: most scans have nothing to drop)
            shift = buffer.compact()
            if shift:
                st.shift(shift)
        pos = st.resume
        st.quiet_until = -1
        text = buffer.text  # (no rule changes the text, only where segments end)
        n = len(text)
        while True:
            if st.text_start is None and not self._start_segment(final):
                # Only whitespace so far (resume after it), or a fence still arriving.
                st.resume = n if st.lead == n else pos
                return
            if st.code is not None:
                end = code_end(st, buffer, final)
                if end is None:
                    st.resume = n
                    return
                self._emit(end, out, "code")
                pos = buffer.start
                continue
            candidates = SPAN_CANDIDATES if st.spans else self._watch
            assert st.text_start is not None
            limit = st.text_start + self._limit
            # Search no further than the limit: beyond it the segment is cut anyway, and
            # one giant delta must not be searched to its end once per segment.
            found = candidates.search(text, pos, limit + 1)
            if found is None and n > limit:
                cut = policy.forced_cut(st, buffer, candidates, pos, self._limit)
                if cut > buffer.start and self._emit(cut, out, "text"):
                    pos = max(pos, cut)
                    continue
                found = candidates.search(text, max(pos, limit + 1))
            if found is None:
                st.resume = n
                if not st.spans:
                    st.quiet_until = limit  # until then only a candidate can matter
                return
            i = found.start()
            decision = rules_at.get(text[i], not_a_candidate)(st, buffer, i, final)
            if decision is None:
                st.resume = i
                return
            pos = decision.resume
            if decision.cut is not None and (
                decision.boundary is not Boundary.SENTENCE
                or not policy.min_chars
                or policy.accepts(st, decision)
            ):
                self._emit(decision.cut, out, "text")

    def _start_segment(self, final: bool) -> bool:
        """Find the segment's first character (and a code fence there); False: wait."""
        buffer, st = self._buffer, self._state
        text = buffer.text
        n = len(text)
        found = NON_SPACE.search(text, st.lead)
        if found is None:
            st.lead = n
            return False
        start = found.start()
        st.lead = st.text_start = start
        if text[start] in "`~" and ("\n" in text[buffer.start : start] or buffer.base + start == 0):
            # A fence opens a code block only at the start of a line.
            fence = FENCE.match(text, start)
            if not final and ((fence is None and n - start < 3) or (fence and fence.end() == n)):
                st.text_start = None  # "``" may become a fence, "```" may grow
                return False
            if fence is not None:
                open_fence(st, fence)
        return True

    def _emit(self, cut: int, out: list[Segment], kind: SegmentKind) -> bool:
        """Release the segment ending at index ``cut`` unless it is blank."""
        buffer, st = self._buffer, self._state
        if cut <= buffer.start:
            return False
        text = buffer.text[buffer.start : cut].strip()
        if not text:
            return False  # whitespace stays with the next segment: spans stay contiguous
        speech: str | None = None
        if kind == "code":
            speech = remove_unspeakable(code_body(text)) if self.speak_code else ""
            st.code = None
            st.code_line = None
        else:
            # Whatever the normalizer (the user's own, or none), control characters and
            # lone surrogates never reach a TTS; the default one removes them itself.
            normalize = self.normalize
            if normalize is normalize_speech:
                spoken = normalize_speech(text)
            else:
                spoken = remove_unspeakable(text if normalize is None else normalize(text))
            if spoken != text:
                speech = spoken
        start, end = buffer.cut(cut)
        out.append(Segment(st.index, start, end, text, kind, speech))
        st.new_segment(cut)
        self._watch = self._tables.candidates
        self._limit = self._policy.limit
        return True
