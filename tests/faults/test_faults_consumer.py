"""Consumer faults: a host that stops reading, reads slowly, disconnects or is cancelled.

Against the real OpenAISpeech backend over a socket (``FaultServer``) and against the
in-process fakes. Each test asserts: no text lost (or, when the consumer leaves, the
LLM stream closed at once), no request or connection left behind (the server saw each
request end), memory bounded by the budgets (what the TTS and the LLM produced beyond
what the consumer took), and a clear event or exception for the consumer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from faultkit import AsyncGeneratorWatch, Call, FaultServer, serving

from e2estream import (
    AudioEvent,
    DoneEvent,
    Event,
    SegmentDoneEvent,
    SegmentEvent,
    StallEvent,
    TextTiming,
    TokenEvent,
    stream_reply,
)
from e2estream.backends import OpenAISpeech
from e2estream.testing import FakeSynthesizer, scripted_tokens, split_like_llm
from helpers import TrackedSource

pytestmark = pytest.mark.anyio
T = TypeVar("T")

REPLY = "The first sentence is here. The second one follows it. The third one ends the reply."


def pcm_for(text: str) -> bytes:
    return (text.encode() * 400)[:4000]


async def slow_audio(call: Call) -> None:
    """The audio in ten pieces, a little apart, noticing a client that left."""
    audio = pcm_for(call.text)
    await call.start(200, "audio/pcm")
    for i in range(0, len(audio), 400):
        await call.check_gone()
        await call.chunk(audio[i : i + 400])
        await anyio.sleep(0.01)
    await call.end()


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serving(FaultServer({"slow": slow_audio})) as running:
        yield running


class Leave(Exception):
    """The host's transport failed (its client disconnected)."""


async def check_server_saw_every_request_end(server: FaultServer, run: str) -> list[str]:
    log = server.logs[run]
    # First the connections: a request cut off in flight may reach the log only now.
    assert await server.wait_all_closed() == 0
    requests, outcomes = await anyio.to_thread.run_sync(log.wait_all_ended)
    assert len(outcomes) == requests and "error" not in outcomes
    return outcomes


@pytest.mark.parametrize("how", ["exception", "break", "cancel"])
async def test_a_consumer_that_leaves_mid_audio_closes_every_request(
    server: FaultServer, how: str
) -> None:
    run = server.new_run()
    source = TrackedSource(split_like_llm(REPLY))
    received: list[Event] = []
    with AsyncGeneratorWatch() as watch, anyio.CancelScope() as outside:
        async with OpenAISpeech(base_url=f"{server.url}/{run}/slow/v1") as tts:
            try:
                async with stream_reply(source, tts) as events:
                    async for event in events:
                        received.append(event)
                        if isinstance(event, AudioEvent):
                            if how == "exception":
                                raise Leave  # the host's websocket.send failed
                            if how == "cancel":
                                outside.cancel()  # a timeout or shutdown of the host
                                await anyio.lowlevel.checkpoint()
                            break
            except Leave:
                pass
        assert watch.suspended() == []  # every body generator finished, none left to GC
    assert source.closed  # the LLM stream was closed, not left to the garbage collector
    assert any(isinstance(e, AudioEvent) for e in received)
    outcomes = await check_server_saw_every_request_end(server, run)
    assert "client-left" in outcomes  # the request being streamed was cut off, not read out


async def test_a_consumer_that_reads_slowly_gets_everything(server: FaultServer) -> None:
    run = server.new_run()
    events: list[Event] = []
    async with (
        OpenAISpeech(base_url=f"{server.url}/{run}/slow/v1") as tts,
        stream_reply(split_like_llm(REPLY), tts, max_buffered_events=2) as stream,
    ):
        async for event in stream:
            events.append(event)
            await anyio.sleep(0.005)  # a slow client link
    segments = [e.segment for e in events if isinstance(e, SegmentEvent)]
    audio = {s.index: b"" for s in segments}
    for event in events:
        if isinstance(event, AudioEvent):
            audio[event.segment_index] += event.data
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == REPLY
    assert audio == {s.index: pcm_for(s.speech_text) for s in segments}
    assert isinstance(events[-1], DoneEvent) and events[-1].metrics.errors == 0
    assert set(await check_server_saw_every_request_end(server, run)) == {"complete"}


# --- in-process fakes, simulated time ------------------------------------------------------


