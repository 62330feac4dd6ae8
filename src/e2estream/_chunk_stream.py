"""``AudioChunkStream``: the ordered audio of one stream, and the state its parts share.

The consumer takes the head job, streams its audio as it arrives, then takes the next;
``ProgressiveSynthesizer`` (``_synthesizer.py``) feeds the jobs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import anyio.lowlevel

from ._audio import AudioChunk, AudioFormat
from ._jobs import ByteBudget, Job
from ._mailbox import Mailbox
from ._pacing import Pacer
from ._streaming_run import StreamingSession
from ._synthesis_run import SynthesisRun

__all__ = ["AudioChunkStream", "StreamState"]

#: Segments queued for the consumer beyond those synthesizing. Finished segments wait
#: here with their audio (bounded by the byte budget); this bounds their count.
_MAX_QUEUED_JOBS = 32


class StreamState:
    """What the feeder, the requests and the consumer of one stream share."""

    def __init__(
        self,
        audio_format: AudioFormat,
        max_concurrency: int,
        limit: int,
        pacer: Pacer,
        *,
        counts_delivery: bool,
    ) -> None:
        self.audio_format = audio_format
        self.frame_size = audio_format.frame_size or 1
        # Not fast_acquire: its round trip lets the request just started run before the
        # next segment's is spawned, so requests go out in segment order (trio runs the
        # tasks of one batch in either order).
        self.slots = anyio.Semaphore(max_concurrency)
        self.budget = ByteBudget(limit)
        self.pacer = pacer
        self.playback = pacer.playback
        # False when a wrapper (stream_reply) tells the playback model itself, at the
        # moment its own consumer receives the audio.
        self.counts_delivery = counts_delivery
        # The feeder's one sender closes when the jobs end. A mailbox rather than an
        # anyio memory object stream: its send passes a checkpoint (a scheduling round
        # trip for the feeder per segment). The consumer is woken through
        # wake_consumer, not through the mailbox's own wake-up.
        self.jobs = Mailbox[Job](_MAX_QUEUED_JOBS)
        self.jobs_sender = self.jobs.sender()  # made now: no sender yet reads as "ended"
        self.source_error: BaseException | None = None
        self.closed = False  # the ``async with`` block has exited
        self.cancelled = False  # AudioChunkStream.cancel() was called
        # The requests' task group's scope, once the synthesis runs (enter_synthesis).
        self._synthesis_scope: anyio.CancelScope | None = None
        self.synthesis_finished = anyio.Event()  # every request closed, the text source too
        self.session: StreamingSession | None = None  # a streaming backend's connection
        self.synthesis_run: SynthesisRun | None = None  # what every segment's request shares
        # How the producers wake the consumer when something it waits for changed: the
        # head job's audio or end, a job queued while it had none, the end of the jobs,
        # a cancellation. AudioChunkStream waits on an event of its own; stream_reply's
        # reply stream takes audio without a task in between, and has it ring its own.
        self.wake_consumer: Callable[[], None] = _nobody_waits
        self.reading: Job | None = None  # the job the consumer takes audio from

    def enter_synthesis(self, scope: anyio.CancelScope) -> None:
        """The synthesis runs in ``scope`` now: cancelling the stream cancels it."""
        self._synthesis_scope = scope
        if self.cancelled or self.closed:  # before the synthesis task even started
            scope.cancel()

    def cancel_synthesis(self) -> None:
        """Cancel every request and the feeder (or, not started yet, as it starts)."""
        if self._synthesis_scope is not None and not self.synthesis_finished.is_set():
            self._synthesis_scope.cancel()

    def job_queued(self) -> None:
        """A job was queued: the consumer, if it had none, may take it now."""
        if self.reading is None:
            self.wake_consumer()


def _nobody_waits() -> None:
    pass


class AudioChunkStream(AsyncIterator[AudioChunk]):
    """The async iterator of :class:`AudioChunk` yielded by :meth:`ProgressiveSynthesizer.stream`.

    Chunks come strictly in segment order; each segment ends with a chunk whose
    ``final`` is true. If the text source raised, that exception is raised here after
    the audio of every segment completed before it.
    """

    def __init__(self, state: StreamState) -> None:
        self._state = state
        self._changed: anyio.Event | None = None
        state.wake_consumer = self._wake

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _wake_with(self, wake: Callable[[], None]) -> None:
        # For stream_reply's reply stream, which takes the audio itself (_take_ready)
        # and waits on its own mailbox for tokens and audio alike.
        self._state.wake_consumer = wake

    def __aiter__(self) -> AudioChunkStream:
        return self

    @property
    def played(self) -> float:
        """Seconds of audio assumed played so far (see :meth:`report_played`)."""
        return self._state.playback.position(anyio.current_time())

    def report_played(self, seconds: float) -> None:
        """Tell the pacing where the listener's player is, in seconds of this stream's audio.

        Without reports, playback is assumed to run in real time from the first chunk
        taken from this stream.

        Raises:
            ValueError: If ``seconds`` is negative or not finite.
        """
        self._state.playback.report(seconds, anyio.current_time())

    async def cancel(self) -> None:
        """Stop synthesizing: no further chunk is produced, queued audio is dropped.

        When this returns, every synthesizer iterator has been closed (its ``finally``
        has run) and the text source has been closed. The stream then ends (``async
        for`` stops). Safe to call more than once, from any task, and after the block
        has exited.
        """
        self.stop()
        await self._state.synthesis_finished.wait()

    def stop(self) -> None:
        """Like :meth:`cancel`, without waiting for the requests to close."""
        state = self._state
        state.cancelled = True
        state.cancel_synthesis()
        # The consumer may be waiting on a job that never started (it was waiting for its
        # turn): no synthesis task is left to wake it.
        state.wake_consumer()

    def _close(self) -> None:
        """The block that opened this stream exits: stop synthesizing, without waiting.

        Unlike :meth:`stop`, the stream does not just end: taking audio from it raises
        ``anyio.ClosedResourceError``. The task group the synthesis runs in waits for
        every request to close as it exits.
        """
        state = self._state
        state.closed = True
        state.cancel_synthesis()
        state.jobs.close()
        state.wake_consumer()  # a consumer in another task finds the stream closed

    async def __anext__(self) -> AudioChunk:
        # Every __anext__ is a cancellation point; when audio is ready it returns without
        # a full scheduling round trip (the producers yield on their own).
        await anyio.lowlevel.checkpoint_if_cancelled()
        while True:
            taken = self._take_ready()
            if taken is not None:
                job, data, offset = taken
                audio_format = self._state.audio_format
                if data:
                    return AudioChunk(
                        job.segment, data, audio_format, offset, timings=job.take_timings()
                    )
                return AudioChunk(
                    job.segment, b"", audio_format, offset, True, job.error, job.take_timings()
                )
            self._changed = self._changed or anyio.Event()
            await self._changed.wait()

    @property
    def _largest_piece(self) -> int:
        # The most audio one taken piece holds (ByteBudget.take coalesces up to it).
        return self._state.budget.coalesce_limit

    def _release_held(self) -> None:
        # Audio batching: the listener is running short, deliver what the head job holds.
        job = self._state.reading
        if job is not None:
            job.release_held()

    def _take_ready(self) -> tuple[Job, bytes, int] | None:
        """The next piece of audio if one is ready, else None (the producers wake the consumer).

        Returns ``(job, data, offset)``: ``data`` at byte ``offset`` of the job's
        segment, or, with empty ``data``, the job's end (its ``error`` says whether it
        failed). The caller takes the job's timings. No chunk object is made here:
        stream_reply builds its events straight from these.

        Raises:
            StopAsyncIteration: The stream ended (or was cancelled).
            anyio.ClosedResourceError: The block has exited.
            Exception: What the text source raised, after the audio before it.
        """
        state = self._state
        if state.cancelled:
            raise StopAsyncIteration
        if state.closed:
            # Jobs cut short by leaving the block look "done": do not pass them off as
            # complete segments.
            raise anyio.ClosedResourceError("the ProgressiveSynthesizer.stream() block has exited")
        job = state.reading
        if job is None:
            job = state.jobs.take()
            if job is None:
                if not state.jobs.ended:
                    return None
                error, state.source_error = state.source_error, None
                if error is not None and not state.cancelled:
                    raise error from None
                raise StopAsyncIteration
            state.reading = job
            job.on_change = state.wake_consumer
            state.budget.promote(job)
        if job.chunks:
            offset = job.delivered
            data = state.budget.take(job)
            if state.counts_delivery:
                seconds = state.audio_format.duration(len(data))
                if seconds is not None:
                    state.playback.on_delivered(seconds, anyio.current_time())
            return job, data, offset
        if job.done:
            state.reading = None
            job.on_change = None
            return job, b"", job.delivered
        return None
