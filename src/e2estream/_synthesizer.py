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

import inspect
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeAlias

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._audio import AudioChunk, AudioFormat, Synthesizer, TextTiming
from ._segment import Segment
from ._segmenter import IncrementalSegmenter
from ._util import aclosing, async_context, iterating, single_exception_unwrapped

__all__ = ["ProgressiveSynthesizer", "SegmenterFactory"]

logger = logging.getLogger("e2estream")

#: A segmenter for one reply, or a zero-argument factory that makes a fresh one per reply.
SegmenterFactory: TypeAlias = IncrementalSegmenter | Callable[[], IncrementalSegmenter]

#: Default bytes of audio allowed to wait behind the head segment (about 22 s of 24 kHz
#: 16-bit mono): enough to keep playback fed, small enough to bound memory per reply.
DEFAULT_MAX_BUFFERED_BYTES = 1 << 20

#: Segments queued for the consumer beyond those synthesizing. Finished segments wait
#: here with their audio (bounded by the byte budget); this bounds their count.
_MAX_QUEUED_JOBS = 32


#: Segmenter instances segmenting a stream right now: one instance cannot serve two.
_SEGMENTERS_IN_USE: weakref.WeakSet[IncrementalSegmenter] = weakref.WeakSet()


@contextmanager
def segmenter_for_stream(segmenter: SegmenterFactory | None) -> Iterator[IncrementalSegmenter]:
    """Provide a segmenter for one stream: fresh from a factory, or a given instance reset.

    An instance is reset so that an interrupted earlier reply cannot leak its buffered
    text into this one, and it is refused while another stream is using it.

    Raises:
        RuntimeError: If the instance is in use by another stream.
    """
    made = make_segmenter(segmenter)
    if made in _SEGMENTERS_IN_USE:
        raise RuntimeError(
            "this IncrementalSegmenter is already segmenting another stream; to run "
            "streams concurrently pass a factory, e.g. "
            "functools.partial(IncrementalSegmenter, 'de')"
        )
    made.reset()
    _SEGMENTERS_IN_USE.add(made)
    try:
        yield made
    finally:
        _SEGMENTERS_IN_USE.discard(made)


def check_segmenter(segmenter: object) -> None:
    """Raise ``TypeError`` unless ``segmenter`` is None, a segmenter, or a factory of one."""
    if segmenter is None or isinstance(segmenter, IncrementalSegmenter) or callable(segmenter):
        return
    raise TypeError(
        f"segmenter must be an IncrementalSegmenter or a factory of one, "
        f"not a {type(segmenter).__name__}"
    )


def make_segmenter(segmenter: SegmenterFactory | None) -> IncrementalSegmenter:
    """Return the segmenter to use for one reply."""
    check_segmenter(segmenter)
    if segmenter is None:
        return IncrementalSegmenter()
    if isinstance(segmenter, IncrementalSegmenter):
        return segmenter
    made = segmenter()
    if not isinstance(made, IncrementalSegmenter):
        raise TypeError(
            f"the segmenter factory returned a {type(made).__name__}, not an IncrementalSegmenter"
        )
    return made


class _Job:
    """One segment's synthesis: its buffered audio and whether it has finished."""

    __slots__ = (
        "_waiter",
        "buffered",
        "carry",
        "chunks",
        "delivered",
        "done",
        "error",
        "segment",
        "timings",
    )

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.chunks: deque[bytes] = deque()
        self.buffered = 0  # bytes in ``chunks``
        self.delivered = 0  # bytes handed to the consumer so far
        self.carry = b""  # an incomplete audio frame waiting for the rest of its bytes
        self.done = False
        self.error: BaseException | None = None
        self.timings: list[TextTiming] = []  # delivered with the next chunk the consumer takes
        self._waiter: anyio.Event | None = None

    def take_timings(self) -> tuple[TextTiming, ...]:
        if not self.timings:
            return ()
        timings = tuple(self.timings)
        self.timings.clear()
        return timings

    def notify(self) -> None:
        # Events are made only when someone waits: this runs once per audio chunk.
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None

    async def wait_changed(self) -> None:
        if self._waiter is None:
            self._waiter = anyio.Event()
        await self._waiter.wait()


