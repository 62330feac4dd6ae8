"""The events of one reply as its consumer takes them: the stages' events, then audio.

The token stage (and the stall watcher) queue their events in a :class:`Mailbox`; the
audio waits in the synthesizer's jobs. The consumer takes both itself, with no task in
between: audio used to be copied from the chunk stream to the mailbox by a task of its
own, which cost one more task switch for every audio chunk of every reply.

Order: queued events are always taken before audio. A segment's :class:`SegmentEvent` is
queued before the segment goes to the TTS, so it is in the mailbox before any of its
audio exists, and is taken first. Tokens never wait behind audio for the same reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import anyio

from ._audio import AudioChunk
from ._chunk_stream import AudioChunkStream
from ._events import AudioEvent, ErrorEvent, Event, SegmentDoneEvent
from ._mailbox import Mailbox
from ._speakers import SpeakerLog

__all__ = ["ReplyEvents"]


class ReplyEvents:
    """Merges a reply's queued events and its ordered audio for one consumer.

    Args:
        queued: The token stage's and stall watcher's events.
        chunks: The reply's ordered audio; it wakes the consumer through ``queued``.
        speakers: Which backend spoke each segment (for :class:`SegmentDoneEvent`).
        audio_ended: Called once when the audio has ended, with the exception that
            ended it (the text source's) or None.
    """

    def __init__(
        self,
        queued: Mailbox[Event],
        chunks: AudioChunkStream,
        speakers: SpeakerLog,
        audio_ended: Callable[[BaseException | None], None],
    ) -> None:
        self._queued = queued
        self._chunks = chunks
        self._speakers = speakers
        self._audio_ended = audio_ended
        self._follow: deque[Event] = deque()  # events made from a chunk after the first
        self._reply_bytes = 0  # bytes of the reply's audio before the current segment
        self._audio_open = True
        chunks._wake_with(queued.wake)

    def take_ready(self) -> Event | None:
        """The next event if one is ready, else None (then :meth:`wait`).

        None rather than an exception: the consumer finds nothing ready about once per
        event, and this is the per-event hot path.

        Raises:
            anyio.EndOfStream: Every stage has ended and everything was taken.
            anyio.ClosedResourceError: The mailbox was closed (the block has exited).
        """
        if self._follow:
            return self._follow.popleft()
        queued = self._queued.take()
        if queued is not None:
            return queued
        if self._audio_open:
            try:
                chunk = self._chunks._take_ready()
            except StopAsyncIteration:
                self._audio_open = False
                self._audio_ended(None)
            except anyio.ClosedResourceError:
                raise
            except Exception as exc:
                self._audio_open = False
                self._audio_ended(exc)
            else:
                return None if chunk is None else self._event_of(chunk)
        if self._queued.ended and not self._audio_open:
            raise anyio.EndOfStream
        return None

    async def wait(self) -> None:
        """Wait until an event may be ready (after :meth:`take_ready` found none)."""
        await self._queued.wait_woken()

    def _event_of(self, chunk: AudioChunk) -> Event:
        if chunk.data:
            return AudioEvent(
                chunk.segment.index,
                chunk.data,
                chunk.format,
                chunk.offset,
                chunk.format.duration(self._reply_bytes + chunk.offset),
                chunk.timings,
            )
        # The segment's end (a final chunk carries no audio).
        self._reply_bytes += chunk.offset
        done = SegmentDoneEvent(
            chunk.segment.index,
            chunk.offset,
            chunk.format.duration(chunk.offset),
            chunk.error is not None,
            chunk.timings,
            self._speakers.take(chunk.segment.speech_text),
        )
        if chunk.error is None:
            return done
        self._follow.append(done)
        return ErrorEvent(chunk.error, chunk.segment.index)
