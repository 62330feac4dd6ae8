"""Adversarial tests of the async core: misbehaving backends, cancellation, cleanup.

The fakes here misbehave on purpose (a TTS whose ``finally`` hangs or raises, a source
that is an iterable rather than an iterator, a consumer that times out per event) to
check the DESIGN.md invariants on the paths a production host actually hits. Several
were written as reproductions of bugs found in review (lost items on a cancelled
``__anext__``, unclosed ``__aiter__`` iterators, a source's BrokenResourceError taken
for a clean end, close errors escaping the stream, a segmenter instance leaking state
between streams) and now guard their fixes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioChunk,
    AudioEvent,
    DoneEvent,
    Event,
    IncrementalSegmenter,
    ProgressiveSynthesizer,
    Segment,
    SegmentDoneEvent,
    SegmentEvent,
    TokenEvent,
    merge_events,
    stream_reply,
)
from e2estream._util import CLOSE_TIMEOUT
from helpers import FORMAT, ScriptedSynthesizer, TrackedSource, expected_audio

# Sentences long enough that the default segmenter cuts after each of them.
SENTENCES = [f"This is sentence number {i}, long enough to be cut. " for i in range(6)]


def as_segments(
    texts: list[str], *, mute: Callable[[int], bool] = lambda i: False
) -> list[Segment]:
    out, offset = [], 0
    for index, text in enumerate(texts):
        speech = "" if mute(index) else None
        out.append(Segment(index, offset, offset + len(text), text, speech=speech))
        offset += len(text)
    return out


async def checkpoints(count: int) -> None:
    for _ in range(count):
        await anyio.lowlevel.checkpoint()


def by_segment(chunks: list[AudioChunk]) -> dict[int, list[AudioChunk]]:
    out: dict[int, list[AudioChunk]] = {}
    for chunk in chunks:
        out.setdefault(chunk.segment.index, []).append(chunk)
    return out


# --------------------------------------------------------------------------------------
# Synthesizers that misbehave
# --------------------------------------------------------------------------------------


class Misbehaving:
    """Speaks every text like ScriptedSynthesizer, except ``bad_text``, done the ``mode`` way."""

    audio_format = FORMAT

    def __init__(self, mode: str, bad_text: str) -> None:
        self.mode = mode
        self.bad_text = bad_text
        self.opened = 0
        self.closed = 0

    def synthesize(self, text: str) -> Any:
        if text != self.bad_text:
            return self._good(text)
        if self.mode == "raises_at_call":
            raise RuntimeError("the TTS client refused the request")
        if self.mode == "returns_none":
            return None
        if self.mode == "returns_list":
            return [b"ab"]
        if self.mode == "returns_coroutine":
            return self._coroutine(text)
        return self._bad(text)

    async def _coroutine(self, text: str) -> AsyncIterator[bytes]:
        return self._good(text)  # ``async def`` that returns instead of yielding

    async def _good(self, text: str) -> AsyncIterator[bytes]:
        self.opened += 1
        try:
            audio = expected_audio(text)
            for i in range(0, len(audio), 4):
                await anyio.lowlevel.checkpoint()
                yield audio[i : i + 4]
        finally:
            self.closed += 1

    async def _bad(self, text: str) -> AsyncIterator[Any]:
        self.opened += 1
        audio = expected_audio(text)
        try:
            if self.mode == "empty_chunks":
                for i in range(0, len(audio), 2):
                    yield b""
                    yield audio[i : i + 2]
                    yield b""
            elif self.mode == "reused_bytearray":
                # Some audio libraries hand out one buffer and refill it for every chunk.
                buffer = bytearray(2)
                for i in range(0, len(audio), 2):
                    buffer[:] = audio[i : i + 2]
                    yield buffer
                    buffer[:] = b"\xff\xff"
            elif self.mode == "memoryview":
                view = memoryview(audio)
                for i in range(0, len(audio), 3):
                    yield view[i : i + 3]
            elif self.mode == "raises_in_finally":
                yield audio
        finally:
            self.closed += 1
            if self.mode == "raises_in_finally":
                raise OSError("connection reset while closing")


# mode -> (expected error type or None, whether the bad segment's audio arrives whole)
MODES: dict[str, tuple[type[BaseException] | None, bool]] = {
    "raises_at_call": (RuntimeError, False),
    "returns_none": (TypeError, False),
    "returns_list": (TypeError, False),
    "returns_coroutine": (TypeError, False),
    "empty_chunks": (None, True),
    "reused_bytearray": (None, True),
    "memoryview": (None, True),
    "raises_in_finally": (OSError, True),
}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", sorted(MODES))
async def test_misbehaving_synthesizer_fails_only_its_segment(mode: str) -> None:
    texts = ["First segment.", "The bad one!", "Third segment.", "Fourth."]
    tts = Misbehaving(mode, bad_text=texts[1])
    error_type, audio_whole = MODES[mode]
    async with ProgressiveSynthesizer(tts, max_buffered_bytes=8).stream(
        as_segments(texts)
    ) as chunks:
        received = [chunk async for chunk in chunks]

    per_segment = by_segment(received)
    assert sorted(per_segment) == [0, 1, 2, 3]
    assert [c.segment.index for c in received] == sorted(c.segment.index for c in received)
    for index, mine in per_segment.items():
        # Exactly one final chunk, last, empty; no empty non-final chunks.
        assert [c.final for c in mine] == [False] * (len(mine) - 1) + [True]
        assert mine[-1].data == b""
        assert all(c.data for c in mine[:-1])
        audio = b"".join(c.data for c in mine)
        if index == 1:
            if error_type is None:
                assert mine[-1].error is None
            else:
                assert isinstance(mine[-1].error, error_type)
            if audio_whole:
                assert audio == expected_audio(texts[1])
        else:
            assert mine[-1].error is None
            assert audio == expected_audio(texts[index])
    assert tts.opened == tts.closed


@pytest.mark.anyio
async def test_tts_cleanup_that_raises_while_cancelled_does_not_escape() -> None:
    """Leaving early while a TTS's ``finally`` raises: the block still exits cleanly."""

    class RaisesOnClose(ScriptedSynthesizer):
        async def synthesize(self, text: str) -> AsyncIterator[bytes]:
            self.opened.append(text)
            try:
                for _ in range(1000):
                    yield b"ab"
            finally:
                self.closed += 1
                raise OSError("socket already closed")

    tts = RaisesOnClose()
    source = TrackedSource(SENTENCES)
    async with stream_reply(source, tts, max_buffered_bytes=4) as events:
        async for event in events:
            if isinstance(event, AudioEvent):
                break
    assert source.closed
    assert tts.closed == len(tts.opened) > 0


