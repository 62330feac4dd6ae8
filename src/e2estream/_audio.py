"""Audio value types and the :class:`Synthesizer` protocol every TTS backend satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from ._segment import Segment

__all__ = ["AudioChunk", "AudioEncoding", "AudioFormat", "Synthesizer", "TextTiming"]

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
class TextTiming:
    """When a piece of a segment's speech text is heard in that segment's audio.

    Backends that know it (from word or character alignment) yield these objects among
    the audio bytes of :meth:`Synthesizer.synthesize`; the pipeline uses them to tell
    exactly what the listener heard when a reply is interrupted. A timing may cover a
    word or a single character; timings of one segment come in order of ``start``.

    Attributes:
        char_start: Offset of the first character in the segment's ``speech_text``.
        char_end: Offset just past the last character (``char_end > char_start``).
        start: Seconds from the start of the *segment's* audio at which it is heard.
            Backends whose service reports times per audio chunk add the chunk's own
            position, so times always count from the segment's first sample.
        end: Seconds at which it ends, or None when the backend does not say.

    Raises:
        ValueError: For an empty or negative character span, a negative time, or an
            ``end`` before ``start``.
    """

    char_start: int
    char_end: int
    start: float
    end: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.char_start < self.char_end:
            raise ValueError(
                f"TextTiming needs 0 <= char_start < char_end, got {self.char_start}, "
                f"{self.char_end}"
            )
        if not self.start >= 0:
            raise ValueError(f"TextTiming.start must be >= 0 seconds, got {self.start}")
        if self.end is not None and not self.end >= self.start:
            raise ValueError(f"TextTiming.end ({self.end}) is before its start ({self.start})")

    def to_dict(self) -> dict[str, object]:
        """Return the timing as a JSON-serializable dict."""
        return {
            "char_start": self.char_start,
            "char_end": self.char_end,
            "start": self.start,
            "end": self.end,
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
        timings: :class:`TextTiming` objects the backend delivered with this audio
            (empty for backends without timings).
    """

    segment: Segment
    data: bytes
    format: AudioFormat
    offset: int = 0
    final: bool = False
    error: BaseException | None = None
    timings: tuple[TextTiming, ...] = ()

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

    Optional members a backend may declare (read with ``getattr``, so plain backends
    need none of them):

    * ``provides_timings = True``: ``synthesize`` also yields :class:`TextTiming`
      objects among the bytes, saying when each word (or character) of the text is
      heard; the spoken transcript of an interrupted reply is then exact.
    * ``compute_bound = True``: the engine runs on this machine's CPU (eSpeak, Piper),
      so synthesizing two segments at once only slows the first one down; the pipeline
      then starts the next segment only once the head segment has produced audio.

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

    def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        """Return an async iterator of the audio bytes for ``text``.

        Backends with ``provides_timings = True`` also yield :class:`TextTiming` items.
        """
        ...
