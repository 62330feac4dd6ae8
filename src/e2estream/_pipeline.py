"""``stream_reply``: the whole pipeline, from an LLM stream to one ordered event stream."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream

from ._batching import AudioBatching
from ._events import Event, SegmentEvent, TokenEvent
from ._mailbox import Mailbox, MailboxItems, MailboxSender
from ._merge import DEFAULT_MAX_BUFFER
from ._playback import PlaybackClock
from ._prewarm import has_prewarm, prewarm_quietly
from ._reply import ReplyControl, ReplyStream
from ._reply_events import ReplyEvents
from ._segment import Segment
from ._segmenter import IncrementalSegmenter
from ._segmenters import SegmenterFactory, check_segmenter, segmenter_for_stream
from ._sources import token_source
from ._speakers import SpeakerLog, publishing
from ._stalls import watch_stalls
from ._streaming import AnySynthesizer
from ._synthesizer import DEFAULT_MAX_BUFFERED_BYTES, ProgressiveSynthesizer
from ._timeouts import SynthesisTimeouts
from ._util import aclosing, async_context, single_exception_unwrapped
from ._validate import check_positive_int

__all__ = ["stream_reply"]

#: Segments waiting for a TTS slot. The token path never waits on audio unless this many
#: segments are queued, so it is generous; it still bounds memory for an endless reply.
MAX_PENDING_SEGMENTS = 1024

#: Default look-ahead of synthesis over playback, seconds (see ``benchmarks/interrupt.py``).
DEFAULT_MAX_AHEAD = 3.0

#: Default audio batching (frozen, so one instance serves every reply).
DEFAULT_AUDIO_BATCHING = AudioBatching()


@async_context
async def stream_reply(
    source: object,
    synthesizer: AnySynthesizer,
    *,
    segmenter: SegmenterFactory | None = None,
    language: str | None = None,
    max_concurrency: int = 2,
    max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
    max_buffered_events: int = DEFAULT_MAX_BUFFER,
    idle_flush: float | None = None,
    max_ahead: float | None = DEFAULT_MAX_AHEAD,
    timeouts: SynthesisTimeouts | None = None,
    audio_batching: AudioBatching | None = DEFAULT_AUDIO_BATCHING,
) -> AsyncIterator[ReplyStream]:
    """Stream an LLM reply as one ordered stream of token and audio events.

    Tokens are forwarded the moment they arrive; completed segments go to the TTS while
    the LLM is still writing, ``max_concurrency`` at a time; audio comes out strictly in
    segment order, the first segment's bytes as soon as the TTS produces them.

    Args:
        source: The LLM stream: anything :func:`~e2estream.token_source` accepts (an
            SDK stream, an ``httpx.Response``, an (async) iterable of ``str``, ...).
        synthesizer: The TTS backend: a :class:`~e2estream.Synthesizer` (one request per
            segment) or a :class:`~e2estream.StreamingSynthesizer` (one connection for
            the reply, opened as the reply starts).
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
        max_ahead: Pacing: a segment (after the first) starts synthesizing only while
            the audio synthesized but not yet played is below this many seconds, so an
            interrupted reply leaves little synthesized audio unheard. None turns it off.
            Playback is assumed to run in real time from the first audio delivered, or
            follows :meth:`ReplyStream.report_played`. The look-ahead never drops below
            1.5x the slowest time to first byte of the reply, so pacing causes no stall.
            The default, 3 s, is the smallest look-ahead that added no stall in any world
            of ``benchmarks/interrupt.py`` (a TTS with a jittery first byte stalled at 1
            and 2 s); it cuts the audio an interruption wastes from about 30 s to about
            4 s (median) on a 75 s reply. Pass None where nobody listens in real time
            (writing a file, a batch job): pacing would slow it down to playback speed.
        timeouts: The pipeline's bounds on any backend's time to first audio and on
            stalls (:class:`~e2estream.SynthesisTimeouts`: 20 s and 10 s by default). A
            segment past one becomes an :class:`~e2estream.ErrorEvent` carrying a
            :class:`~e2estream.SynthesisTimeout`, and the reply goes on.
        audio_batching: While the listener has audio to spare (``min_ahead``, 2 s by
            default), the segment being heard is delivered in events of about
            ``seconds`` (0.5 s) instead of chunk by chunk: fewer wake-ups of your task
            and fewer messages on your transport. The first audio and any audio after a
            stall still go out chunk by chunk, and held audio is released before the
            player could run dry (:class:`~e2estream.AudioBatching`). None delivers
            every chunk as the TTS produces it.

    A backend may have an optional ``prewarm()`` method (async, or returning None): it
    runs in its own task as the reply starts, while the LLM is still thinking, to open
    connections (an HTTP client, its SSL context) before the first segment needs them.
    It never delays tokens, and if it fails the failure is logged (``e2estream``
    logger, warning) and the reply goes on. It should be idempotent and cheap once
    warm, and do blocking set-up in a worker thread (``anyio.to_thread.run_sync``).

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
    if audio_batching is not None and not isinstance(audio_batching, AudioBatching):
        raise TypeError(
            f"audio_batching must be an AudioBatching or None, not {type(audio_batching).__name__}"
        )
    progressive = ProgressiveSynthesizer(
        synthesizer,
        max_concurrency=max_concurrency,
        max_buffered_bytes=max_buffered_bytes,
        max_ahead=max_ahead,
        timeouts=timeouts,
    )
    tokens = token_source(source)
    control = ReplyControl()
    playback = PlaybackClock()
    with single_exception_unwrapped(), segmenter_for_stream(segmenter) as reply_segmenter:
        # Segments from the LLM reader to the synthesizer's feeder: a mailbox rather
        # than an anyio memory object stream, whose send and receive each pass a
        # checkpoint (a scheduling round trip per segment on both sides).
        segments = Mailbox[Segment](MAX_PENDING_SEGMENTS)
        segments_sender = segments.sender()  # before the feeder can find it "ended"
        events = Mailbox[Event](max_buffered_events)
        speakers = SpeakerLog()
        # The synthesis tasks, started as the block below is entered, inherit this
        # reply's speaker log (see _speakers.py); the consumer's code does not.
        with (
            segments_sender,
            closing(segments),
            closing(events),
            publishing(speakers) as withdraw_speakers,
        ):
            # One task group for the synthesis and the stages: a task group costs every
            # reply's start-up and holds objects the garbage collector walks.
            async with anyio.create_task_group() as stages:
                # Started first, while this reply's speaker log is published.
                chunks = progressive._start_stream(
                    stages, MailboxItems(segments), playback, counts_delivery=False
                )
                withdraw_speakers()
                control.chunks = chunks
                # Each stage sends through its own sender: the stream ends when all close.
                _start_stage(
                    stages,
                    control,
                    _read_llm,
                    tokens,
                    idle_flush,
                    reply_segmenter,
                    segments_sender,
                    events.sender(),
                    control,
                )
                margin = 0.0 if audio_batching is None else audio_batching.release_margin
                stall_events = events.sender()
                _start_stage(stages, control, watch_stalls, playback, stall_events, control, margin)
                if has_prewarm(synthesizer):
                    # Beside the LLM, never before it: tokens do not wait for it.
                    name = type(synthesizer).__name__
                    _start_stage(stages, control, prewarm_quietly, synthesizer, name)
                try:
                    # The consumer takes the audio from ``chunks`` itself (no task between).
                    audio_format = progressive.audio_format
                    reply_events = ReplyEvents(
                        events, chunks, audio_format, speakers, control.audio_ended, audio_batching
                    )
                    yield ReplyStream(reply_events, audio_format, control, playback)
                finally:
                    control.closed = True
                    # Stop the LLM and the TTS together, so that their cleanups overlap.
                    # The synthesis is stopped through its own scope; the stages' scope
                    # only while one of them runs (not for a reply read to its end: on
                    # asyncio a cancel() costs about 11 us, most of it anyio describing
                    # the task in the cancel message).
                    if control.stages_running:
                        stages.cancel_scope.cancel()
                    chunks._close()


