"""The :class:`Segment` value type: one piece of the reply handed to the TTS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

__all__ = ["Segment", "SegmentKind"]

#: What a segment holds: ordinary prose, or a fenced code block a host may choose not to speak.
SegmentKind: TypeAlias = Literal["text", "code"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A span of the reply that is synthesized as one TTS request.

    Offsets refer to the *display* text: the concatenation of every delta pushed into
    the segmenter, so ``reply[segment.start:segment.end].strip() == segment.text``.

    Attributes:
        index: Position of the segment in the reply: 0, 1, 2, ...
        start: Offset of the first character of the span (inclusive).
        end: Offset just past the span (exclusive). The next segment starts here.
        text: The span with surrounding whitespace stripped; never empty.
        kind: ``"text"`` for prose, ``"code"`` for a fenced code block.
        speech: The text to speak when it differs from ``text`` (markup removed, say);
            ``None`` means "speak ``text``". An empty string means "do not speak".
    """

    index: int
    start: int
    end: int
    text: str
    kind: SegmentKind = "text"
    speech: str | None = None

    @property
    def speech_text(self) -> str:
        """The text sent to the TTS: :attr:`speech` if set, else :attr:`text`."""
        return self.text if self.speech is None else self.speech

    def to_dict(self) -> dict[str, Any]:
        """Return the segment as a JSON-serializable dict."""
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "speech": self.speech_text,
        }
