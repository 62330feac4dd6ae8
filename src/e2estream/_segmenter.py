"""IncrementalSegmenter: split streamed text into segments a TTS speaks well.

(Bootstrap version: sentence ends followed by whitespace, and paragraph breaks.)
"""

from __future__ import annotations

from ._segment import Segment

__all__ = ["IncrementalSegmenter"]

_ENDS = frozenset(".!?…。！？")


class IncrementalSegmenter:
    """Split text pushed in arbitrary pieces into :class:`Segment` objects.

    Args:
        language: Language code of the text (``"en"``, ``"de"``, ...).
        max_chars: Cut a segment that grows longer than this at a word boundary.
    """

    def __init__(self, language: str = "en", *, max_chars: int = 400) -> None:
        self.language = language
        self.max_chars = max_chars
        self._buffer = ""
        self._base = 0  # offset of _buffer[0] in the whole text
        self._index = 0

    def push(self, text: str) -> list[Segment]:
        """Add ``text`` and return the segments it completes."""
        self._buffer += text
        out: list[Segment] = []
        i = 0
        while i < len(self._buffer) - 1:
            ch, nxt = self._buffer[i], self._buffer[i + 1]
            if (ch in _ENDS and nxt.isspace()) or (ch == "\n" and nxt == "\n"):
                self._emit(i + 1, out)
                i = 0
                continue
            i += 1
        return out

    def flush(self) -> list[Segment]:
        """Return the rest of the text as segments at end of input."""
        out: list[Segment] = []
        self._emit(len(self._buffer), out)
        return out

    def _emit(self, cut: int, out: list[Segment]) -> None:
        piece = self._buffer[:cut]
        if piece.strip():
            out.append(Segment(self._index, self._base, self._base + cut, piece.strip()))
            self._index += 1
            self._buffer = self._buffer[cut:]
            self._base += cut
