"""The policy knobs: merge short sentences, end the first segment early, cap the length."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .buffer import Buffer
from .chars import CLAUSE_MARK, SPACE
from .state import Boundary, Decision, ScanState

__all__ = ["Policy", "check_count", "on_clause"]


def check_count(name: str, value: object, *, allow_none: bool, minimum: int = 0) -> None:
    """Raise a clear error unless ``value`` is an int of at least ``minimum`` (or None)."""
    if type(value) is int and value >= minimum:
        return  # the common case, decided first: every segmenter checks four counts
    if value is None:
        if allow_none:
            return
        raise TypeError(f"{name} must be an int, not None")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def on_clause(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A ``,;:`` or dash while the first segment may still end at a clause."""
    text = buffer.text
    if i + 1 >= len(text):
        return Decision(i + 1) if final else None
    if not text[i + 1].isspace():
        return Decision(i + 1)
    if text[i] == "-" and (i == buffer.start or not text[i - 1].isspace()):
        return Decision(i + 1)
    threshold = st.first_clause_chars
    if threshold is None or st.index != 0 or st.text_start is None:
        return Decision(i + 1)
    if i + 1 - st.text_start < max(threshold, 1):
        return Decision(i + 1)
    return Decision(i + 1, i + 1, Boundary.CLAUSE)


@dataclass(frozen=True, slots=True)
class Policy:
    """How long segments are, beyond where sentences end.

    Attributes:
        max_chars: Cut a segment growing past this many characters (None: no cap).
        min_chars: Merge a sentence shorter than this with the next one (0: never).
        merge_first: Merge a short first sentence too.
        first_max_chars: Cut the first segment like ``max_chars`` at this length
            (None: the first segment has the others' cap).
    """

    max_chars: int | None
    min_chars: int
    merge_first: bool
    first_max_chars: int | None = None

    limit: int = field(init=False)  #: ``max_chars`` as a number (huge when there is no cap)
    first_limit: int = field(init=False)  #: the first segment's cap, as a number

    def __post_init__(self) -> None:
        limit = self.max_chars if self.max_chars is not None else 1 << 62
        object.__setattr__(self, "limit", limit)
        first = self.first_max_chars
        object.__setattr__(self, "first_limit", limit if first is None else min(first, limit))

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def shared(
        max_chars: int | None, min_chars: int, merge_first: bool, first_max_chars: int | None
    ) -> Policy:
        """The policy of these settings, made once and shared (it is immutable).

        A frozen dataclass is slow to build (about 0.7 µs, more than the rest of a
        segmenter), and a server's segmenters use one or two sets of settings.
        """
        return Policy(max_chars, min_chars, merge_first, first_max_chars)

    def accepts(self, st: ScanState, decision: Decision) -> bool:
        """Does the segment end at ``decision.cut``? Only short sentences are merged."""
        if decision.boundary is not Boundary.SENTENCE or not self.min_chars:
            return True
        if st.index == 0 and not self.merge_first:
            return True
        start = st.text_start
        assert decision.cut is not None
        return start is None or decision.cut - start >= self.min_chars

    def forced_cut(
        self, st: ScanState, buffer: Buffer, candidates: re.Pattern[str], pos: int, length: int
    ) -> int:
        """Where to cut a segment longer than its cap, ``length`` characters (-1: not yet).

        No candidate lies between the scan position ``pos`` and the limit. The cut is at the
        last clause mark in the last two thirds before the limit, else at the last
        space, else (one word longer than the limit) at the first space after it, if no
        candidate (not decided yet) comes first; never inside a never-cut region.
        Each call searches only text no earlier call has searched, or a bounded window.
        """
        text = buffer.text
        start = st.text_start
        assert start is not None
        limit = start + length
        key = buffer.base + start  # a reply offset: no need to reset it at each cut
        if st.forced_key != key:
            hi = limit + 1
            if st.span_start is not None:
                hi = min(hi, st.span_start)
            if st.pending is not None:
                hi = min(hi, st.pending)
            if st.blocked == (key, hi):
                return -1  # nothing changed since the last try
            floor = start + (limit - start) // 3
            best = -1
            for clause in CLAUSE_MARK.finditer(text, floor, hi):
                if buffer.region_start(clause.start()) < 0:
                    best = clause.end()
            if best > start:
                return best
            space = buffer.last_space(start + 1, hi)
            if space > start:
                return space
            if st.span_start is not None or st.pending is not None:
                st.blocked = (key, hi)
                return -1
            # One word longer than the limit: cut at the first space after it. The text
            # before the limit cannot change, so later pushes only search new text.
            st.forced_key = key
            st.forced_from = hi
        stop = len(text)  # never inside an open span or a tag still arriving
        if st.span_start is not None:
            stop = min(stop, st.span_start)
        if st.pending is not None:
            stop = min(stop, st.pending)
        while True:
            after = SPACE.search(text, st.forced_from, stop)
            space = after.start() if after is not None else stop
            # Nor after a candidate the scan has not decided yet.
            candidate = candidates.search(text, max(pos, limit + 1), space)
            if candidate is not None:
                st.forced_from = candidate.start()
                return -1
            if after is None:
                st.forced_from = max(st.forced_from, stop)
                return -1
            if buffer.region_start(space) < 0:
                return space
            st.forced_from = space + 1
