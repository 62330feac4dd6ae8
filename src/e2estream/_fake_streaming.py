"""``FakeStreamingSynthesizer``: a streaming-input TTS service simulated in process."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel

from ._audio import AudioFormat, TextTiming
from ._exceptions import SynthesisError
from ._streaming import SegmentEnd

__all__ = ["FakeStreamingStatistics", "FakeStreamingSynthesizer"]

_WORD = re.compile(r"\S+")


@dataclass
class FakeStreamingStatistics:
    """What a :class:`FakeStreamingSynthesizer` was asked to do, for assertions.

    Attributes:
        log: Every call in order: ``"connect"``, ``"send:<text>"``, ``"end"``,
            ``"cancel"``, ``"close"``.
        connections: Connections opened.
        open_connections: Connections open right now (0 once every reply is over).
    """

    log: list[str] = field(default_factory=list)
    connections: int = 0
    open_connections: int = 0

    @property
    def sent(self) -> list[str]:
        """The texts sent, in order, over every connection."""
        return [entry[5:] for entry in self.log if entry.startswith("send:")]


class FakeStreamingSynthesizer:
    """A streaming-input TTS (like ElevenLabs or Cartesia over WebSocket), in process.

    One connection per reply. The service speaks the segments in the order they were
    sent, each one starting when it has been sent and the previous one is complete: its
    first audio after ``ttfb`` seconds (``segment_latency`` for segments after the first
    on a connection), then chunks of ``chunk_duration`` seconds every
    ``chunk_duration * realtime_factor`` seconds. A segment's audio lasts
    ``len(text) / chars_per_second`` seconds (trailing spaces not counted).

    Args:
        ttfb: Seconds to the first audio of a connection.
        segment_latency: Seconds to the first audio of each later segment (default:
            ``ttfb``).
        realtime_factor: Seconds of work per second of audio.
        chars_per_second: Speaking rate that sets each segment's audio length.
        chunk_duration: Seconds of audio per chunk.
        timings: Yield a :class:`~e2estream.TextTiming` per word (connection
            coordinates, as the protocol asks); sets ``provides_timings``.
        fail_connects: Refuse this many connection attempts first.
        drop_when: A predicate on a segment's text: the connection breaks after
            ``drop_after_chunks`` chunks of that segment, the first time that text is
            spoken (a transient fault: sent again, it is spoken whole).
        drop_after_chunks: With ``drop_when``.
        idle_timeout: Close the connection (its ``receive()`` ends) after this many
            seconds with nothing to speak, as real services do. None: never.
        audio_format: PCM format (``pcm_s16le`` only).

    Raises:
        ValueError: For negative times, a non-positive rate or a non-PCM format.
    """

    def __init__(
        self,
        *,
        ttfb: float = 0.15,
        segment_latency: float | None = None,
        realtime_factor: float = 0.3,
        chars_per_second: float = 15.0,
        chunk_duration: float = 0.1,
        timings: bool = False,
        fail_connects: int = 0,
        drop_when: Callable[[str], bool] | None = None,
        drop_after_chunks: int = 0,
        idle_timeout: float | None = None,
        audio_format: AudioFormat | None = None,
    ) -> None:
        if ttfb < 0 or realtime_factor < 0 or (segment_latency or 0) < 0:
            raise ValueError("ttfb, segment_latency and realtime_factor must not be negative")
        if chars_per_second <= 0 or chunk_duration <= 0:
            raise ValueError("chars_per_second and chunk_duration must be positive")
        audio_format = audio_format or AudioFormat()
        if audio_format.encoding != "pcm_s16le":
            raise ValueError("FakeStreamingSynthesizer produces pcm_s16le only")
        self.ttfb = ttfb
        self.segment_latency = ttfb if segment_latency is None else segment_latency
        self.realtime_factor = realtime_factor
        self.chars_per_second = chars_per_second
        self.chunk_duration = chunk_duration
        self.provides_timings = timings
        self.fail_connects = fail_connects
        self.drop_when = drop_when
        self.drop_after_chunks = drop_after_chunks
        self.idle_timeout = idle_timeout
        self.statistics = FakeStreamingStatistics()
        self.dropped: set[str] = set()  # texts whose connection was dropped already
        self._format = audio_format

    @property
    def audio_format(self) -> AudioFormat:
        """The PCM format of the audio produced."""
        return self._format

    def audio_duration(self, text: str) -> float:
        """Seconds of audio this service produces for one segment's ``text``."""
        return len(text.rstrip()) / self.chars_per_second

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_FakeConnection]:
        """Open one simulated connection."""
        stats = self.statistics
        stats.log.append("connect")
        await anyio.lowlevel.checkpoint()
        if self.fail_connects > 0:
            self.fail_connects -= 1
            raise SynthesisError("FakeStreamingSynthesizer: connection refused (scripted)")
        stats.connections += 1
        stats.open_connections += 1
        try:
            yield _FakeConnection(self)
        finally:
            stats.log.append("close")
            stats.open_connections -= 1