def run_on_trio(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


class Counting(FakeSynthesizer):
    """A fake TTS that counts the audio bytes it has produced."""

    produced = 0

    async def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:  # type: ignore[override]
        async for item in super().synthesize(text):
            if isinstance(item, bytes):
                self.produced += len(item)
            yield item


class CountingTokens:
    """scripted_tokens, counting how many tokens the pipeline has pulled."""

    def __init__(self, text: str) -> None:
        self.pulled = 0
        self._tokens = scripted_tokens(text, tokens_per_second=40, first_token_delay=0.1)

    def __aiter__(self) -> CountingTokens:
        return self

    async def __anext__(self) -> str:
        token = await self._tokens.__anext__()
        self.pulled += 1
        return token

    async def aclose(self) -> None:
        await self._tokens.aclose()  # type: ignore[attr-defined]


def test_a_consumer_that_stops_reading_holds_the_tts_and_llm_within_the_budgets() -> None:
    text = " ".join(f"Sentence number {i} is about six words long." for i in range(40))
    budget, buffered_events = 20_000, 4

    async def main() -> None:
        tts = Counting(ttfb=0.2, realtime_factor=0.3)
        tokens = CountingTokens(text)
        events: list[Event] = []
        async with stream_reply(
            tokens, tts, max_buffered_bytes=budget, max_buffered_events=buffered_events
        ) as stream:
            async for event in stream:
                events.append(event)
                if len(events) == 60:
                    await anyio.sleep(120)  # the host stops reading for two minutes
                    taken = sum(len(e.data) for e in events if isinstance(e, AudioEvent))
                    # Audio: the head's allowance, the budget behind it, and the few
                    # events buffered for the consumer (a 0.1 s chunk is 4800 bytes).
                    assert tts.produced - taken <= 2 * budget + (buffered_events + 2) * 4800
                    # Tokens: only what the event buffer holds went past the consumer.
                    assert (
                        tokens.pulled - len([e for e in events if isinstance(e, TokenEvent)])
                        <= buffered_events + 2
                    )
        assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == text
        assert all(not e.failed for e in events if isinstance(e, SegmentDoneEvent))
        # The listener noticed: playback ran dry while the host was away.
        assert any(isinstance(e, StallEvent) for e in events)
        done = events[-1]
        assert isinstance(done, DoneEvent) and done.metrics.stall_time >= 100

    run_on_trio(main)


def test_a_tts_ten_times_slower_than_real_time_is_reported_as_stalls() -> None:
    # Every 0.1 s chunk takes 1 s to make: playback runs dry after each one.
    async def main() -> list[Event]:
        tts = FakeSynthesizer(ttfb=0.2, realtime_factor=10, chunk_duration=0.1)
        source = scripted_tokens("One short sentence.", tokens_per_second=100)
        async with stream_reply(source, tts) as stream:
            return [event async for event in stream]

    events = run_on_trio(main)
    audio = [e for e in events if isinstance(e, AudioEvent)]
    stalls = [e for e in events if isinstance(e, StallEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert len(audio) >= 10
    # One stall before each chunk after the first, at the audio delivered so far.
    assert len(stalls) == len(audio) - 1 == done.metrics.stalls
    assert [s.reply_time for s in stalls] == pytest.approx([a.reply_time for a in audio[1:]])
    assert done.metrics.stall_time == pytest.approx(0.9 * len(stalls))
    # Each stall is announced when the player runs dry, before the audio that ends it.
    for stall in stalls:
        position = events.index(stall)
        assert isinstance(events[position + 1], AudioEvent)


def test_a_fast_tts_reports_no_stall_and_the_end_of_the_reply_is_no_stall() -> None:
    async def main() -> list[Event]:
        tts = FakeSynthesizer(ttfb=0.2, realtime_factor=0.3)
        source = scripted_tokens(REPLY, tokens_per_second=40)
        async with stream_reply(source, tts) as stream:
            return [event async for event in stream]

    events = run_on_trio(main)
    assert not any(isinstance(e, StallEvent) for e in events)
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.metrics.stalls == 0


def test_an_llm_pause_after_the_first_sentence_is_one_stall() -> None:
    first = "Let me check that for you. "

    async def llm() -> AsyncIterator[str]:
        yield first
        yield "It"  # the first sentence is complete once the next word begins
        await anyio.sleep(10)  # a tool call
        yield " is done now, all of it."

    async def main() -> tuple[list[Event], list[float]]:
        tts = FakeSynthesizer(ttfb=0.2, realtime_factor=0.3)
        start = anyio.current_time()
        events: list[Event] = []
        times: list[float] = []
        async with stream_reply(llm(), tts) as stream:
            async for event in stream:
                events.append(event)
                times.append(anyio.current_time() - start)
        return events, times

    events, times = run_on_trio(main)
    stalls = [i for i, e in enumerate(events) if isinstance(e, StallEvent)]
    assert len(stalls) == 1
    # The first sentence's audio (26 chars at 15 chars/s) starts at 0.2 s; the player
    # runs dry when it has been played, long before the second sentence is written.
    first_audio = next(t for t, e in zip(times, events, strict=True) if isinstance(e, AudioEvent))
    assert times[stalls[0]] == pytest.approx(first_audio + len(first.strip()) / 15, abs=0.01)


async def test_an_interrupted_reply_reports_no_stall() -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    events: list[Event] = []
    async with stream_reply(TrackedSource(split_like_llm(REPLY)), tts) as stream:
        async for event in stream:
            events.append(event)
            if isinstance(event, AudioEvent) and not stream.interrupted:
                await stream.interrupt()
    assert not any(isinstance(e, StallEvent) for e in events)
    assert isinstance(events[-1], DoneEvent) and events[-1].interrupted