class _ByteBudget:
    """Bounds the audio waiting for the consumer.

    The head job (the one the consumer is reading) may hold up to ``limit`` bytes of its
    own; all later jobs together may hold up to ``limit`` bytes. Keeping the head's
    allowance separate is what makes this deadlock-free: later segments filling the
    budget can never stop the head segment, which the consumer is waiting for.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.head: _Job | None = None
        self.waiting_behind_head = 0
        self._waiter: anyio.Event | None = None

    def allows(self, job: _Job, size: int) -> bool:
        if job is self.head:
            return job.buffered == 0 or job.buffered + size <= self.limit
        # A single chunk larger than the whole budget still passes when nothing else
        # waits, so an oversized chunk slows the stream down instead of wedging it.
        return self.waiting_behind_head == 0 or self.waiting_behind_head + size <= self.limit

    async def add(self, job: _Job, data: bytes) -> None:
        while not self.allows(job, len(data)):
            if self._waiter is None:
                self._waiter = anyio.Event()
            await self._waiter.wait()
        job.chunks.append(data)
        job.buffered += len(data)
        if job is not self.head:
            self.waiting_behind_head += len(data)
        job.notify()

    def take(self, job: _Job) -> bytes:
        data = job.chunks.popleft()
        job.buffered -= len(data)
        job.delivered += len(data)
        self._notify()
        return data

    def promote(self, job: _Job) -> None:
        self.head = job
        self.waiting_behind_head -= job.buffered
        self._notify()

    def _notify(self) -> None:
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None


class _StreamState:
    def __init__(self, audio_format: AudioFormat, max_concurrency: int, limit: int) -> None:
        self.audio_format = audio_format
        self.frame_size = audio_format.frame_size or 1
        self.slots = anyio.Semaphore(max_concurrency)
        self.budget = _ByteBudget(limit)
        self.jobs_send: MemoryObjectSendStream[_Job]
        self.jobs_receive: MemoryObjectReceiveStream[_Job]
        self.jobs_send, self.jobs_receive = anyio.create_memory_object_stream[_Job](
            _MAX_QUEUED_JOBS
        )
        self.source_error: BaseException | None = None
        self.closed = False  # the ``async with`` block has exited


class AudioChunkStream(AsyncIterator[AudioChunk]):
    """The async iterator of :class:`AudioChunk` yielded by :meth:`ProgressiveSynthesizer.stream`.

    Chunks come strictly in segment order; each segment ends with a chunk whose
    ``final`` is true. If the text source raised, that exception is raised here after
    the audio of every segment completed before it.
    """

    def __init__(self, state: _StreamState) -> None:
        self._state = state
        self._job: _Job | None = None

    def __aiter__(self) -> AudioChunkStream:
        return self

    async def __anext__(self) -> AudioChunk:
        # Every __anext__ is a cancellation point; when audio is ready it returns without
        # a full scheduling round trip (the producers yield on their own).
        await anyio.lowlevel.checkpoint_if_cancelled()
        state = self._state
        if state.closed:
            # Jobs cut short by leaving the block look "done": do not pass them off as
            # complete segments.
            raise anyio.ClosedResourceError("the ProgressiveSynthesizer.stream() block has exited")
        while True:
            job = self._job
            if job is None:
                try:
                    job = self._job = await state.jobs_receive.receive()
                except anyio.EndOfStream:
                    error, state.source_error = state.source_error, None
                    if error is not None:
                        raise error from None
                    raise StopAsyncIteration from None
                state.budget.promote(job)
            if job.chunks:
                offset = job.delivered
                data = state.budget.take(job)
                return AudioChunk(
                    job.segment, data, state.audio_format, offset, timings=job.take_timings()
                )
            if job.done:
                self._job = None
                return AudioChunk(
                    job.segment,
                    b"",
                    state.audio_format,
                    job.delivered,
                    True,
                    job.error,
                    job.take_timings(),
                )
            await job.wait_changed()


class ProgressiveSynthesizer:
    """Synthesize incremental text with bounded concurrency and ordered, streamed audio.

    Args:
        synthesizer: Any :class:`~e2estream.Synthesizer` (a TTS backend).
        segmenter: The :class:`~e2estream.IncrementalSegmenter` used when
            :meth:`stream` receives text deltas, or a zero-argument factory making one
            per stream. Default: a fresh ``IncrementalSegmenter()`` per stream.
        max_concurrency: At most this many segments are synthesizing at once. 2 keeps
            the next segment synthesizing while the current one plays.
        max_buffered_bytes: Audio bytes allowed to wait behind the segment being
            streamed (and, separately, within it) before the TTS requests are made to
            wait. Bounds memory for a slow consumer.

    Raises:
        TypeError: If ``synthesizer`` does not satisfy the Synthesizer protocol.
        ValueError: If a limit is not positive.

    Example::

        progressive = ProgressiveSynthesizer(EspeakSynthesizer(language="en"))
        async with progressive.stream(token_source(llm_stream)) as chunks:
            async for chunk in chunks:
                player.write(chunk.data)
    """

    def __init__(
        self,
        synthesizer: Synthesizer,
        *,
        segmenter: SegmenterFactory | None = None,
        max_concurrency: int = 2,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
    ) -> None:
        check_synthesizer(synthesizer)
        check_positive_int("max_concurrency", max_concurrency)
        check_positive_int("max_buffered_bytes", max_buffered_bytes)
        check_segmenter(segmenter)
        self.synthesizer = synthesizer
        self.segmenter = segmenter
        self.max_concurrency = max_concurrency
        self.max_buffered_bytes = max_buffered_bytes
        # Backends that keep prosody across segments (ElevenLabs) opt in to receive the
        # previous segment's text.
        self._passes_previous_text = bool(getattr(synthesizer, "accepts_previous_text", False))

    @property
    def audio_format(self) -> AudioFormat:
        """The format of the audio this synthesizer produces."""
        return self.synthesizer.audio_format

    @async_context
    async def stream(
        self, text: AsyncIterable[str] | AsyncIterable[Segment] | Iterable[str] | Iterable[Segment]
    ) -> AsyncIterator[AudioChunkStream]:
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
        source = _as_async_iterable(text)
        state = _StreamState(self.audio_format, self.max_concurrency, self.max_buffered_bytes)
        with single_exception_unwrapped(), state.jobs_receive:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(self._feed, source, state, task_group)
                try:
                    yield AudioChunkStream(state)
                finally:
                    state.closed = True
                    task_group.cancel_scope.cancel()

    async def _feed(
        self,
        source: AsyncIterable[str | Segment],
        state: _StreamState,
        task_group: TaskGroup,
    ) -> None:
        previous: Segment | None = None
        async with state.jobs_send:
            # The error is recorded before ``jobs_send`` closes, so the consumer, woken
            # by the end of the job stream, always finds it.
            try:
                with segmenter_for_stream(self.segmenter) as segmenter:
                    async with iterating(source) as items:
                        async for item in items:
                            if isinstance(item, str):
                                segments: Iterable[Segment] = segmenter.push(item)
                            elif isinstance(item, Segment):
                                segments = (item,)
                            else:
                                raise TypeError(
                                    "ProgressiveSynthesizer.stream() takes str deltas or "
                                    f"Segment objects, got a {type(item).__name__}"
                                )
                            for segment in segments:
                                await self._submit(segment, previous, state, task_group)
                                previous = segment
                    for segment in segmenter.flush():
                        await self._submit(segment, previous, state, task_group)
                        previous = segment
            except Exception as exc:
                # Includes anyio.BrokenResourceError raised by the *source* (an LLM
                # connection that dropped): an error, never a clean end of the reply.
                state.source_error = exc

    async def _submit(
        self,
        segment: Segment,
        previous: Segment | None,
        state: _StreamState,
        task_group: TaskGroup,
    ) -> None:
        job = _Job(segment)
        if segment.speech_text.strip():
            await state.slots.acquire()
            previous_text = previous.speech_text if previous is not None else None
            task_group.start_soon(self._synthesize, job, previous_text, state)
        else:
            job.done = True  # nothing to speak (a code block, say): no request at all
        await state.jobs_send.send(job)

    async def _synthesize(self, job: _Job, previous_text: str | None, state: _StreamState) -> None:
        frame = state.frame_size
        try:
            if self._passes_previous_text:
                result = self.synthesizer.synthesize(  # type: ignore[call-arg]
                    job.segment.speech_text, previous_text=previous_text
                )
            else:
                result = self.synthesizer.synthesize(job.segment.speech_text)
            audio = _audio_iterator(result, self.synthesizer)
            async with aclosing(audio):
                async for data in audio:
                    if isinstance(data, TextTiming):
                        job.timings.append(data)
                        continue
                    if not isinstance(data, (bytes, bytearray, memoryview)):
                        raise TypeError(
                            f"{type(self.synthesizer).__name__}.synthesize() yielded a "
                            f"{type(data).__name__}; it must yield bytes (or TextTiming)"
                        )
                    data = job.carry + bytes(data) if job.carry else bytes(data)
                    if frame > 1:
                        # Keep chunks frame-aligned so each can be played on its own.
                        usable = len(data) - len(data) % frame
                        data, job.carry = data[:usable], data[usable:]
                    if data:
                        await state.budget.add(job, data)
            if job.carry:
                # A TTS that ends mid-frame: complete the frame with silence rather than
                # shift every later sample of the reply by a byte.
                logger.debug("segment %d ended mid-frame; padded", job.segment.index)
                await state.budget.add(job, job.carry.ljust(frame, b"\0"))
                job.carry = b""
        except Exception as exc:
            logger.debug("synthesis of segment %d failed: %r", job.segment.index, exc)
            job.error = exc
        finally:
            job.done = True
            job.notify()
            state.slots.release()


def _audio_iterator(result: object, synthesizer: object) -> AsyncIterator[object]:
    """Check what ``synthesize()`` returned (an untyped backend may return anything)."""
    if isinstance(result, AsyncIterator):
        return result
    if inspect.iscoroutine(result):
        # ``async def synthesize`` that returns instead of yielding: close the coroutine
        # so Python does not also warn that it was never awaited.
        result.close()
    raise TypeError(
        f"{type(synthesizer).__name__}.synthesize() returned a {type(result).__name__}; "
        "it must return an async iterator of bytes (write it as an async generator: "
        "async def synthesize(self, text): ... yield chunk)"
    )


def check_positive_int(name: str, value: object) -> None:
    """Raise a ``TypeError``/``ValueError`` naming ``name`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def check_synthesizer(synthesizer: object) -> None:
    """Raise ``TypeError`` if ``synthesizer`` lacks the Synthesizer protocol's members."""
    audio_format = getattr(synthesizer, "audio_format", None)
    if not callable(getattr(synthesizer, "synthesize", None)):
        raise TypeError(
            f"{type(synthesizer).__name__} is not a Synthesizer: it needs a "
            "synthesize(text) method returning an async iterator of bytes"
        )
    if not isinstance(audio_format, AudioFormat):
        raise TypeError(
            f"{type(synthesizer).__name__} is not a Synthesizer: its audio_format must be "
            f"an AudioFormat, not {type(audio_format).__name__}"
        )


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