def run_with_mock_clock(main: Callable[[], Any]) -> Any:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


class HangsOnClose:
    """A TTS whose ``finally`` waits forever (say, for a server that never answers)."""

    audio_format = FORMAT

    def __init__(self) -> None:
        self.opened = 0
        self.finally_entered = 0

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.opened += 1
        try:
            for _ in range(10_000):
                yield b"ab" * 16
        finally:
            self.finally_entered += 1
            await anyio.Event().wait()


def test_cleanup_of_a_hanging_tts_is_bounded() -> None:
    async def main() -> tuple[float, int, int]:
        tts = HangsOnClose()
        segments = as_segments([f"Segment {i}." for i in range(5)])
        progressive = ProgressiveSynthesizer(tts, max_concurrency=3, max_buffered_bytes=64)
        async with progressive.stream(segments) as chunks:
            await chunks.__anext__()
            await checkpoints(30)  # every slot's request now waits on the byte budget
            left = anyio.current_time()
        return anyio.current_time() - left, tts.opened, tts.finally_entered

    took, opened, finally_entered = run_with_mock_clock(main)
    assert took == pytest.approx(CLOSE_TIMEOUT)
    assert opened == finally_entered == 3


def test_cleanup_of_a_hanging_llm_and_tts_is_bounded() -> None:
    class HangingLLM:
        def __init__(self) -> None:
            self.pulled = 0
            self.close_started = False

        def __aiter__(self) -> HangingLLM:
            return self

        async def __anext__(self) -> str:
            await anyio.sleep(0.01)
            self.pulled += 1
            return SENTENCES[self.pulled % len(SENTENCES)]

        async def aclose(self) -> None:
            self.close_started = True
            await anyio.Event().wait()

    async def main() -> tuple[float, bool]:
        llm = HangingLLM()
        async with stream_reply(llm, HangsOnClose(), max_buffered_bytes=64) as events:
            async for event in events:
                if isinstance(event, AudioEvent):
                    break
            left = anyio.current_time()
        return anyio.current_time() - left, llm.close_started

    took, close_started = run_with_mock_clock(main)
    assert close_started
    # Each stage's cleanup is bounded; the stages close one after the other at worst.
    assert CLOSE_TIMEOUT <= took <= 2 * CLOSE_TIMEOUT


