"""The events of a reply stream, and their JSON form for transports.

Every event is a frozen dataclass with a ``type`` string and a ``to_dict()`` that
``json.dumps`` accepts, so a host forwards an event in one line::

    await websocket.send_text(json.dumps(event.to_dict()))

To send audio as binary frames instead of base64 text, send each audio event's
metadata first (so the client knows which segment the bytes belong to), then its bytes::

    if isinstance(event, AudioEvent):
        await websocket.send_json(event.to_dict(include_data=False))
        await websocket.send_bytes(event.data)
    else:
        await websocket.send_json(event.to_dict())
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

from ._audio import AudioFormat, TextTiming
from ._segment import Segment
from ._spoken import SpokenText

__all__ = [
    "AudioEvent",
    "DoneEvent",
    "ErrorEvent",
    "Event",
    "ReplyMetrics",
    "SegmentDoneEvent",
    "SegmentEvent",
    "StallEvent",
    "TokenEvent",
]


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """A text delta from the LLM, forwarded as soon as it arrives.

    Attributes:
        text: The delta, exactly as the LLM produced it.
        offset: Position of the delta's first character in the reply text.
    """

    type: ClassVar[Literal["token"]] = "token"
    text: str
    offset: int

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict."""
        return {"type": self.type, "text": self.text, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class SegmentEvent:
    """A segment of the reply is complete and has been handed to the TTS.

    Attributes:
        segment: The segment, with its span in the reply text and the text to speak.
    """

    type: ClassVar[Literal["segment"]] = "segment"
    segment: Segment

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict."""
        return {"type": self.type, **self.segment.to_dict()}


@dataclass(frozen=True, slots=True)
class AudioEvent:
    """A chunk of a segment's audio. Audio events arrive strictly in segment order.

    Attributes:
        segment_index: The segment this audio speaks.
        data: The audio bytes (whole frames for raw formats).
        format: The encoding of ``data``.
        offset: Byte offset of ``data`` within the segment's audio.
        reply_time: Seconds from the start of the reply's first audio to this chunk, in
            *audio* time (the segments' audio laid end to end; a stall does not move it).
            This is the scale of ``played`` in :meth:`~e2estream.ReplyStream.interrupt`.
            None for compressed formats.
        timings: Word or character timings the backend gave with this audio (offsets into
            the segment's ``speech_text``, seconds into the segment's audio); empty for
            backends without timings.
    """

    type: ClassVar[Literal["audio"]] = "audio"
    segment_index: int
    data: bytes = field(repr=False)
    format: AudioFormat
    offset: int = 0
    reply_time: float | None = None
    timings: tuple[TextTiming, ...] = ()

    @property
    def start_time(self) -> float | None:
        """Seconds into the segment's audio where this chunk starts (raw formats only)."""
        return self.format.duration(self.offset)

    @property
    def duration(self) -> float | None:
        """Seconds of audio in this chunk (raw formats only)."""
        return self.format.duration(len(self.data))

    def to_dict(self, *, include_data: bool = True) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict.

        Args:
            include_data: Put the audio in the dict as base64 (``"data"``). Pass False
                to send only the metadata as JSON and the bytes as a binary frame.
        """
        out: dict[str, Any] = {
            "type": self.type,
            "segment_index": self.segment_index,
            "offset": self.offset,
            "size": len(self.data),
            "format": self.format.to_dict(),
            "start_time": self.start_time,
            "duration": self.duration,
            "reply_time": self.reply_time,
        }
        if self.timings:
            out["timings"] = [timing.to_dict() for timing in self.timings]
        if include_data:
            out["data"] = base64.b64encode(self.data).decode("ascii")
        return out


@dataclass(frozen=True, slots=True)
class SegmentDoneEvent:
    """All audio of a segment has been delivered (or its synthesis failed).

    Exactly one arrives per :class:`SegmentEvent`, after that segment's last
    :class:`AudioEvent` (and after its :class:`ErrorEvent`, if it failed).

    Attributes:
        segment_index: The segment that is complete.
        audio_bytes: Bytes of audio delivered for the segment.
        audio_duration: Seconds of audio delivered (None for compressed formats).
        failed: True if the segment's synthesis raised.
        timings: Timings the backend gave after the segment's last audio chunk (most
            come on the :class:`AudioEvent` they belong to).
        spoken_by: The name of the backend that produced the segment's audio, when the
            synthesizer chooses among several (:class:`~e2estream.FallbackSynthesizer`);
            None for a single backend, and when no backend produced audio.
    """

    type: ClassVar[Literal["segment_done"]] = "segment_done"
    segment_index: int
    audio_bytes: int
    audio_duration: float | None
    failed: bool = False
    timings: tuple[TextTiming, ...] = ()
    spoken_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict."""
        return {
            "type": self.type,
            "segment_index": self.segment_index,
            "audio_bytes": self.audio_bytes,
            "audio_duration": self.audio_duration,
            "failed": self.failed,
            "timings": [timing.to_dict() for timing in self.timings],
            "spoken_by": self.spoken_by,
        }


@dataclass(frozen=True, slots=True)
class StallEvent:
    """Playback ran dry: the listener has heard all audio delivered, and more is coming.

    The library models the host's player: it starts with the first
    :class:`AudioEvent` and plays in real time (or from the positions the host reports
    with :meth:`~e2estream.ReplyStream.report_played`). When that player has played
    everything delivered while the reply's audio is not complete (the TTS is slower
    than real time, or the LLM paused), this event comes, once per stall. The next
    :class:`AudioEvent` ends the stall; :attr:`ReplyMetrics.stall_time` adds up how long
    stalls lasted. A host may show it ("..."), log it, or switch to a faster voice.

    Attributes:
        reply_time: Seconds into the reply's audio where playback ran dry (all the
            audio delivered so far).
    """

    type: ClassVar[Literal["stall"]] = "stall"
    reply_time: float

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict."""
        return {"type": self.type, "reply_time": self.reply_time}


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """Something failed but the stream goes on (a segment's synthesis, say).

    Attributes:
        error: The exception.
        segment_index: The segment whose synthesis failed, or None for errors not tied
            to a segment.
    """

    type: ClassVar[Literal["error"]] = "error"
    error: BaseException
    segment_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict (the message, not the traceback)."""
        return {
            "type": self.type,
            "error": type(self.error).__name__,
            "message": str(self.error),
            "segment_index": self.segment_index,
        }


@dataclass(frozen=True, slots=True)
class ReplyMetrics:
    """Timings and counts of one reply. Times are seconds since the stream started.

    A time is None when that thing never happened (no audio in a reply whose every
    segment failed, say).

    Attributes:
        time_to_first_token: When the first :class:`TokenEvent` was delivered.
        time_to_first_segment: When the first :class:`SegmentEvent` was delivered.
        time_to_first_audio: When the first :class:`AudioEvent` was delivered.
        total_time: When the stream ended (the :class:`DoneEvent` was made).
        tokens: Number of text deltas.
        segments: Number of segments.
        audio_bytes: Bytes of audio delivered.
        audio_duration: Seconds of audio delivered (None for compressed formats).
        errors: Number of :class:`ErrorEvent` delivered.
        stall_time: Seconds a player starting with the first audio and playing in real
            time would have waited for audio (0.0: playback never ran dry).
        stalls: How many times that player ran dry.
    """

    time_to_first_token: float | None
    time_to_first_segment: float | None
    time_to_first_audio: float | None
    total_time: float
    tokens: int
    segments: int
    audio_bytes: int
    audio_duration: float | None
    errors: int
    stall_time: float = 0.0
    stalls: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-serializable dict."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class DoneEvent:
    """The last event of a reply.

    Attributes:
        text: The reply text (the token events concatenated): the whole reply, or what
            the LLM had written when an interruption cancelled it.
        metrics: Timings and counts of the reply.
        interrupted: True when :meth:`~e2estream.ReplyStream.interrupt` ended the reply.
        spoken: What the listener heard: for an interrupted reply, what ``interrupt()``
            returned; otherwise all the audio delivered, assumed played to the end. Store
            ``spoken.text`` as the assistant's turn of the conversation.
    """

    type: ClassVar[Literal["done"]] = "done"
    text: str
    metrics: ReplyMetrics
    interrupted: bool = False
    spoken: SpokenText | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-serializable dict."""
        return {
            "type": self.type,
            "text": self.text,
            "metrics": self.metrics.to_dict(),
            "interrupted": self.interrupted,
            "spoken": None if self.spoken is None else self.spoken.to_dict(),
        }


#: Any event of a reply stream.
Event: TypeAlias = (
    TokenEvent | SegmentEvent | AudioEvent | SegmentDoneEvent | StallEvent | ErrorEvent | DoneEvent
)
