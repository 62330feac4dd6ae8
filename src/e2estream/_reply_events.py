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

from ._audio import AudioFormat
from ._batching import AudioBatching
from ._chunk_stream import AudioChunkStream
from ._events import AudioEvent, ErrorEvent, Event, SegmentDoneEvent
from ._jobs import Job
from ._mailbox import Mailbox
from ._speakers import SpeakerLog
from ._waiter import Waiter

__all__ = ["ReplyEvents"]


class ReplyEvents:
    """Merges a reply's queued events and its ordered audio for one consumer.

    Args:
        queued: The token stage's and stall watcher's events.
        chunks: The reply's ordered audio; it wakes the consumer through ``queued``.
        audio_format: The format of that audio.
        speakers: Which backend spoke each segment (for :class:`SegmentDoneEvent`).
        audio_ended: Called once when the audio has ended, with the exception that
            ended it (the text source's) or None.
        batching: When to join audio chunks into larger events (None: never).
    """

    def __init__(
        self,
        queued: Mailbox[Event],
        chunks: AudioChunkStream,
        audio_format: AudioFormat,
        speakers: SpeakerLog,
        audio_ended: Callable[[BaseException | None], None],
        batching: AudioBatching | None = None,
    ) -> None:
        self._queued = queued
        self._chunks = chunks
        self._speakers = speakers
        self._audio_ended = audio_ended
        self._follow: deque[Event] = deque()  # events made from a chunk after the first
        self._reply_bytes = 0  # bytes of the reply's audio before the current segment
        self._audio_open = True
        self._format = audio_format
        self._rate = self._format.bytes_per_second  # None for compressed audio
        chunks._wake_with(queued.wake)
        # Audio batching, in bytes of this format (0: off; compressed audio has no
        # duration to batch by). At most one taken piece, so that one wake-up is one event.
        self._batch_bytes = 0
        self._batch_from = 0.0  # seconds the listener must have queued
        if batching is not None and self._rate is not None:
            frame = audio_format.frame_size or 1
            wanted = int(batching.seconds * self._rate) // frame * frame
            self._batch_bytes = max(frame, min(wanted, chunks._largest_piece))
            self._batch_from = batching.min_ahead
        self._head: Job | None = None  # the job whose audio was taken last

    @property
    def batching(self) -> bool:
        """True if audio may be joined into larger events (see :meth:`audio_delivered`)."""
        return self._batch_bytes > 0

    def audio_delivered(self, ahead: float) -> None:
        """Audio was delivered; the listener now has ``ahead`` seconds queued.

        With that much to spare, the head segment's next audio wakes the consumer only
        once a batch of it has gathered (the stall watcher releases it sooner if the
        listener runs short); otherwise every chunk does.
        """
        job = self._head
        if job is not None:
            job.hold_below = self._batch_bytes if ahead >= self._batch_from else 0

    def take_ready(self) -> Event | None:
        """The next event if one is ready, else None (then await :meth:`next_wake`).

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
                taken = self._chunks._take_ready()
            except StopAsyncIteration:
                self._audio_open = False
                self._audio_ended(None)
            except anyio.ClosedResourceError:
                raise
            except Exception as exc:
                self._audio_open = False
                self._audio_ended(exc)
            else:
                return None if taken is None else self._event_of(*taken)
        if self._queued.ended and not self._audio_open:
            raise anyio.EndOfStream
        return None

    def next_wake(self) -> Waiter:
        """``await`` it until an event may be ready (after :meth:`take_ready` found none)."""
        return self._queued.next_wake()

    def _event_of(self, job: Job, data: bytes, offset: int) -> Event:
        segment = job.segment
        if data:
            self._head = job
            return AudioEvent(
                segment.index,
                data,
                self._format,
                offset,
                None if self._rate is None else (self._reply_bytes + offset) / self._rate,
                job.take_timings(),
            )
        # The segment's end.
        self._head = None
        self._reply_bytes += offset
        done = SegmentDoneEvent(
            segment.index,
            offset,
            None if self._rate is None else offset / self._rate,
            job.error is not None,
            job.take_timings(),
            self._speakers.take(segment.speech_text),
        )
        if job.error is None:
            return done
        self._follow.append(done)
        return ErrorEvent(job.error, segment.index)