# --------------------------------------------------------------------------------------
# Cancellation of a single __anext__ (a per-event timeout) must lose nothing
# --------------------------------------------------------------------------------------


async def cancel_after(scope: anyio.CancelScope, count: int) -> None:
    await checkpoints(count)
    scope.cancel()


@pytest.mark.anyio
@given(
    pattern=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    max_concurrency=st.integers(1, 3),
)
async def test_audio_chunk_stream_survives_cancelled_next(
    pattern: list[int], max_concurrency: int
) -> None:
    """A consumer that times out waiting for a chunk, then asks again, loses no audio.

    0: a plain ``__anext__``; 1: one whose deadline has already passed; n > 1: one that
    is cancelled after n checkpoints (while waiting for a job, a chunk or a slot).
    """
    texts = ["Alpha one.", "Beta two!", "Gamma three?", "Delta four.", "Epsilon."]
    tts = ScriptedSynthesizer(chunk_size=2, delays=lambda text, index: (len(text) + index) % 4)
    progressive = ProgressiveSynthesizer(tts, max_concurrency=max_concurrency, max_buffered_bytes=6)
    pattern = [*pattern, 0]  # a plain call now and then, so the consumer progresses
    received: list[AudioChunk] = []
    calls = 0
    async with anyio.create_task_group() as tg, progressive.stream(as_segments(texts)) as chunks:
        while True:
            mode = pattern[calls % len(pattern)]
            calls += 1
            with anyio.CancelScope() as scope:
                if mode == 1:
                    scope.cancel()
                elif mode > 1:
                    tg.start_soon(cancel_after, scope, mode)
                try:
                    received.append(await chunks.__anext__())
                except StopAsyncIteration:
                    break
            if calls > 10_000:  # pragma: no cover - a livelock would be a bug
                pytest.fail("the stream never ended")
    per_segment = by_segment(received)
    assert sorted(per_segment) == list(range(len(texts)))
    for index, mine in per_segment.items():
        assert b"".join(c.data for c in mine) == expected_audio(texts[index])
        assert [c.final for c in mine].count(True) == 1 and mine[-1].final
    assert tts.open_now == 0


async def numbers(count: int) -> AsyncIterator[int]:
    for i in range(count):
        yield i


@pytest.mark.anyio
async def test_merged_stream_cancelled_next_loses_no_item() -> None:
    async with merge_events(numbers(5)) as merged:
        await checkpoints(20)  # the pump fills the buffer
        with anyio.CancelScope() as scope:
            scope.cancel()  # e.g. a per-event deadline that has already passed
            await merged.__anext__()
        assert scope.cancelled_caught
        rest = [item async for item in merged]
    assert rest == [0, 1, 2, 3, 4]