def _start_stage(
    stages: TaskGroup,
    control: ReplyControl,
    stage: Callable[..., Awaitable[None]],
    *args: object,
) -> None:
    # Counted when started (synchronously, before the task runs) and uncounted when done:
    # at the block's exit a count of zero means no task of the stages is left to cancel.
    control.stages_running += 1
    stages.start_soon(_stage, control, stage, *args)


async def _stage(
    control: ReplyControl, stage: Callable[..., Awaitable[None]], *args: object
) -> None:
    try:
        await stage(*args)
    finally:
        control.stages_running -= 1


async def _read_llm(
    tokens: AsyncIterator[str],
    idle_flush: float | None,
    segmenter: IncrementalSegmenter,
    segments: MailboxSender[Segment],
    events: MailboxSender[Event],
    control: ReplyControl,
) -> None:
    """Read the LLM: forward each delta at once, segment it, hand segments to the TTS."""
    try:
        with control.llm_scope, events, segments, single_exception_unwrapped():
            if idle_flush is None:
                await _forward(tokens, segmenter, segments, events, control)
            else:
                # Its own task group, so that the idle-flush reader is closed (and the
                # LLM stream with it) before llm_finished says so. Only with idle_flush:
                # a task group costs every reply's start-up about 10 us.
                async with anyio.create_task_group() as readers:
                    deltas = _with_idle_markers(tokens, idle_flush, readers)
                    await _forward(deltas, segmenter, segments, events, control)
    except _ConsumerGone:
        pass  # the reply stream was closed: stop quietly (the LLM stream is closed)
    except Exception as exc:
        # Includes a BrokenResourceError of the LLM's own connection: an error.
        control.fail(exc)
    finally:
        control.llm_finished.set()
        control.producer_finished()


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


