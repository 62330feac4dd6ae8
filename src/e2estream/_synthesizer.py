"""``ProgressiveSynthesizer``: bounded concurrent TTS with strictly ordered audio output.

How it works, in one picture::

    text deltas ──segmenter──► jobs (in order) ──► consumer takes the head job, then the next
                                  │
                     up to N jobs synthesizing at once; each appends its audio to its own
                     buffer. The head job's audio is streamed to the consumer as it arrives;
                     later jobs' audio waits, bounded by a shared byte budget.

A job whose buffer cannot grow (budget full) makes its synthesizer iterator wait: that is
backpressure all the way to the TTS server's socket, not an unbounded buffer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import ExitStack
from typing import cast

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from ._audio import AudioFormat, Synthesizer
from ._chunk_stream import AudioChunkStream, StreamState
from ._jobs import Job
from ._mailbox import MailboxSender
from ._pacing import Pacer
from ._playback import PlaybackClock
from ._request import RequestSynthesizer
from ._segment import Segment
from ._segmenter import IncrementalSegmenter
from ._segmenters import SegmenterFactory, check_segmenter, segmenter_for_stream
from ._streaming import AnySynthesizer, StreamingSynthesizer, is_streaming
from ._streaming_run import StreamingSession
from ._synthesis_run import SynthesisRun, synthesize_segment
from ._timeouts import SynthesisTimeouts
from ._util import (
    AsyncContextOnly,
    async_context,
    iterating,
    single_exception_unwrapped,
)
from ._validate import check_max_ahead, check_positive_int, check_synthesizer

__all__ = ["DEFAULT_MAX_BUFFERED_BYTES", "AudioChunkStream", "ProgressiveSynthesizer"]

logger = logging.getLogger("e2estream")

#: Default bytes of audio allowed to wait behind the head segment (about 22 s of 24 kHz
#: 16-bit mono): enough to keep playback fed, small enough to bound memory per reply.
DEFAULT_MAX_BUFFERED_BYTES = 1 << 20


class ProgressiveSynthesizer:
    """Synthesize incremental text with bounded concurrency and ordered, streamed audio.

    Args:
        synthesizer: Any :class:`~e2estream.Synthesizer` (a TTS backend answering one
            request per segment) or :class:`~e2estream.StreamingSynthesizer` (one
            connection for the whole stream; segments are sent as flushed units).
        segmenter: The :class:`~e2estream.IncrementalSegmenter` used when
            :meth:`stream` receives text deltas, or a zero-argument factory making one
            per stream. Default: a fresh ``IncrementalSegmenter()`` per stream.
        max_concurrency: At most this many segments are synthesizing at once. 2 keeps
            the next segment synthesizing while the current one plays.
        max_buffered_bytes: Audio bytes allowed to wait behind the segment being
            streamed (and, separately, within it) before the TTS requests are made to
            wait. Bounds memory for a slow consumer.
        max_ahead: Pacing: a segment (after the first) starts synthesizing only while
            the audio synthesized but not yet played is below this many seconds, so an
            interrupted reply wastes little synthesis. None turns pacing off. The
            look-ahead never drops below 1.5x the slowest time to first byte seen in
            the stream, so pacing does not cause stalls. Playback is assumed to run in
            real time from the first chunk taken, unless
            :meth:`AudioChunkStream.report_played` says otherwise.
        timeouts: Bounds on every backend's time to first audio and on stalls once
            audio began (:class:`~e2estream.SynthesisTimeouts`; 20 s and 10 s by
            default). A segment past one becomes an error; the stream goes on.

    Raises:
        TypeError: If ``synthesizer`` satisfies neither backend protocol.
        ValueError: If a limit is not positive.

    Example::

        progressive = ProgressiveSynthesizer(EspeakSynthesizer(language="en"))
        async with progressive.stream(token_source(llm_stream)) as chunks:
            async for chunk in chunks:
                player.write(chunk.data)
    """

    def __init__(
        self,
        synthesizer: AnySynthesizer,
        *,
        segmenter: SegmenterFactory | None = None,
        max_concurrency: int = 2,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        max_ahead: float | None = None,
        timeouts: SynthesisTimeouts | None = None,
    ) -> None:
        check_synthesizer(synthesizer)
        if timeouts is not None and not isinstance(timeouts, SynthesisTimeouts):
            raise TypeError(f"timeouts must be a SynthesisTimeouts, not {type(timeouts).__name__}")
        check_positive_int("max_concurrency", max_concurrency)
        check_positive_int("max_buffered_bytes", max_buffered_bytes)
        check_max_ahead(max_ahead)
        check_segmenter(segmenter)
        self.synthesizer = synthesizer
        self.segmenter = segmenter
        self.max_concurrency = max_concurrency
        self.max_buffered_bytes = max_buffered_bytes
        self.max_ahead = max_ahead
        self.timeouts = timeouts or SynthesisTimeouts()
        self._compute_bound = bool(getattr(synthesizer, "compute_bound", False))
        # Exactly one of the two is set: which kind of backend this is.
        self._streaming: StreamingSynthesizer | None = None
        self._per_segment: Synthesizer | RequestSynthesizer | None = None
        self._takes_requests = False
        if is_streaming(synthesizer):
            self._streaming = cast(StreamingSynthesizer, synthesizer)
        else:
            self._per_segment = cast("Synthesizer | RequestSynthesizer", synthesizer)
            # What isinstance(synthesizer, RequestSynthesizer) decides (audio_format is
            # checked above), without a runtime protocol check's 8 us on every reply.
            self._takes_requests = callable(getattr(synthesizer, "synthesize_request", None))

    @property
    def audio_format(self) -> AudioFormat:
        """The format of the audio this synthesizer produces."""
        return self.synthesizer.audio_format

    def stream(
        self, text: AsyncIterable[str] | AsyncIterable[Segment] | Iterable[str] | Iterable[Segment]
    ) -> AsyncContextOnly[AudioChunkStream]:
        """Synthesize ``text`` as it arrives; yield its audio as ordered chunks.

        Args:
            text: Text deltas (``str``, segmented on the fly) or ready
                :class:`~e2estream.Segment` objects, as an async or plain iterable.

        Yields:
            An :class:`AudioChunkStream`: ``async for chunk in chunks``. The head
            segment's bytes are yielded as the TTS produces them; each segment ends with
            a ``final`` chunk (carrying ``error`` if its synthesis failed).

        Leaving the block early cancels every request in flight and closes every
        synthesizer iterator (and ``text``, if it has ``aclose()``) before returning.
        """
        return self.open_stream(text, PlaybackClock(), counts_delivery=True)

    @async_context
    async def open_stream(
        self,
        text: AsyncIterable[str] | AsyncIterable[Segment] | Iterable[str] | Iterable[Segment],
        playback: PlaybackClock,
        *,
        counts_delivery: bool,
    ) -> AsyncIterator[AudioChunkStream]:
        # The same as stream(), with the playback model shared with a wrapper that sees
        # the moment its own consumer receives the audio.
        with single_exception_unwrapped():
            async with anyio.create_task_group() as task_group:
                chunks = self._start_stream(
                    task_group, text, playback, counts_delivery=counts_delivery
                )
                try:
                    yield chunks
                finally:
                    chunks._close()

    def _start_stream(
        self,
        task_group: TaskGroup,
        text: AsyncIterable[str] | AsyncIterable[Segment] | Iterable[str] | Iterable[Segment],
        playback: PlaybackClock,
        *,
        counts_delivery: bool,
    ) -> AudioChunkStream:
        """Start synthesizing ``text`` in a task of ``task_group``; return its audio stream.

        The building block of :meth:`stream` for a caller that already has a task group
        (``stream_reply`` runs the synthesis among its own stages: a task group fewer
        per reply). The caller calls ``AudioChunkStream._close()`` when its block exits,
        before the task group does; the group's exit then waits for every request to
        close.

        Args:
            task_group: Where the synthesis runs.
            text: As for :meth:`stream`.
            playback: The playback model pacing this stream.
            counts_delivery: True if taking audio from the stream counts as delivering
                it to the listener; False for a wrapper that tells ``playback`` itself.

        Raises:
            TypeError: If ``text`` is not an iterable of text deltas or Segments.
        """
        source = _as_async_iterable(text)
        pacer = Pacer(
            self.max_ahead, playback, self.audio_format, compute_bound=self._compute_bound
        )
        state = StreamState(
            self.audio_format,
            self.max_concurrency,
            self.max_buffered_bytes,
            pacer,
            counts_delivery=counts_delivery,
        )
        task_group.start_soon(self._run, source, state)
        return AudioChunkStream(state)

    async def _run(self, source: AsyncIterable[str | Segment], state: StreamState) -> None:
        try:
            # Requests run in a task group of their own, so that cancel() can stop them
            # all (its cancel scope is the stream's synthesis scope) and know when every
            # one of them has closed.
            async with anyio.create_task_group() as requests:
                state.enter_synthesis(requests.cancel_scope)
                if self._streaming is not None:
                    # The connection opens now, while the LLM is still thinking.
                    state.session = StreamingSession(
                        self._streaming,
                        state.audio_format,
                        self.timeouts,
                        state.budget,
                        state.pacer,
                        state.slots,
                    )
                    requests.start_soon(state.session.run)
                try:
                    await self._feed(source, state, requests)
                finally:
                    if state.session is not None:
                        state.session.finish_input()
        finally:
            state.synthesis_finished.set()
            state.wake_consumer()  # the jobs have ended (or were cancelled)

    async def _feed(
        self,
        source: AsyncIterable[str | Segment],
        state: StreamState,
        task_group: TaskGroup,
    ) -> None:
        try:
            with state.jobs_sender as jobs:
                # The error is recorded before ``jobs`` closes, so the consumer, woken by
                # the end of the jobs, always finds it.
                try:
                    await self._submit_all(source, state, jobs, task_group)
                except _ConsumerGone:
                    pass  # the block has exited: nobody takes the jobs
                except Exception as exc:
                    # Includes anyio.BrokenResourceError raised by the *source* (an LLM
                    # connection that dropped): an error, never a clean end of the reply.
                    state.source_error = exc
        finally:
            state.wake_consumer()  # the jobs have ended

    async def _submit_all(
        self,
        source: AsyncIterable[str | Segment],
        state: StreamState,
        jobs: MailboxSender[Job],
        task_group: TaskGroup,
    ) -> None:
        previous: Segment | None = None
        # The segmenter is made on the first text delta: a stream of ready Segments
        # (stream_reply's) never needs one.
        with ExitStack() as stack:
            segmenter: IncrementalSegmenter | None = None
            async with iterating(source) as items:
                async for item in items:
                    if isinstance(item, str):
                        if segmenter is None:
                            segmenter = stack.enter_context(segmenter_for_stream(self.segmenter))
                        segments: Iterable[Segment] = segmenter.push(item)
                    elif isinstance(item, Segment):
                        segments = (item,)
                    else:
                        raise TypeError(
                            "ProgressiveSynthesizer.stream() takes str deltas or "
                            f"Segment objects, got a {type(item).__name__}"
                        )
                    for segment in segments:
                        await self._submit(segment, previous, state, jobs, task_group)
                        previous = segment
            for segment in segmenter.flush() if segmenter is not None else ():
                await self._submit(segment, previous, state, jobs, task_group)
                previous = segment

    async def _submit(
        self,
        segment: Segment,
        previous: Segment | None,
        state: StreamState,
        jobs: MailboxSender[Job],
        task_group: TaskGroup,
    ) -> None:
        job = Job(segment)
        if segment.speech_text.strip():
            # The job is queued for the consumer first, so that audio already synthesized
            # keeps flowing while this segment waits for its turn.
            await _queue(job, state, jobs)
            await state.pacer.wait_for_turn()
            await state.slots.acquire()
            state.pacer.started(job)
            if self._per_segment is None:
                assert state.session is not None
                state.session.submit(job)
                return
            previous_text = previous.speech_text if previous is not None else None
            if state.synthesis_run is None:
                state.synthesis_run = SynthesisRun(
                    self._per_segment,
                    self._takes_requests,
                    self.timeouts,
                    state.frame_size,
                    state.budget,
                    state.pacer,
                    state.slots,
                )
            task_group.start_soon(synthesize_segment, state.synthesis_run, job, previous_text)
        else:
            job.done = True  # nothing to speak (a code block, say): no request at all
            await _queue(job, state, jobs)


class _ConsumerGone(Exception):
    """The stream's block has exited: the feeder stops quietly."""


async def _queue(job: Job, state: StreamState, jobs: MailboxSender[Job]) -> None:
    if not await jobs.deliver(job):
        raise _ConsumerGone
    state.job_queued()


def _as_async_iterable(text: object) -> AsyncIterable[str | Segment]:
    if isinstance(text, (str, bytes)):
        raise TypeError(
            "ProgressiveSynthesizer.stream() takes an iterable of text deltas or Segments, "
            f"not a single {type(text).__name__}; to speak one text, pass [text]"
        )
    if isinstance(text, AsyncIterable):
        return text
    if isinstance(text, Iterable):
        return _iterate(text)
    raise TypeError(
        "ProgressiveSynthesizer.stream() takes an async iterable or iterable of str or "
        f"Segment, not a {type(text).__name__}"
    )


async def _iterate(items: Iterable[str | Segment]) -> AsyncIterator[str | Segment]:
    for item in items:
        await anyio.lowlevel.checkpoint()
        yield item