@pytest.mark.anyio
async def test_reply_stream_with_per_event_timeout_loses_nothing() -> None:
    reply = "".join(SENTENCES[:3])
    tts = ScriptedSynthesizer()
    events: list[Event] = []
    async with stream_reply([reply[i : i + 7] for i in range(0, len(reply), 7)], tts) as stream:
        await checkpoints(50)  # events are waiting in the buffer
        with anyio.move_on_after(0):  # the host's keep-alive deadline expired meanwhile
            events.append(await stream.__anext__())
        events.extend([event async for event in stream])
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == reply
    segments = [e.segment for e in events if isinstance(e, SegmentEvent)]
    done = [e.segment_index for e in events if isinstance(e, SegmentDoneEvent)]
    assert done == [s.index for s in segments] and segments
    audio = b"".join(e.data for e in events if isinstance(e, AudioEvent))
    assert audio == b"".join(expected_audio(s.speech_text) for s in segments)
    assert isinstance(events[-1], DoneEvent)


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


class IterableNotIterator:
    """An async *iterable* whose ``__aiter__`` is an async generator (a common SDK shape).

    It has no ``aclose()`` of its own: closing it means closing the iterator that
    ``__aiter__`` returned.
    """

    def __init__(self) -> None:
        self.iterators: list[AsyncGenerator[str, None]] = []
        self.finished = 0

    def __aiter__(self) -> AsyncGenerator[str, None]:
        iterator = self._items()
        self.iterators.append(iterator)
        return iterator

    async def _items(self) -> AsyncGenerator[str, None]:
        try:
            for i in range(10_000):
                yield SENTENCES[i % len(SENTENCES)]  # no await: suspended only at yield
        finally:
            self.finished += 1  # where the HTTP response would be closed

    async def close_leftovers(self) -> None:
        for iterator in self.iterators:
            await iterator.aclose()


async def leave_merge(source: IterableNotIterator) -> None:
    async with merge_events(source, max_buffer=1) as merged:
        async for _ in merged:
            break


async def leave_progressive(source: IterableNotIterator) -> None:
    async with ProgressiveSynthesizer(ScriptedSynthesizer()).stream(source) as chunks:
        async for _ in chunks:
            break


async def leave_reply(source: IterableNotIterator) -> None:
    async with stream_reply(source, ScriptedSynthesizer()) as events:
        async for _ in events:
            break


@pytest.mark.anyio
@pytest.mark.parametrize("leave", [leave_merge, leave_progressive, leave_reply])
async def test_iterator_of_an_async_iterable_source_is_closed(
    leave: Callable[[IterableNotIterator], Any],
) -> None:
    source = IterableNotIterator()
    await leave(source)
    finished_before_return = source.finished
    await source.close_leftovers()  # so the generator is not left to the GC
    assert source.iterators
    assert finished_before_return == len(source.iterators)


async def drops_connection() -> AsyncIterator[str]:
    yield SENTENCES[0]
    yield "and then the connection to the LLM dro"
    raise anyio.BrokenResourceError  # what an anyio socket stream raises on a reset


async def consume_merge() -> None:
    async with merge_events(drops_connection()) as merged:
        async for _ in merged:
            pass


async def consume_progressive() -> None:
    async with ProgressiveSynthesizer(ScriptedSynthesizer()).stream(drops_connection()) as c:
        async for _ in c:
            pass


async def consume_reply() -> None:
    async with stream_reply(drops_connection(), ScriptedSynthesizer()) as events:
        async for _ in events:
            pass


async def consume_reply_idle_flush() -> None:
    async with stream_reply(drops_connection(), ScriptedSynthesizer(), idle_flush=5) as events:
        async for _ in events:
            pass


@pytest.mark.anyio
@pytest.mark.parametrize(
    "consume", [consume_merge, consume_progressive, consume_reply, consume_reply_idle_flush]
)
async def test_source_failing_with_broken_resource_error_is_not_a_clean_end(
    consume: Callable[[], Any],
) -> None:
    with pytest.raises(anyio.BrokenResourceError):
        await consume()