class _ConsumerGone(Exception):
    """The reply stream's consumer left: a stage stops quietly."""


async def _send(events: MailboxSender[Event], event: Event) -> None:
    if not events.offer(event) and not await events.deliver(event):
        raise _ConsumerGone


async def _forward(
    deltas: AsyncIterator[str | _Idle],
    segmenter: IncrementalSegmenter,
    segments: MailboxSender[Segment],
    events: MailboxSender[Event],
    control: ReplyControl,
) -> None:
    """Forward each delta, then the segments it completed (which also go to the TTS)."""
    offset = 0
    async with aclosing(deltas):
        async for delta in deltas:
            if isinstance(delta, _Idle):
                # The LLM paused: speak what we have up to the last word boundary.
                if control.speaking:
                    await _hand_over(segmenter.flush_partial(), segments, events, control)
                continue
            token = TokenEvent(delta, offset)
            if not events.offer(token):  # room: no coroutine on the per-token path
                await _send(events, token)
            offset += len(delta)
            if control.speaking:
                await _hand_over(segmenter.push(delta), segments, events, control)
        if control.speaking:
            await _hand_over(segmenter.flush(), segments, events, control)


async def _hand_over(
    completed: list[Segment],
    segments: MailboxSender[Segment],
    events: MailboxSender[Event],
    control: ReplyControl,
) -> None:
    for segment in completed:
        if not control.speaking:
            return  # interrupted: the rest of the reply is not spoken
        control.segments_made += 1
        # The SegmentEvent is delivered before the segment reaches the TTS, so it
        # always precedes that segment's audio.
        await _send(events, SegmentEvent(segment))
        if not await segments.deliver(segment):
            control.speaking = False  # the synthesizer was stopped (an interruption)
