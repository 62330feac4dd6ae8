"""IncrementalSegmenter: split streamed text into segments a TTS speaks well.

How it works, and why it is fast and tokenization-independent:

* The unreleased text lives in one buffer that always starts at the current segment's
  start. A precompiled regex jumps from one *candidate* character (``.!?…`` and CJK
  terminators, newline, ``<``, backtick, ``)``, bullets; plus ``,;:`` and dashes while
  the first segment may end at a clause) to the next; ordinary characters are never
  looked at one by one in Python.
* At a candidate the decision reads a bounded window: the word before it (at most
  ``_BACK`` characters) and what follows (the whitespace, then at most one word). If
  that is not there yet, the scan stops at the candidate and resumes there on the next
  ``push``. Decisions depend only on the text, never on where tokens were split, so
  every split of the same text gives the same segments.
* Language knowledge (abbreviations, sentence starters, ordinals) is data in
  :mod:`e2estream._lang`.
"""

from __future__ import annotations

import re

from ._lang import LanguageRules, rules_for
from ._normalize import SpeechNormalizer, normalize_speech
from ._segment import Segment, SegmentKind

__all__ = ["DEFAULT_SPAN_TAGS", "IncrementalSegmenter"]

#: Tags whose content is never cut (an SSML-like span the LLM was told to emit).
DEFAULT_SPAN_TAGS = frozenset(
    {
        "spell",
        "lang",
        "say-as",
        "sub",
        "phoneme",
        "prosody",
        "emphasis",
        "voice",
        "w",
        "audio",
        "say",
        "emotion",
        "whisper",
        "spell-out",
    }
)

_TERMS = ".!?…‼⁇⁈⁉"
_TERM_SET = frozenset(_TERMS)
_CJK_TERMS = "。！？｡"
# Marks that may open the next sentence before its first letter.
_OPENERS = "\"'“‘„‚«‹»›¿¡*_~[「『（"
_BULLETS = "•⁃◦▪‣"

_CAND = re.compile(r"[.!?…‼⁇⁈⁉。！？｡\n<`)•⁃◦▪‣]")
_CAND_CHARS = frozenset(".!?…‼⁇⁈⁉。！？｡\n<`)•⁃◦▪‣")
_CAND_CLAUSE = re.compile(r"[.!?…‼⁇⁈⁉。！？｡\n<`)•⁃◦▪‣,;:—–-]")
_CAND_SPAN = re.compile(r"[\n<]")
# Runs are bounded so that a decision never re-reads an unbounded run on every push.
_RUN = re.compile(
    r"[.!?…‼⁇⁈⁉]{1,16}(?:[\"'“”‘’»«›‹)\]}」』）】〕〉》*_~]{1,8}[.!?…‼⁇⁈⁉]{0,8}){0,4}"
)
_CJK_RUN = re.compile(r"[。！？｡!?]{1,16}[\"'“”‘’»«›‹)\]}」』）】〕〉》]{0,8}")
_WS = re.compile(r"\s*")
_WS_SHORT = re.compile(r"\s{0,16}")
_CLOSERS = "\"'“”‘’»«›‹)]}」』）】〕〉》*_~"  # may follow a terminator inside its run
_RUN_TEXT = _TERMS + _CLOSERS
_RUN_CHARS = frozenset(_RUN_TEXT)
# After a terminator these need a decision; anything else glued to it is a word.
_AFTER_TERM = _RUN_CHARS | {"<"}
_NONWS = re.compile(r"\S")
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"[#$€£¥%+±(-]*\d[\d.,:/'%-]*\Z")
_MULTI_PERIOD = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}\Z")
_MARKER = re.compile(r"([•⁃◦▪‣][ \t]*|[-*+][ \t]+)?(?:(\d{1,3})|([A-Za-z]))(\.\)|\.|\))")
_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)(?:\s[^<>]*?)?\s*(/?)>")
_TAG_PREFIX = re.compile(r"</?(?:[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?)?\Z")
_FENCE = re.compile(r"`{3,16}|~{3,16}")
_CLOSE_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})[ \t]*")
_CLAUSE = re.compile(r"[,;:—–](?=\s)|(?<=\s)-(?=\s)")
_WS_CHAR = re.compile(r"\s")
_NEWLINE = re.compile(r"\n")

_BACK = 40  # how far back the word before a period may reach
_WORD_LEAD = "\"'“‘„‚«‹([{¿¡*_~"  # stripped before the word before a period
_PREV_STRIP = "\"'“‘„‚«‹([{*_~,;:"  # stripped around the token before that
_MAX_TAG = 256  # a "<" without ">" within this many characters is a literal "<"
_MAX_INLINE_CODE = 256  # the same for a backtick without its closing backtick
_MAX_WS_WAIT = 16  # after this much whitespace (no newline) a boundary is decided
_MAX_WORD = 24  # a following word this long is no starter, month or ordinal noun
_WINDOW = _MAX_TAG + 64  # the most a single decision reads after its candidate
_NEED = -1  # "decision needs more text": stop scanning here until the next push
# ``_pos`` when the scan has read the whole buffer. A sentinel rather than ``len(_buf)``
# so that push(), on the hot path, appends text without storing a new position.
_CAUGHT_UP = -1
_FLUSHED = -2  # ``_pos`` after flush() (its only record): no fast path matches, push() resets


def _check_count(name: str, value: int | None, *, allow_none: bool, minimum: int = 0) -> None:
    if value is None:
        if allow_none:
            return
        raise TypeError(f"{name} must be an int, not None")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