class ClosesBadly:
    """Three items, then a normal end; its ``aclose()`` raises."""

    def __init__(self) -> None:
        self.count = 0

    def __aiter__(self) -> ClosesBadly:
        return self

    async def __anext__(self) -> int:
        await anyio.lowlevel.checkpoint()
        if self.count == 3:
            raise StopAsyncIteration
        self.count += 1
        return self.count

    async def aclose(self) -> None:
        raise ValueError("close failed")


@pytest.mark.anyio
async def test_source_close_error_reaches_consumer_through_the_stream() -> None:
    received: list[int] = []
    async with merge_events(ClosesBadly()) as merged:
        await checkpoints(20)  # the source ends and fails to close meanwhile
        with pytest.raises(ValueError, match="close failed"):
            async for item in merged:
                received.append(item)
    assert received == [1, 2, 3]


class LLMFailingToClose:
    """An endless LLM stream whose ``aclose()`` raises (the connection was already reset)."""

    def __init__(self) -> None:
        self.pulled = 0

    def __aiter__(self) -> LLMFailingToClose:
        return self

    async def __anext__(self) -> str:
        self.pulled += 1
        return SENTENCES[self.pulled % len(SENTENCES)]

    async def aclose(self) -> None:
        raise OSError("connection reset while closing")


@pytest.mark.anyio
async def test_body_exception_comes_out_as_itself_when_the_llm_fails_to_close() -> None:
    with pytest.raises(anyio.BrokenResourceError):
        async with stream_reply(
            LLMFailingToClose(), ScriptedSynthesizer(), max_buffered_events=1
        ) as events:
            async for event in events:
                if isinstance(event, TokenEvent):
                    await checkpoints(10)
                    raise anyio.BrokenResourceError  # the host's WebSocket closed


@pytest.mark.anyio
async def test_sync_generator_source_failing_at_first_item() -> None:
    def refuse() -> str:
        raise ConnectionError("the LLM refused the request")

    def broken() -> Iterator[str]:
        yield refuse()  # raises at the first next()

    tts = ScriptedSynthesizer()
    seen: list[Event] = []
    with pytest.raises(ConnectionError, match="refused"):
        async with stream_reply(broken(), tts) as events:
            async for event in events:
                seen.append(event)
    assert seen == [] and tts.opened == []


@pytest.mark.anyio
async def test_source_yielding_a_non_str_fails_the_reply_and_closes_it() -> None:
    source = TrackedSource([SENTENCES[0], 42, SENTENCES[1]])  # type: ignore[list-item]
    tts = ScriptedSynthesizer()
    with pytest.raises(TypeError):
        async with stream_reply(source, tts) as events:
            async for _ in events:
                pass
    assert source.closed and tts.open_now == 0


# --------------------------------------------------------------------------------------
# Reuse, concurrency, scale, memory
# --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_segmenter_instance_does_not_leak_between_streams() -> None:
    stop = anyio.Event()

    async def interrupted() -> AsyncIterator[str]:
        yield SENTENCES[0] + SENTENCES[1]
        yield "an unfinished"
        await stop.wait()  # the user interrupts the reply here

    progressive = ProgressiveSynthesizer(ScriptedSynthesizer(), segmenter=IncrementalSegmenter())
    async with progressive.stream(interrupted()) as chunks:
        async for chunk in chunks:
            if chunk.final:
                break
    second = "The next reply starts here."
    async with progressive.stream([second]) as chunks:
        segments = [chunk.segment async for chunk in chunks if chunk.final]
    assert segments == [Segment(0, 0, len(second), second)]


