"""Audio value types and the :class:`Synthesizer` protocol every TTS backend satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from ._segment import Segment

__all__ = ["AudioChunk", "AudioEncoding", "AudioFormat", "Synthesizer"]

#: Encodings a synthesizer may declare. ``pcm_*`` are raw little-endian samples,
#: interleaved when there are several channels; the others are compressed containers
#: passed through as the TTS produced them.
AudioEncoding: TypeAlias = Literal[
    "pcm_s16le", "pcm_f32le", "mulaw", "alaw", "mp3", "opus", "aac", "flac"
]

_BYTES_PER_SAMPLE: dict[str, int] = {"pcm_s16le": 2, "pcm_f32le": 4, "mulaw": 1, "alaw": 1}
_ENCODINGS = frozenset(AudioEncoding.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """How the bytes a synthesizer produces are to be interpreted.

    Args:
        encoding: One of :data:`AudioEncoding`; ``"pcm_s16le"`` by default.
        sample_rate: Samples per second per channel.
        channels: Number of interleaved channels.

    Raises:
        ValueError: For an unknown encoding or a non-positive rate or channel count.
    """

    encoding: AudioEncoding = "pcm_s16le"
    sample_rate: int = 24000
    channels: int = 1

    def __post_init__(self) -> None:
        if self.encoding not in _ENCODINGS:
            raise ValueError(
                f"unknown audio encoding {self.encoding!r}; expected one of {sorted(_ENCODINGS)}"
            )
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        if self.channels <= 0:
            raise ValueError(f"channels must be positive, got {self.channels}")

    @property
    def is_raw(self) -> bool:
        """True for uncompressed sample formats (PCM, mu-law, A-law)."""
        return self.encoding in _BYTES_PER_SAMPLE

    @property
    def frame_size(self) -> int | None:
        """Bytes per frame (one sample of every channel), or None for compressed formats."""
        width = _BYTES_PER_SAMPLE.get(self.encoding)
        return None if width is None else width * self.channels

    @property
    def bytes_per_second(self) -> int | None:
        """Bytes per second of audio, or None for compressed formats."""
        frame = self.frame_size
        return None if frame is None else frame * self.sample_rate

    def duration(self, nbytes: int) -> float | None:
        """Seconds of audio in ``nbytes`` bytes, or None for compressed formats."""
        rate = self.bytes_per_second
        return None if rate is None else nbytes / rate

    def to_dict(self) -> dict[str, object]:
        """Return the format as a JSON-serializable dict."""
        return {
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
        }


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of one segment's audio, as yielded by :class:`ProgressiveSynthesizer`.

    Every segment's audio ends with exactly one chunk whose :attr:`final` is true and
    whose :attr:`data` is empty; when the segment's synthesis failed, that chunk carries
    the exception in :attr:`error`. So ``chunk.final`` tells the consumer that the
    segment's audio is complete, and nothing about a failure is lost.

    Attributes:
        segment: The segment this audio speaks.
        data: The audio bytes (frame-aligned for raw formats); empty on the final chunk.
        format: The encoding of :attr:`data`.
        offset: Byte offset of :attr:`data` within the segment's audio.
        final: True on the last chunk of the segment.
        error: On the final chunk of a failed segment, the exception that ended it.
    """

    segment: Segment
    data: bytes
    format: AudioFormat
    offset: int = 0
    final: bool = False
    error: BaseException | None = None

    @property
    def start_time(self) -> float | None:
        """Seconds from the start of the segment's audio to this chunk (raw formats only)."""
        return self.format.duration(self.offset)

    @property
    def duration(self) -> float | None:
        """Seconds of audio in this chunk (raw formats only)."""
        return self.format.duration(len(self.data))


@runtime_checkable
class Synthesizer(Protocol):
    """What a TTS backend provides. Any object with these two members fits.

    ``synthesize`` is best written as an async generator method: it is called once per
    segment and should yield audio bytes as soon as the TTS produces them. It may raise;
    the pipeline turns the exception into an :class:`~e2estream.ErrorEvent` for that
    segment. The caller always closes the iterator (``aclose()``) when it stops early,
    so ``finally`` blocks run promptly.

    Example::

        class MyTTS:
            audio_format = AudioFormat("pcm_s16le", 24000, 1)

            async def synthesize(self, text: str) -> AsyncIterator[bytes]:
                async with client.stream("POST", URL, json={"text": text}) as response:
                    async for data in response.aiter_bytes():
                        yield data
    """

    @property
    def audio_format(self) -> AudioFormat:
        """The encoding of the bytes :meth:`synthesize` yields."""
        ...

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        """Return an async iterator of the audio bytes for ``text``."""
        ...