class IncrementalSegmenter:
    """Split text pushed in arbitrary pieces into :class:`Segment` objects.

    The segmenter is synchronous and incremental: :meth:`push` takes the next delta of
    the reply and returns the segments it completed, :meth:`flush` returns the rest at
    the end. It does no I/O and reads no clock, and its output does not depend on how
    the reply was split into deltas.

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

    _buf: str
    _base: int
    _index: int
    _pos: int
    _text_start: int
    _fast_until: int
    _lead: int
    _list: tuple[str, str, str] | None
    _atomic: list[tuple[int, int]]
    _spans: list[str]
    _span_start: int
    _pending_atomic: int
    _code: tuple[str, int] | None
    _fast_re: re.Pattern[str]
    _code_line: int
    _code_seen: int
    _forced_start: int
    _forced_from: int
    _forced_blocked: tuple[int, int]

    def __init__(
        self,
        language: str = "en",
        *,
        max_chars: int | None = 300,
        min_chars: int = 12,
        merge_first: bool = False,
        first_clause_chars: int | None = 30,
        speak_code: bool = False,
        normalize: SpeechNormalizer | None = normalize_speech,
        span_tags: frozenset[str] | set[str] | None = None,
    ) -> None:
        if not isinstance(language, str):
            raise TypeError(f"language must be a str, not {type(language).__name__}")
        _check_count("max_chars", max_chars, allow_none=True, minimum=1)
        _check_count("min_chars", min_chars, allow_none=False)
        _check_count("first_clause_chars", first_clause_chars, allow_none=True)
        if normalize is not None and not callable(normalize):
            raise TypeError("normalize must be a callable (text) -> str, or None")
        self.language = language
        self.max_chars = max_chars
        self.min_chars = min_chars
        self.merge_first = bool(merge_first)
        self.first_clause_chars = first_clause_chars
        self.speak_code = bool(speak_code)
        self.normalize = normalize
        self.span_tags = frozenset(
            DEFAULT_SPAN_TAGS if span_tags is None else (t.lower() for t in span_tags)
        )
        self._rules: LanguageRules = rules_for(language)
        self._fast = _CAND if first_clause_chars is None else _CAND_CLAUSE
        self._max = max_chars if max_chars is not None else 1 << 62
        self._prefixes = {
            "starters": _prefixes(self._rules.starters),
            "ordinal_after": _prefixes(self._rules.ordinal_after),
        }
        self._work = 0  # characters examined; the linear-time property test reads it
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
        buf = self._buf
        pos = self._pos
        # Fast paths first, in order of frequency. Each does exactly what _scan() would
        # do for that text, without its bookkeeping; the property tests check that any
        # split of the text gives the same segments.
        if pos == _CAUGHT_UP:
            try:
                found = self._fast_re.search(text)
            except TypeError:
                raise TypeError(f"push() takes a str, not {type(text).__name__}") from None
            if found is None:
                # Nothing to decide in the new text (and the segment has started and is
                # below max_chars, else _fast_until is too small). Rebinding through a
                # local lets CPython grow the string in place.
                self._buf = ""
                buf += text
                self._buf = buf
                end = len(buf)
                if end <= self._fast_until:
                    return []  # the scan stays caught up
                pos = end - len(text)
                if self._text_start < 0 and self._lead == pos and self._code is None:
                    # The text before the segment's first character (as _scan() does).
                    nonspace = _NONWS.search(buf, pos)
                    if nonspace is None:
                        self._lead = end
                        return []
                    start = nonspace.start()
                    if buf[start] != "~":  # "~~~" may open a code block: _scan() decides
                        self._text_start = self._lead = start
                        self._fast_until = start + self._max
                        if end <= self._fast_until:
                            return []
                self._buf = buf = buf[:pos]
            elif type(text) is str:
                pos = len(buf)
                if (
                    text[0] in _TERM_SET
                    and (len(text) == 1 or (len(text) < 8 and not text.strip(_RUN_TEXT)))
                    and pos + len(text) <= self._fast_until
                    and self._text_start >= 0
                ):
                    # A terminator alone, or with more terminators and closing quotes
                    # ('."', '?!', '.)'): its run reaches the end of the text (see _RUN),
                    # so it waits for the next character; the scan stays at it.
                    self._buf = ""
                    buf += text
                    self._buf = buf
                    self._pos = pos
                    return []
                return self._push_special(text, found)
        elif pos >= 0 and type(text) is str and text:
            # The scan stopped at a candidate (``pos``) whose decision needs more text.
            ch = buf[pos]
            if (
                text[0] == " "
                and ch in ".!?"
                and len(buf) <= self._fast_until
                and not self._spans
                and (pos == len(buf) - 1 or not buf[pos + 1 :].strip(_CLOSERS))
            ):
                # The most common shape, "word. Next" (or 'word." Next', "next", "42"),
                # decided as _on_terminator() decides it, without the detour.
                released = self._after_terminator(buf, pos, ch, text)
                if released is not None:
                    return released
            elif (
                text[0] == "\n"
                and pos == len(buf) - 1
                and ch in _TERMS
                and not text.strip()
                and (ch != "." or self._list is None)
                and not self._spans
                and self._text_start >= 0
                and len(buf) <= self._fast_until
            ):
                # "word." then a line end: the sentence ends at the terminator whatever
                # the word (as _on_terminator decides). (A period in a list may end an
                # inline marker: general path.)
                return self._cut_before_blank(pos + 1, text)
            new_len = len(buf) + len(text)
            if pos == len(buf) - 1 and ch in _TERMS:
                if (
                    ((text == " ." and ch == ".") or not text.strip(".!?"))
                    and new_len - pos < 16
                    and new_len <= self._fast_until
                ):
                    # ". ." (a spaced ellipsis goes on) or "?!"/"..." (the run goes on):
                    # still waiting, now at the last terminator of the run.
                    self._buf = ""
                    buf += text
                    self._buf = buf
                    if text == " .":
                        self._pos = len(buf) - 1
                    return []
                if (
                    not text.strip(_CLOSERS)
                    and len(text) < 8
                    and new_len <= self._fast_until
                    and not self._spans
                ):
                    # '."', '!)', '?»': the run goes on to the end of the text (see _RUN),
                    # so the decision still waits for what follows it.
                    self._buf = ""
                    buf += text
                    self._buf = buf
                    return []
                first = text[0]
                if first not in _AFTER_TERM and not first.isspace():
                    # "3.14", "U.S", "e.g": a terminator glued to the next word is no
                    # boundary; the scan is caught up again.
                    self._pos = _CAUGHT_UP
                    return self.push(text)
            elif (
                ch == "`"
                and self._pending_atomic == pos
                and buf[-1] != "`"
                and ("`" not in text or text == "`")
                and "\n" not in text
                and new_len - pos < _MAX_INLINE_CODE - 1
                and new_len <= self._fast_until
            ):
                # Inside inline code that has not closed yet (a backtick at the end of
                # the buffer may be the closing one: then what follows decides): only a
                # backtick or a newline can change anything, and a lone backtick closes
                # it only once the next character shows that the run ends there (see
                # _on_backtick).
                self._buf = ""
                buf += text
                self._buf = buf
                return []
            if (
                self._text_start >= 0
                and not self._spans
                and self._code is None
                and pos <= self._fast_until
                and ch in _CAND_CHARS
            ):
                # The decision at ``pos``, as the next step of _scan() would take it.
                self._buf = ""
                buf += text
                self._buf = buf
                self._work += 1 + (new_len - pos if new_len - pos < _WINDOW else _WINDOW)
                if ch in _TERMS:
                    nxt, cut = self._on_terminator(buf, pos, False)
                else:
                    nxt, cut = self._decide(buf, pos, False)
                if nxt == _NEED:
                    return []
                out: list[Segment] = []
                if cut >= 0:
                    nxt -= self._cut(cut, out, "text")
                return self._resume(nxt, out)
        return self._push_slow(text)

    def _after_terminator(self, buf: str, pos: int, ch: str, text: str) -> list[Segment] | None:
        """push() for ``text`` = " x..." after a terminator at ``pos`` that ends the buffer.

        Only closing quotes and brackets may follow the terminator in the buffer (they
        belong to its run, see _RUN). Returns the segments completed, or None when the
        shape is not the common one (then the general path decides).
        """
        end = len(buf)  # the end of the terminator's run: where a sentence would end
        c = text[1:2]
        if not c.isalnum():
            return None  # a quote, bracket, tag or more whitespace: the general path
        spaced = self._rules.spaced_closers
        if spaced and c in spaced:
            return None
        if ch == "." and (
            self._list is not None or pos - self._text_start <= 8 or buf[pos - 1] == " "
        ):
            return None  # list markers, spaced ellipses: the general path
        if c.isupper() or (c.isalpha() and not c.islower()):
            upper = True
        elif c.isdigit():
            upper = False
        elif ch == "?":
            return None  # "What? yes": depends on the word before it
        else:
            # "co. at", "Yahoo! in": a lower-case word after "." or "!" continues the
            # sentence.
            self._pos = _CAUGHT_UP
            return self.push(text)
        self._buf = ""
        buf += text
        self._buf = buf
        if ch == ".":
            self._work += len(text)
            cls = "upper" if upper else "digit"
            decision = self._period_decision(buf, pos, end + 1, cls, False)
            if decision is None:
                return []  # the next word may still become a sentence starter
            if not decision:
                return self._resume(end, [])
        cut = self._sentence_cut(end) if self.min_chars else end
        if cut < 0:
            return self._resume(end, [])
        out: list[Segment] = []
        self._cut(cut, out, "text")
        if len(text) <= self._max and self._fast_re.search(buf, cut) is None:
            # The next segment starts at text[1], a letter or digit; nothing to decide.
            self._pos = _CAUGHT_UP
            self._lead = self._text_start = 1
            self._fast_until = 1 + self._max
            return out
        return self._resume(0, out)

    def _cut_before_blank(self, cut: int, blank: str) -> list[Segment]:
        """End the segment at ``cut``, the end of the buffer, before a line end.

        ``blank`` (whitespace starting with a line end) is not part of the segment: it
        becomes the buffer, waiting for the next segment's text.
        """
        out: list[Segment] = []
        self._cut(cut, out, "text")
        self._buf = blank
        self._lead = len(blank)
        self._pos = _CAUGHT_UP
        return out

    def _resume(self, pos: int, out: list[Segment]) -> list[Segment]:
        """Go on scanning at ``pos`` after a decision; finish at once if nothing is left.

        The quick exit does what the next iterations of _scan() would do when no
        candidate follows ``pos``: note where the segment's text starts, stop at the end.
        """
        buf = self._buf
        if self._code is None and self._fast_re.search(buf, pos) is None:
            n = len(buf)
            if self._text_start < 0:
                first = _NONWS.search(buf, self._lead)
                if first is None:
                    self._lead = n
                    self._pos = _CAUGHT_UP
                    return out
                start = first.start()
                if buf[start] != "~":
                    self._text_start = self._lead = start
                    self._fast_until = start + self._max
            if self._text_start >= 0 and n <= self._fast_until:
                self._pos = _CAUGHT_UP
                return out
        self._pos = pos if pos < len(buf) else _CAUGHT_UP
        self._scan(out, False)
        return out

    def _push_special(self, text: str, found: re.Match[str]) -> list[Segment]:
        """Fast paths for a caught-up scan whose new text holds a candidate."""
        buf = self._buf
        pos = len(buf)
        if text[0] == "\n" and self._code is None:
            if (
                not text.strip()
                and not self._spans
                and self._text_start >= 0
                and pos <= self._fast_until
            ):
                # A line end after the segment's text, then only whitespace: the
                # newline ends the segment.
                return self._cut_before_blank(pos, text)
            return self._push_slow(text)
        if self._text_start < 0:
            if (
                self._lead == pos
                and self._code is None
                and not text[0].isspace()
                and text[0] not in "`~"
            ):
                # A segment starts with this text (not with a fence), as _scan() does.
                self._text_start = self._lead = pos
                self._fast_until = pos + self._max
            else:
                return self._push_slow(text)
        fast = self._fast_re
        candidate: re.Match[str] | None = found
        while (
            candidate is not None
            and text[candidate.start()] == ")"
            and (self._list is None or self._list[2] != ")")
            and pos + candidate.start() - self._text_start > 8
        ):
            candidate = fast.search(text, candidate.end())  # ")" only matters in markers
        if candidate is None or (candidate.end() == len(text) and text[-1] in _TERMS):
            # Nothing to decide, or only a final terminator, which must wait for the
            # next character anyway.
            end = pos + len(text)
            if end <= self._fast_until:
                self._buf = ""
                buf += text
                self._buf = buf
                self._pos = _CAUGHT_UP if candidate is None else end - 1
                return []
        elif candidate.end() == len(text) and text[-1] == "`" and not self._spans:
            # Only a final backtick, which may open inline code: it waits for the next
            # character with the scan at it (as _on_backtick decides).
            end = pos + len(text)
            if end <= self._fast_until:
                self._buf = ""
                buf += text
                self._buf = buf
                self._pos = self._pending_atomic = end - 1
                return []
        return self._push_slow(text)

    def _push_slow(self, text: str) -> list[Segment]:
        if not isinstance(text, str):
            raise TypeError(f"push() takes a str, not {type(text).__name__}")
        buf = self._buf
        if self._pos == _FLUSHED:
            self._reset()
            buf = ""
        if not text:
            return []
        if self._pos == _CAUGHT_UP:
            self._pos = len(buf)  # the new text still has to be scanned
        self._buf = ""
        buf += text
        self._buf = buf
        result: list[Segment] = []
        self._scan(result, False)
        return result

    def flush(self) -> list[Segment]:
        """Return the rest of the reply as segments, at the end of the input.

        Returns:
            The remaining segments (possibly none). A later :meth:`push` starts a new
            reply.
        """
        out: list[Segment] = []
        if self._pos != _FLUSHED:
            self._scan(out, True)
            self._cut(len(self._buf), out, "code" if self._code else "text")
            self._fast_until = -1
            self._pos = _FLUSHED
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
        if self._pos == _FLUSHED or self._code or not self._buf:
            return out
        buf = self._buf
        limit = len(buf)
        if self._span_start >= 0:
            limit = min(limit, self._span_start)
        if self._pending_atomic >= 0:
            limit = min(limit, self._pending_atomic)
        cut = self._last_space(0, limit)
        if cut > 0 and buf[:cut].strip():
            self._cut(cut, out, "text")
        return out

    def reset(self) -> None:
        """Forget everything pushed so far and start a new reply."""
        self._reset()

    # -- state -----------------------------------------------------------------------

    def _reset(self) -> None:
        self._buf = ""
        self._base = 0  # offset of _buf[0] in the reply
        self._index = 0
        self._pos = _CAUGHT_UP  # where the scan resumes
        self._text_start = -1  # first non-space character of the current segment
        self._fast_until = -1  # push() may skip scanning while the buffer is this short
        self._lead = 0  # leading characters of the buffer known to be whitespace
        self._list = None  # (kind, next marker, suffix)
        self._atomic = []  # never-cut regions (tags, inline code)
        self._spans = []  # open span tags
        self._span_start = -1
        self._pending_atomic = -1  # a "<" or backtick waiting for its end
        self._code = None  # (fence character, fence length)
        self._fast_re = self._fast  # what push() looks for before doing any work
        self._code_line = -1  # start of the next code line to check for the closing fence
        self._code_seen = 0  # code text already searched for a newline (set on entering code)
        self._forced_start = -1  # segment (its offset) whose text before the limit has no cut
        self._forced_from = 0  # where the search for a space after that limit resumes
        self._forced_blocked = (-1, -1)  # (segment offset, bound) of a cut blocked by a tag

    # -- scanning --------------------------------------------------------------------

    def _scan(self, out: list[Segment], final: bool) -> None:
        pos = self._pos
        if pos < 0:
            pos = len(self._buf)
        while True:
            buf = self._buf
            n = len(buf)
            if self._text_start < 0:
                found = _NONWS.search(buf, self._lead)
                self._work += (found.start() if found is not None else n) - self._lead + 1
                if found is None:
                    self._lead = n
                    self._pos = _CAUGHT_UP
                    return
                start = found.start()
                self._lead = start
                self._text_start = start
                self._fast_until = start + self._max
                if buf[start] in "`~" and ("\n" in buf[:start] or self._base + start == 0):
                    fence = _FENCE.match(buf, start)
                    if fence is None and not final and n - start < 3:
                        self._text_start = self._fast_until = -1
                        self._pos = pos if pos < n else _CAUGHT_UP
                        return
                    if fence is not None and fence.end() == n and not final:
                        self._text_start = self._fast_until = -1
                        self._pos = pos if pos < n else _CAUGHT_UP
                        return
                    if fence is not None:
                        self._code = (fence.group()[0], len(fence.group()))
                        self._code_line = -1
                        self._code_seen = fence.end()
                        # Inside code only a newline can matter, and nothing is cut.
                        self._fast_re = _NEWLINE
                        self._fast_until = 1 << 62
            if self._code is not None:
                if not self._scan_code(out, final):
                    self._pos = _CAUGHT_UP
                    return
                pos = 0
                continue
            if self._spans:
                cand = _CAND_SPAN
            elif self._index == 0:
                cand = self._fast
            else:
                cand = _CAND
            found = cand.search(buf, pos)
            i = found.start() if found is not None else n
            # Work is counted in characters examined (the linear-time test reads it).
            self._work += i - pos + 1
            limit = self._text_start + self._max
            if i > limit and n > limit:
                cut = self._forced_cut(limit, i, final)
                if cut > 0:
                    shift = self._cut(cut, out, "text")
                    if shift:
                        pos = max(pos - shift, 0)
                        continue
            if found is None:
                self._pos = _CAUGHT_UP
                return
            # A decision reads a bounded window around ``i`` (see the module docstring).
            # The work counter charges what it reads after ``i``; what it reads before
            # ``i`` is bounded by _BACK by construction (the ``lo`` argument of every
            # backward search), so the hot path does not count it.
            self._work += min(n - i, _WINDOW)
            if buf[i] in _TERMS:
                nxt, cut = self._on_terminator(buf, i, final)
            else:
                nxt, cut = self._decide(buf, i, final)
            if nxt == _NEED:
                self._pos = i
                return
            if cut >= 0:
                nxt -= self._cut(cut, out, "text")
            pos = nxt

    def _decide(self, buf: str, i: int, final: bool) -> tuple[int, int]:
        """Look at the candidate at ``i``: return (where to resume, where to cut or -1)."""
        ch = buf[i]
        if ch == "\n":
            return self._on_newline(buf, i, final)
        if ch == "<":
            return self._on_tag(buf, i, final), -1
        if ch == "`":
            return self._on_backtick(buf, i, final), -1
        if ch in _CJK_TERMS:
            run = _CJK_RUN.match(buf, i)
            e = run.end() if run is not None else i + 1
            if e >= len(buf) and not final:
                return _NEED, -1
            return e, self._sentence_cut(e)
        if ch in _TERMS:
            return self._on_terminator(buf, i, final)
        if ch == ")":
            return self._on_paren(buf, i, final)
        if ch in _BULLETS:
            return self._on_bullet(buf, i)
        return self._on_clause(buf, i, final)

    def _on_newline(self, buf: str, i: int, final: bool) -> tuple[int, int]:
        if self._spans:
            # An unclosed span ends at a paragraph break: never hold back the reply.
            ws = _WS_SHORT.match(buf, i + 1)
            end = ws.end() if ws is not None else i + 1
            if "\n" in buf[i + 1 : end]:
                self._spans.clear()
                self._span_start = -1
                return i + 1, i
            if end >= len(buf) and end - i <= 16 and not final:
                return _NEED, -1
            return i + 1, -1
        return i + 1, i

    def _on_tag(self, buf: str, i: int, final: bool) -> int:
        n = len(buf)
        tag = _TAG.match(buf, i)
        if tag is None:
            if not final and n - i < _MAX_TAG and _TAG_PREFIX.match(buf, i) is not None:
                self._pending_atomic = i
                return _NEED
            self._pending_atomic = -1
            return i + 1
        self._pending_atomic = -1
        end = tag.end()
        closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
        self._atomic.append((i, end))
        if closing:
            if name in self._spans:
                while self._spans and self._spans.pop() != name:
                    pass
                if not self._spans:
                    self._atomic.append((self._span_start, end))
                    self._span_start = -1
                    if i > 0 and buf[i - 1] in _TERMS:
                        # The span ended a sentence: decide that terminator now.
                        return i - 1
        elif not self_closing and name in self.span_tags:
            if not self._spans:
                self._span_start = i
            self._spans.append(name)
        return end

    def _on_backtick(self, buf: str, i: int, final: bool) -> int:
        n = len(buf)
        run = i
        while run < n and buf[run] == "`" and run - i < 16:
            run += 1
        if run - i >= 16:
            self._pending_atomic = -1
            return run  # a wall of backticks: literal text
        if run >= n and not final:
            self._pending_atomic = i
            return _NEED
        ticks = buf[i:run]
        stop = min(n, run + _MAX_INLINE_CODE)
        close = buf.find(ticks, run, stop)
        newline = buf.find("\n", run, stop)
        self._work += (close if close >= 0 else stop) - run
        if close >= 0 and (newline < 0 or close < newline):
            end = close + len(ticks)
            if end >= n and not final:
                self._pending_atomic = i
                return _NEED
            if end < n and buf[end] == "`":  # a longer run: not the closing one
                self._pending_atomic = -1
                return run
            self._pending_atomic = -1
            self._atomic.append((i, end))
            return end
        if newline >= 0 or stop - run >= _MAX_INLINE_CODE or final:
            self._pending_atomic = -1
            return run
        self._pending_atomic = i
        return _NEED

    def _on_bullet(self, buf: str, i: int) -> tuple[int, int]:
        if i == self._text_start:
            self._list = ("bullet", buf[i], "")
        elif (
            self._list is not None
            and self._list[0] == "bullet"
            and self._list[1] == buf[i]
            and buf[i - 1].isspace()
        ):
            return i, i
        return i + 1, -1

    def _marker_end(self, buf: str, i: int) -> int:
        """If a list marker starts the segment and ends at ``i``, note it; return i."""
        start = self._text_start
        if start < 0 or i - start > 8:
            return -1
        marker = _MARKER.match(buf, start)
        if marker is None or marker.end() != i:
            return -1
        number, letter, suffix = marker.group(2), marker.group(3), marker.group(4)
        if marker.group(1) and marker.group(1)[0] in _BULLETS:
            self._list = ("bullet", marker.group(1)[0], "")
        elif number is not None:
            self._list = ("number", str(int(number) + 1), suffix)
        elif letter is not None and letter not in "zZ":
            self._list = ("letter", chr(ord(letter) + 1), suffix)
        return i

    def _inline_marker(self, buf: str, i: int, suffix: str) -> int:
        """Start of the expected next inline list marker ending at ``i``, or -1."""
        expected = self._list
        if expected is None or expected[0] == "bullet" or expected[2] != suffix:
            return -1
        start = i - len(expected[1])
        if start <= self._text_start or buf[start:i] != expected[1]:
            return -1
        if not buf[start - 1].isspace():
            return -1
        return start

    def _on_paren(self, buf: str, i: int, final: bool) -> tuple[int, int]:
        n = len(buf)
        if i + 1 >= n and not final:
            return _NEED, -1
        if i + 1 < n and not buf[i + 1].isspace():
            return i + 1, -1
        if self._marker_end(buf, i + 1) >= 0:
            return i + 1, -1
        start = self._inline_marker(buf, i, ")")
        if start >= 0:
            return start, start
        return i + 1, -1

    def _on_clause(self, buf: str, i: int, final: bool) -> tuple[int, int]:
        """A ``,;:`` or dash while the first segment may still end at a clause."""
        n = len(buf)
        if i + 1 >= n:
            return (i + 1, -1) if final else (_NEED, -1)
        if not buf[i + 1].isspace():
            return i + 1, -1
        ch = buf[i]
        if ch == "-" and (i == 0 or not buf[i - 1].isspace()):
            return i + 1, -1
        threshold = self.first_clause_chars
        if threshold is None or self._index != 0 or self._text_start < 0:
            return i + 1, -1
        if i + 1 - self._text_start < max(threshold, 1):
            return i + 1, -1
        return i + 1, i + 1

    def _sentence_cut(self, cut: int) -> int:
        """Apply ``min_chars`` to a sentence boundary at ``cut``: return it or -1."""
        if self.min_chars and (self._index > 0 or self.merge_first):
            start = self._text_start
            if start >= 0 and cut - start < self.min_chars:
                return -1
        return cut

    def _on_terminator(self, buf: str, i: int, final: bool) -> tuple[int, int]:
        n = len(buf)
        e = i + 1
        if e + 1 < n and buf[e] == " " and buf[e + 1].isalnum():
            # The common shape, "x. Word", "x! word", "x? 42": the general path below
            # reduced to what can apply to it (no run, tag, ellipsis or opener).
            first = buf[i]
            c = buf[e + 1]
            spaced = self._rules.spaced_closers
            if spaced and c in spaced:
                pass  # the general path
            elif first == ".":
                if (
                    e - self._text_start > 9
                    and self._list is None
                    and (i == 0 or buf[i - 1] != " ")
                ):
                    if c.isupper() or (c.isalpha() and not c.islower()):
                        cls = "upper"
                    elif c.isdigit():
                        cls = "digit"
                    else:
                        return e, -1
                    decision = self._period_decision(buf, i, e + 1, cls, final)
                    if decision is None:
                        return _NEED, -1
                    return (e, self._sentence_cut(e)) if decision else (e, -1)
            elif first == "!" or first == "?":
                if c.isupper() or (c.isalpha() and not c.islower()) or c.isdigit():
                    return e, self._sentence_cut(e)
                if first == "?" and self._plain_word(buf, i):
                    return e, self._sentence_cut(e)
                return e, -1
        if e < n and buf[e] in _RUN_CHARS:
            run = _RUN.match(buf, i)
            e = run.end() if run is not None else e
        # Tags right after the terminator ("Welt.</lang> Ende") belong to the sentence.
        while e < n and buf[e] == "<":
            tag = _TAG.match(buf, e)
            if tag is None:
                if not final and n - e < _MAX_TAG and _TAG_PREFIX.match(buf, e) is not None:
                    return _NEED, -1
                break
            e = tag.end()
            more = _RUN.match(buf, e)
            if more is not None:
                e = more.end()
        if e >= n and not final:
            return _NEED, -1
        first = buf[i]
        if e == i + 1 and first == "?" and e < n and buf[e].isspace() and self._plain_word(buf, i):
            # Unambiguous: a question mark right after an ordinary word, followed by a
            # space, is released now. A period is not: "co. at", "complex. . . ." and
            # "Yahoo! in" need the next word.
            return e, self._sentence_cut(e)
        # A spaced ellipsis ". . ." continues at the next dot.
        if first == "." and e == i + 1 and e < n and buf[e] == " ":
            if i + 2 >= n and not final:
                return _NEED, -1
            if buf[i + 1 : i + 3] == " .":
                return i + 2, -1
        if e < n and not buf[e].isspace():
            return e, -1  # "3.14", "v1.2.3", "one.Two", "Jr.'s", "!“,"
        # List markers are decided by the space after them, before the next word.
        if first == "." and e - self._text_start <= 9 and self._marker_end(buf, e) >= 0:
            return e, -1  # "1. Open the settings", "a) ...", "1.) ..."
        if first == "." and self._list is not None:
            suffix = ".)" if buf.startswith(".)", i) else "."
            start = self._inline_marker(buf, i, suffix)
            if start >= 0:
                return start, start  # rescanned as the next segment's marker
        if e + 1 < n and buf[e] == " " and not buf[e + 1].isspace():
            we = e + 1  # the common case: one space, then the next word
        else:
            ws = _WS.match(buf, e)
            we = ws.end() if ws is not None else e
            if "\n" in buf[e:we]:
                return e, e  # a line end: the newline is a boundary anyway
            if we - e > _MAX_WS_WAIT:
                return e, self._sentence_cut(e)  # do not wait for the end of a blank run
        spaced = self._rules.spaced_closers
        if spaced and we < n and buf[we] in spaced and we - e <= 1:
            e = we + 1  # French "! »": the closing guillemet after a space
            ws = _WS.match(buf, e)
            we = ws.end() if ws is not None else e
            if "\n" in buf[e:we]:
                return e, e
            if we - e > _MAX_WS_WAIT:
                return e, self._sentence_cut(e)
        if we >= n:
            if final:
                return we, -1  # the end of the reply ends the segment anyway
            return _NEED, -1
        run_text = buf[i:e] if e > i + 1 else first
        k = we
        while k < n and k - we < 8:
            ch = buf[k]
            if ch in _OPENERS or (ch == " " and buf[k - 1] in "«‹"):
                k += 1
            elif ch == "<":  # "this. <spell>A</spell>": look past the tag
                tag = _TAG.match(buf, k)
                if tag is None:
                    if not final and n - k < _MAX_TAG and _TAG_PREFIX.match(buf, k) is not None:
                        return _NEED, -1
                    break
                k = tag.end()
                ws = _WS.match(buf, k)
                k = ws.end() if ws is not None else k
            else:
                break
        if k >= n:
            if not final:
                return _NEED, -1
            return k, -1
        c = buf[k]
        if c.isupper() or (c.isalpha() and not c.islower()):
            cls = "upper"
        elif c.isdigit():
            cls = "digit"
        else:
            return e, -1  # lowercase ("Yahoo! in", "e.g. this") or punctuation
        dots = run_text.count(".") + 3 * run_text.count("…")
        if first not in ".…":
            return e, self._sentence_cut(e)
        if first == "…" or (dots == 3 and run_text.startswith("...")):
            # An unspaced three-dot ellipsis before a capital ends the sentence.
            return (e, self._sentence_cut(e)) if cls == "upper" else (e, -1)
        chain = self._spaced_chain(buf, i) if buf[i - 1 : i] == " " else None
        if chain:
            length, attached = chain
            if cls != "upper" or length == 3:
                return e, -1  # ". . ." mid-sentence
            if attached and length == 4:
                # "compounds. . . . The": the period ends the sentence, the ellipsis
                # opens the next one.
                return e, self._sentence_cut(i - 5)
            return e, self._sentence_cut(e)
        decision = self._period_decision(buf, i, k, cls, final)
        if decision is None:
            return _NEED, -1
        return (e, self._sentence_cut(e)) if decision else (e, -1)

    def _plain_word(self, buf: str, i: int, shortest: int = 2) -> bool:
        """Is the token before ``i`` an ordinary word that cannot be an abbreviation?"""
        lo = i - _BACK if i > _BACK else 0
        start = buf.rfind(" ", lo, i) + 1 or lo
        word = buf[start:i]
        if not word.isalpha():  # (the common case: no other whitespace, nothing to strip)
            _, token = self._prev_token(buf, i)
            word = token.lstrip(_WORD_LEAD)
            if not word.isalpha():
                return False
        if len(word) < shortest:
            return False
        lower = word.lower()
        rules = self._rules
        return lower not in rules.abbreviations and lower not in rules.prepositive

    def _unit_after_number(self, lower: str, buf: str, start: int) -> bool:
        """Is the title-like word at ``start`` a unit after a number ("200 ms.")?"""
        return (
            lower in self._rules.number_units
            and start >= 2
            and buf[start - 1] == " "
            and buf[start - 2].isdigit()
        )

    @staticmethod
    def _spaced_chain(buf: str, i: int) -> tuple[int, bool] | None:
        """Length of the ". . ." chain ending at ``i``, and whether it starts on a word."""
        length = 1
        j = i
        while length < 6 and j >= 2 and buf[j - 1] == " " and buf[j - 2] == ".":
            j -= 2
            length += 1
        if length == 1:
            return None
        attached = j > 0 and not buf[j - 1].isspace()
        return length, attached

    def _prev_token(self, buf: str, end: int) -> tuple[int, str]:
        """The whitespace-delimited token ending at ``end`` and where it starts."""
        lo = end - _BACK if end > _BACK else 0
        start = buf.rfind(" ", lo, end) + 1 or lo
        token = buf[start:end]
        if "\n" in token or "\t" in token:
            # Other whitespace is rare: look for it only inside the (short) token.
            start = max(start, buf.rfind("\n", start, end) + 1, buf.rfind("\t", start, end) + 1)
            token = buf[start:end]
        return start, token

    def _period_decision(self, buf: str, i: int, k: int, cls: str, final: bool) -> bool | None:
        """Does the period at ``i`` end a sentence? ``k`` is the next word's start."""
        rules = self._rules
        lo = i - _BACK if i > _BACK else 0
        start = buf.rfind(" ", lo, i) + 1 or lo
        word = buf[start:i]
        if word.isalpha():
            # The common case, a plain word (so no other whitespace and nothing to strip)
            # that cannot combine with the token before it ("z. B."): only the
            # abbreviation lists matter.
            size = len(word)
            if size > 3 or (
                size > 1
                and (start <= 1 or (buf[start - 2] != "." and buf[start - 2] not in _PREV_STRIP))
            ):
                lower = word.lower()
                if lower in rules.prepositive and not self._unit_after_number(lower, buf, start):
                    return False
                is_abbreviation = lower in rules.abbreviations
                if cls == "digit":
                    return not is_abbreviation
                if not is_abbreviation or not rules.abbreviation_needs_starter:
                    return True
        elif "\n" in word or "\t" in word:
            start, word = self._prev_token(buf, i)  # (other whitespace is rare)
        word = word.lstrip(_WORD_LEAD)
        if not word:
            return cls == "upper"
        lower = word.lower()
        alpha = word.isalpha()
        if alpha and len(word) > 3:
            # The common case, an ordinary word: only the abbreviation lists matter.
            if lower in rules.prepositive and not self._unit_after_number(lower, buf, start):
                return False
            if cls == "digit":
                return lower not in rules.abbreviations
            if lower not in rules.abbreviations or not rules.abbreviation_needs_starter:
                return True
        combined = lower
        prev_lower = ""
        # A word of letters is no number; and the token before it can only combine
        # with it ("z. B.") if that token ends with a period.
        is_number = not alpha and _NUMBER.match(word) is not None
        if (
            start > 1
            and (len(word) <= 3 or is_number)
            and (not alpha or buf[start - 2] == "." or buf[start - 2] in _PREV_STRIP)
        ):
            # "z. B.", "u. Ä.": an abbreviation written with an inner space; and the
            # word before a number ("am 3. Oktober").
            _, prev = self._prev_token(buf, start - 1)
            prev_lower = prev.lower().strip(_PREV_STRIP)
            if prev_lower.endswith(".") and 2 <= len(prev_lower) <= 4:
                combined = prev_lower + lower
        if (
            lower in rules.prepositive or combined in rules.prepositive
        ) and not self._unit_after_number(lower, buf, start):
            return False
        is_abbreviation = lower in rules.abbreviations or combined in rules.abbreviations
        is_initial = len(word) == 1 and word.isalpha()
        is_multi = "." in word and _MULTI_PERIOD.match(word) is not None
        if cls == "digit":
            return not (is_number or is_abbreviation or is_initial or is_multi) and (
                word[-1].isalpha()
            )
        needs_starter = (
            is_multi or is_initial or (is_abbreviation and rules.abbreviation_needs_starter)
        )
        check_ordinal = is_number and rules.ordinal_numbers
        if not (needs_starter or check_ordinal):
            return True
        next_word = _WORD.match(buf, k)
        if next_word is None:
            return not check_ordinal and not needs_starter
        following = next_word.group().lower()
        if next_word.end() >= len(buf) and not final and next_word.end() - k < _MAX_WORD:
            # The word may go on; wait, unless no word in the list starts like this.
            key = "ordinal_after" if check_ordinal else "starters"
            if following in self._prefixes[key]:
                return None
        if check_ordinal:
            return following not in rules.ordinal_after and (
                prev_lower.rstrip(".") not in rules.ordinal_before
            )
        return following in rules.starters

    # -- code blocks -----------------------------------------------------------------

    def _scan_code(self, out: list[Segment], final: bool) -> bool:
        """Advance inside a fenced code block; True once it has been emitted."""
        assert self._code is not None
        fence_char, fence_len = self._code
        buf = self._buf
        n = len(buf)
        while True:
            if self._code_line < 0:
                newline = buf.find("\n", self._code_seen)
                if newline < 0:
                    self._work += n - self._code_seen
                    self._code_seen = n
                    return False
                self._code_line = newline + 1
                self._code_seen = newline + 1
                continue
            line = self._code_line
            newline = buf.find("\n", max(line, self._code_seen))
            if newline < 0:
                self._work += n - max(line, self._code_seen)
                self._code_seen = n
                if not final:
                    return False
            line_end = newline if newline >= 0 else n
            self._work += line_end - line + 1
            close = _CLOSE_FENCE.fullmatch(buf, line, line_end)
            if close is not None:
                fence = close.group(1)
                if fence[0] == fence_char and len(fence) >= fence_len:
                    self._cut(line_end, out, "code")
                    return True
            if newline < 0:
                return False
            self._code_line = newline + 1
            self._code_seen = newline + 1

    # -- cutting ---------------------------------------------------------------------

    def _in_atomic(self, index: int) -> int:
        """Start of the never-cut region containing ``index``, or -1."""
        for start, end in self._atomic:
            if start < index < end:
                return start
        return -1

    def _last_space(self, lo: int, hi: int) -> int:
        """Index of the last whitespace in ``buf[lo:hi]`` outside never-cut regions."""
        buf = self._buf
        while hi > lo:
            space = max(buf.rfind(" ", lo, hi), buf.rfind("\n", lo, hi), buf.rfind("\t", lo, hi))
            if space < lo or space < 0:
                return -1
            self._work += hi - space
            inside = self._in_atomic(space)
            if inside < 0:
                return space
            hi = inside
        return -1

    def _forced_cut(self, limit: int, i: int, final: bool) -> int:
        """Where to cut a segment longer than ``max_chars`` (-1: not yet)."""
        buf = self._buf
        start = self._text_start
        # Keyed by the segment's offset in the reply, so a cut needs not reset them.
        key = self._base + start
        if self._forced_start != key:
            hi = limit + 1
            if self._span_start >= 0:
                hi = min(hi, self._span_start)
            if self._pending_atomic >= 0:
                hi = min(hi, self._pending_atomic)
            if self._forced_blocked == (key, hi):
                return -1  # nothing changed since the last try
            self._work += hi - start
            floor = start + (limit - start) // 3
            best = -1
            for clause in _CLAUSE.finditer(buf, floor, hi):
                if self._in_atomic(clause.start()) < 0:
                    best = clause.end()
            if best > start:
                return best
            space = self._last_space(start + 1, hi)
            if space > start:
                return space
            if self._span_start >= 0 or self._pending_atomic >= 0:
                self._forced_blocked = (key, hi)
                return -1
            # One word longer than the limit: cut at the first space after it. The text
            # before the limit cannot change, so later pushes only search new text.
            self._forced_start = key
            self._forced_from = hi
        stop = i  # never inside an open span or a tag still arriving
        if self._span_start >= 0:
            stop = min(stop, self._span_start)
        if self._pending_atomic >= 0:
            stop = min(stop, self._pending_atomic)
        while True:
            after = _WS_CHAR.search(buf, self._forced_from, stop)
            self._work += (after.start() if after is not None else stop) - self._forced_from
            if after is None:
                self._forced_from = max(self._forced_from, stop)
                return -1
            inside = self._in_atomic(after.start())
            if inside < 0:
                return after.start()
            self._forced_from = after.start() + 1

    def _cut(self, cut: int, out: list[Segment], kind: SegmentKind) -> int:
        """Emit ``buf[:cut]`` as a segment unless it is blank; return how much was cut."""
        if cut <= 0:
            return 0
        buf = self._buf
        text = buf[:cut].strip()
        if not text:
            return 0  # whitespace stays with the next segment: spans remain contiguous
        speech: str | None = None
        if kind == "code":
            speech = _code_body(text) if self.speak_code else ""
            self._code = None
            self._fast_re = self._fast
            self._code_line = -1
        elif self.normalize is not None:
            spoken = self.normalize(text)
            if spoken != text:
                speech = spoken
        base = self._base
        out.append(Segment(self._index, base, base + cut, text, kind, speech))
        self._index += 1
        self._buf = rest = buf[cut:]
        self._base = base + cut
        pos = self._pos
        if pos >= 0:  # (caught up stays caught up)
            pos = pos - cut if pos > cut else 0
            self._pos = pos if pos < len(rest) else _CAUGHT_UP
        self._text_start = self._fast_until = -1
        self._list = None
        if self._atomic:
            self._atomic = [(s - cut, e - cut) for s, e in self._atomic if e > cut]
        if self._span_start >= 0:
            self._span_start -= cut
        if self._pending_atomic >= 0:
            self._pending_atomic = max(self._pending_atomic - cut, 0)
        self._lead = 0
        return cut


def _prefixes(words: frozenset[str]) -> frozenset[str]:
    """Every non-empty prefix of every word (to stop waiting for a word early)."""
    return frozenset(word[:end] for word in words for end in range(1, len(word) + 1))


def _code_body(block: str) -> str:
    """The code inside a fenced block, without its fence lines."""
    lines = block.split("\n")
    if lines and _FENCE.match(lines[0].strip()):
        lines = lines[1:]
    if lines and _FENCE.fullmatch(lines[-1].strip()):
        lines = lines[:-1]
    return "\n".join(lines).strip()