@pytest.mark.anyio
async def test_concurrent_streams_share_one_synthesizer() -> None:
    tts = ScriptedSynthesizer(chunk_size=2, delays=lambda text, index: index % 3)
    progressive = ProgressiveSynthesizer(tts, max_concurrency=2, max_buffered_bytes=5)
    results: dict[str, list[AudioChunk]] = {}

    async def run(name: str) -> None:
        texts = [f"{name} says {i}." for i in range(6)]
        async with progressive.stream(as_segments(texts)) as chunks:
            results[name] = [chunk async for chunk in chunks]

    async with anyio.create_task_group() as tg:
        for name in ("Ann", "Bob", "Cyd"):
            tg.start_soon(run, name)
    for name, received in results.items():
        per_segment = by_segment(received)
        assert sorted(per_segment) == list(range(6))
        for index, mine in per_segment.items():
            assert b"".join(c.data for c in mine) == expected_audio(f"{name} says {index}.")
    assert tts.open_now == 0 and tts.peak_open <= 3 * 2


@pytest.mark.anyio
async def test_thousands_of_tiny_segments_with_silent_ones_between() -> None:
    count = 1500
    texts = [f"s{i}" for i in range(count)]
    tts = ScriptedSynthesizer(chunk_size=1)
    progressive = ProgressiveSynthesizer(tts, max_concurrency=1, max_buffered_bytes=1)
    async with progressive.stream(as_segments(texts, mute=lambda i: i % 3 == 1)) as chunks:
        finals = [chunk async for chunk in chunks if chunk.final]
    assert [c.segment.index for c in finals] == list(range(count))
    assert all(c.error is None for c in finals)
    assert [c.offset for c in finals] == [
        0 if i % 3 == 1 else len(expected_audio(t)) for i, t in enumerate(texts)
    ]
    assert len(tts.opened) == count - count // 3 and tts.open_now == 0


@pytest.mark.anyio
async def test_slow_consumer_bounds_audio_buffered_in_stream_reply() -> None:
    tts = ScriptedSynthesizer(chunk_size=8)
    budget, max_events, concurrency = 32, 4, 2
    consumed = 0
    worst = 0
    async with stream_reply(
        SENTENCES * 3,
        tts,
        max_concurrency=concurrency,
        max_buffered_bytes=budget,
        max_buffered_events=max_events,
    ) as events:
        async for event in events:
            if isinstance(event, AudioEvent):
                consumed += len(event.data)
            await checkpoints(20)  # the producers run as far as they can
            worst = max(worst, tts.bytes_yielded - consumed)
    assert consumed == tts.bytes_yielded > 0
    # The head's allowance, the budget behind it, one chunk in hand per request, and the
    # audio events waiting in the merged buffer (plus one in each pump's hand).
    assert worst <= 2 * budget + (concurrency + max_events + 2) * tts.chunk_size


# --------------------------------------------------------------------------------------
# Using a stream after its block
# --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_chunks_used_after_the_block_fail_clearly() -> None:
    class HalfThenStall(ScriptedSynthesizer):
        async def synthesize(self, text: str) -> AsyncIterator[bytes]:
            yield b"ab"
            await anyio.sleep_forever()

    async with ProgressiveSynthesizer(HalfThenStall()).stream(as_segments(["Hi."])) as chunks:
        first = await chunks.__anext__()
    assert first.data == b"ab" and not first.final
    with pytest.raises(anyio.ClosedResourceError):
        await chunks.__anext__()


@pytest.mark.anyio
async def test_events_used_after_the_block_fail_clearly() -> None:
    async with stream_reply(SENTENCES, ScriptedSynthesizer()) as events:
        await events.__anext__()
    with anyio.fail_after(1), pytest.raises(anyio.ClosedResourceError):
        await events.__anext__()


@pytest.mark.anyio
async def test_no_done_event_after_the_source_failed() -> None:
    source = TrackedSource(SENTENCES, fail_at=2)
    async with stream_reply(source, ScriptedSynthesizer()) as events:
        with pytest.raises(KeyError):
            async for _ in events:
                pass
        with pytest.raises(StopAsyncIteration):
            await events.__anext__()
