"""``stream_reply``: the whole pipeline, from an LLM stream to one ordered event stream."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._audio import AudioChunk, AudioFormat, Synthesizer
from ._events import (
    AudioEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    ReplyMetrics,
    SegmentDoneEvent,
    SegmentEvent,
    TokenEvent,
)
from ._merge import DEFAULT_MAX_BUFFER, MergedStream, merge_events
from ._segment import Segment
from ._segmenter import IncrementalSegmenter
from ._sources import token_source
from ._synthesizer import (
    DEFAULT_MAX_BUFFERED_BYTES,
    ProgressiveSynthesizer,
    SegmenterFactory,
    check_positive_int,
    check_segmenter,
    segmenter_for_stream,
)
from ._util import aclosing, async_context, single_exception_unwrapped

__all__ = ["ReplyStream", "stream_reply"]

#: Segments waiting for a TTS slot. The token path never waits on audio unless this many
#: segments are queued, so it is generous; it still bounds memory for an endless reply.
MAX_PENDING_SEGMENTS = 1024


class ReplyStream(AsyncIterator[Event]):
    """The async iterator of events yielded by :func:`stream_reply`.

    Yields :class:`~e2estream.TokenEvent`, :class:`~e2estream.SegmentEvent`,
    :class:`~e2estream.AudioEvent`, :class:`~e2estream.SegmentDoneEvent` and
    :class:`~e2estream.ErrorEvent` as they happen, then one
    :class:`~e2estream.DoneEvent`. Also keeps the metrics so far in :attr:`metrics`.
    """

    def __init__(self, events: MergedStream[Event], audio_format: AudioFormat) -> None:
        self._events = events
        self._audio_format = audio_format
        self._started = anyio.current_time()
        self._parts: list[str] = []
        self._first_token: float | None = None
        self._first_segment: float | None = None
        self._first_audio: float | None = None
        self._total = 0.0
        self._tokens = 0
        self._segments = 0
        self._audio_bytes = 0
        self._errors = 0
        self._finished = False

    def __aiter__(self) -> ReplyStream:
        return self

    @property
    def text(self) -> str:
        """The reply text received so far."""
        return "".join(self._parts)

    @property
    def metrics(self) -> ReplyMetrics:
        """Timings and counts of the events delivered so far."""
        return ReplyMetrics(
            time_to_first_token=self._first_token,
            time_to_first_segment=self._first_segment,
            time_to_first_audio=self._first_audio,
            total_time=self._total if self._finished else self._elapsed(),
            tokens=self._tokens,
            segments=self._segments,
            audio_bytes=self._audio_bytes,
            audio_duration=self._audio_format.duration(self._audio_bytes),
            errors=self._errors,
        )

    async def __anext__(self) -> Event:
        if self._finished:
            raise StopAsyncIteration
        try:
            event = await self._events.__anext__()
        except StopAsyncIteration:
            self._finished = True
            self._total = self._elapsed()
            return DoneEvent(self.text, self.metrics)
        except Exception:
            # The LLM stream failed: that exception is the end of this reply; there is
            # no DoneEvent for a reply that did not complete.
            self._finished = True
            raise
        # Metrics are taken when an event leaves the library: that is what the listener
        # experiences, queueing inside the pipeline included. The clock is read only for
        # the firsts, not for every event: this is the per-token hot path.
        if isinstance(event, TokenEvent):
            self._tokens += 1
            self._parts.append(event.text)
            if self._first_token is None:
                self._first_token = self._elapsed()
        elif isinstance(event, AudioEvent):
            self._audio_bytes += len(event.data)
            if self._first_audio is None:
                self._first_audio = self._elapsed()
        elif isinstance(event, SegmentEvent):
            self._segments += 1
            if self._first_segment is None:
                self._first_segment = self._elapsed()
        elif isinstance(event, ErrorEvent):
            self._errors += 1
        return event

    def _elapsed(self) -> float:
        return anyio.current_time() - self._started


@async_context
async def stream_reply(
    source: object,
    synthesizer: Synthesizer,
    *,
    segmenter: SegmenterFactory | None = None,
    language: str | None = None,
    max_concurrency: int = 2,
    max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
    max_buffered_events: int = DEFAULT_MAX_BUFFER,
    idle_flush: float | None = None,
) -> AsyncIterator[ReplyStream]:
    """Stream an LLM reply as one ordered stream of token and audio events.

    Tokens are forwarded the moment they arrive; completed segments go to the TTS while
    the LLM is still writing, ``max_concurrency`` at a time; audio comes out strictly in
    segment order, the first segment's bytes as soon as the TTS produces them.

    Args:
        source: The LLM stream: anything :func:`~e2estream.token_source` accepts (an
            SDK stream, an ``httpx.Response``, an (async) iterable of ``str``, ...).
        synthesizer: The TTS backend.
        segmenter: An :class:`~e2estream.IncrementalSegmenter` for this reply, or a
            factory making one. Default: ``IncrementalSegmenter(language)``.
        language: Language of the reply for the default segmenter (``"en"`` if None).
            Ignored when ``segmenter`` is given.
        max_concurrency: Segments synthesizing at once.
        max_buffered_bytes: Audio bytes that may wait behind the segment being streamed.
        max_buffered_events: Events that may wait for the consumer before the stages
            are made to wait.
        idle_flush: If set, when no token arrives for this many seconds the text so
            far is handed to the TTS up to its last word boundary (for LLMs that pause
            mid-sentence, e.g. during a tool call). Off by default: it is the only
            behaviour that depends on timing, so with it segments can depend on how
            fast the tokens came.

    Yields:
        A :class:`ReplyStream` of events; the last one is a :class:`~e2estream.DoneEvent`.

    Raises:
        TypeError: At once, if ``source`` or ``synthesizer`` is of the wrong kind.
        Exception: Whatever the token source raises ends the stream with that exception
            (after the events that came before it). A failing *synthesizer* does not
            raise: it becomes an :class:`~e2estream.ErrorEvent` and the reply goes on.

    Leaving the ``async with`` block early (``break``, an exception, cancellation, a
    client that disconnected) cancels the LLM stream and every TTS request, and closes
    them, before the block returns.

    Example::

        async with stream_reply(llm_stream, EspeakSynthesizer()) as events:
            async for event in events:
                await websocket.send_json(event.to_dict())
    """
    # Validate everything before anything is opened or started.
    check_positive_int("max_buffered_events", max_buffered_events)
    if idle_flush is not None and not idle_flush > 0:
        raise ValueError(f"idle_flush must be a positive number of seconds, got {idle_flush}")
    if segmenter is None:
        segmenter = IncrementalSegmenter(language or "en")
    check_segmenter(segmenter)
    progressive = ProgressiveSynthesizer(
        synthesizer, max_concurrency=max_concurrency, max_buffered_bytes=max_buffered_bytes
    )
    tokens = token_source(source)
    with single_exception_unwrapped(), segmenter_for_stream(segmenter) as reply_segmenter:
        segments_send, segments_receive = anyio.create_memory_object_stream[Segment](
            MAX_PENDING_SEGMENTS
        )
        # _token_events closes segments_send when it ends; this closes it (again,
        # harmlessly) should that generator never have started.
        with segments_send, segments_receive:
            async with anyio.create_task_group() as task_group:
                deltas: AsyncIterator[str | _Idle] = tokens
                if idle_flush is not None:
                    deltas = _with_idle_markers(tokens, idle_flush, task_group)
                async with (
                    progressive.stream(segments_receive) as chunks,
                    merge_events(
                        _token_events(deltas, reply_segmenter, segments_send),
                        _audio_events(chunks),
                        max_buffer=max_buffered_events,
                    ) as events,
                ):
                    try:
                        yield ReplyStream(events, progressive.audio_format)
                    finally:
                        task_group.cancel_scope.cancel()


class _Idle:
    """Marker: no token arrived for ``idle_flush`` seconds."""


_IDLE = _Idle()


def _with_idle_markers(
    tokens: AsyncIterator[str], idle_flush: float, task_group: TaskGroup
) -> AsyncIterator[str | _Idle]:
    """Read ``tokens`` in a task of ``task_group``; yield them, and ``_IDLE`` after each pause.

    Waiting for a token with a timeout needs a task of its own: cancelling a pending
    ``__anext__`` of an async generator would close it.
    """
    send, receive = anyio.create_memory_object_stream[str](1)
    failure: list[BaseException] = []

    async def read_ahead() -> None:
        async with send:
            try:
                async with aclosing(tokens):
                    async for delta in tokens:
                        try:
                            await send.send(delta)
                        except anyio.BrokenResourceError:
                            return  # the pipeline is gone (closing the LLM stream)
            except Exception as exc:
                # Includes a BrokenResourceError of the LLM's own connection: an error.
                failure.append(exc)

    task_group.start_soon(read_ahead)
    return _markers(receive, idle_flush, failure)


async def _markers(
    receive: MemoryObjectReceiveStream[str], idle_flush: float, failure: list[BaseException]
) -> AsyncIterator[str | _Idle]:
    with receive:
        idle_sent = True  # nothing to flush before the first token
        while True:
            delta: str | None = None
            with anyio.move_on_after(idle_flush if not idle_sent else math.inf):
                try:
                    delta = await receive.receive()
                except anyio.EndOfStream:
                    if failure:
                        raise failure[0] from None
                    return
            if delta is None:
                idle_sent = True
                yield _IDLE
            else:
                idle_sent = False
                yield delta


async def _token_events(
    tokens: AsyncIterator[str | _Idle],
    segmenter: IncrementalSegmenter,
    segments: MemoryObjectSendStream[Segment],
) -> AsyncIterator[Event]:
    """Forward each delta, then the segments it completed (which also go to the TTS)."""
    offset = 0
    async with segments, aclosing(tokens):
        async for delta in tokens:
            if isinstance(delta, _Idle):
                # The LLM paused: speak what we have up to the last word boundary.
                for segment in segmenter.flush_partial():
                    yield SegmentEvent(segment)
                    await segments.send(segment)
                continue
            yield TokenEvent(delta, offset)
            offset += len(delta)
            for segment in segmenter.push(delta):
                # The SegmentEvent is delivered before the segment reaches the TTS, so it
                # always precedes that segment's audio.
                yield SegmentEvent(segment)
                await segments.send(segment)
        for segment in segmenter.flush():
            yield SegmentEvent(segment)
            await segments.send(segment)


async def _audio_events(chunks: AsyncIterator[AudioChunk]) -> AsyncIterator[Event]:
    """Turn ordered audio chunks into audio, error and segment-done events."""
    async for chunk in chunks:
        if chunk.data:
            yield AudioEvent(chunk.segment.index, chunk.data, chunk.format, chunk.offset)
        if chunk.final:
            if chunk.error is not None:
                yield ErrorEvent(chunk.error, chunk.segment.index)
            yield SegmentDoneEvent(
                chunk.segment.index,
                chunk.offset,
                chunk.format.duration(chunk.offset),
                chunk.error is not None,
            )