class _FakeConnection:
    def __init__(self, service: FakeStreamingSynthesizer) -> None:
        self._service = service
        self._queue: deque[str] = deque()
        self._ended = False
        self._cancelled = False
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def send_segment(self, text: str) -> None:
        await anyio.lowlevel.checkpoint()
        self._service.statistics.log.append(f"send:{text}")
        self._queue.append(text)
        self._notify()

    async def end_input(self) -> None:
        await anyio.lowlevel.checkpoint()
        self._service.statistics.log.append("end")
        self._ended = True
        self._notify()

    async def cancel(self) -> None:
        await anyio.lowlevel.checkpoint()
        self._service.statistics.log.append("cancel")
        self._cancelled = True
        self._queue.clear()
        self._notify()

    async def receive(self) -> AsyncGenerator[bytes | TextTiming | SegmentEnd, None]:
        service = self._service
        rate = service.audio_format.sample_rate
        frame = service.audio_format.frame_size or 2
        chunk_frames = max(1, round(service.chunk_duration * rate))
        chars = 0  # characters of the segments spoken so far on this connection
        seconds = 0.0  # audio produced so far on this connection
        first = True
        while not self._cancelled:
            if not self._queue:
                if self._ended:
                    return
                with anyio.move_on_after(service.idle_timeout or math.inf) as idle:
                    await self._changed.wait()
                if idle.cancelled_caught:
                    service.statistics.log.append("idle close")
                    return
                continue
            text = self._queue.popleft()
            total = max(1, round(service.audio_duration(text) * rate))
            drops = (
                service.drop_when is not None
                and service.drop_when(text)
                and text not in service.dropped
            )
            if drops:
                service.dropped.add(text)
            words = (
                [
                    TextTiming(
                        chars + start,
                        chars + start + len(word),
                        seconds + start / service.chars_per_second,
                        seconds + (start + len(word)) / service.chars_per_second,
                    )
                    for start, word in _words(text)
                ]
                if service.provides_timings
                else []
            )
            begin = anyio.current_time()
            latency = service.ttfb if first else service.segment_latency
            first = False
            done = 0
            index = 0
            while done < total and not self._cancelled:
                if drops and index == service.drop_after_chunks:
                    raise SynthesisError("FakeStreamingSynthesizer: connection dropped (scripted)")
                due = begin + latency + index * service.chunk_duration * service.realtime_factor
                await anyio.sleep_until(due)
                frames = min(chunk_frames, total - done)
                end_time = seconds + (done + frames) / rate
                while words and words[0].start < end_time:
                    yield words.pop(0)
                yield b"\0\1" * (frames * frame // 2)
                done += frames
                index += 1
            seconds += total / rate
            chars += len(text)
            if not self._cancelled:
                yield SegmentEnd()


def _words(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group()) for match in _WORD.finditer(text)]
