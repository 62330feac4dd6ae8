"""The text not yet released, and the regions of it that must never be cut."""

from __future__ import annotations

__all__ = ["Buffer"]

# Released text is dropped once it is at least this long and at least half the buffer:
# a copy then costs at most what was released since the last one (amortized linear),
# and rarely enough that the indexes the scan holds seldom need to shift.
MIN_DROP = 1024


class Buffer:
    """The reply's text from the current segment on, with its offset in the reply.

    ``text[start:]`` is the current segment and what follows it. ``push()`` appends to
    :attr:`text`. A :meth:`cut` only moves ``start``; the released text before it is
    dropped by :meth:`compact` (when a scan starts) once it is at least as long as what
    is kept, so a giant delta cut into thousands of segments is copied a bounded number
    of times (linear time), and every position a scan holds stays valid while it runs.

    Attributes:
        text: The buffered text (released text first, then the current segment).
        start: Index in ``text`` where the current segment starts.
        base: Offset of ``text[0]`` in the reply.
        regions: ``(start, end)`` index ranges never cut (tags, inline code, spans).
    """

    __slots__ = ("base", "regions", "start", "text")

    def __init__(self) -> None:
        self.text = ""
        self.start = 0
        self.base = 0
        self.regions: list[tuple[int, int]] = []

    def compact(self) -> int:
        """Drop the released text if it is long enough; return the shift (0 if none).

        A non-zero shift means every index into :attr:`text` the caller holds must be
        lowered by it.
        """
        drop = self.start
        if drop < MIN_DROP or drop * 2 < len(self.text):
            return 0
        self.text = self.text[drop:]
        self.base += drop
        self.start = 0
        self.regions = [(lo - drop, hi - drop) for lo, hi in self.regions]
        return drop

    def cut(self, at: int) -> tuple[int, int]:
        """Release the current segment up to index ``at``; return its reply offsets."""
        start = self.start
        self.start = at
        if self.regions:
            self.regions = [region for region in self.regions if region[1] > at]
        return self.base + start, self.base + at

    def region_start(self, index: int) -> int:
        """Start of the never-cut region strictly containing ``index``, or -1."""
        for lo, hi in self.regions:
            if lo < index < hi:
                return lo
        return -1

    def last_space(self, lo: int, hi: int) -> int:
        """Index of the last whitespace in ``text[lo:hi]`` outside never-cut regions, or -1."""
        text = self.text
        while hi > lo:
            space = max(text.rfind(" ", lo, hi), text.rfind("\n", lo, hi), text.rfind("\t", lo, hi))
            if space < lo:
                return -1
            inside = self.region_start(space)
            if inside < 0:
                return space
            hi = inside
        return -1
