"""Pacing: synthesis stays about ``max_ahead`` seconds ahead of the listener, never stalls."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import anyio
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ProgressiveSynthesizer,
    ReplyMetrics,
    TextTiming,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

T = TypeVar("T")
SENTENCE = "Each of these sentences takes four point eight seconds to say, at 15 c/s. "
REPLY = SENTENCE * 12


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


@dataclass
class Recording:
    """A synthesizer wrapper that notes when each segment started and each chunk came."""

    inner: FakeSynthesizer
    started: list[float] = field(default_factory=list)
    first_audio: list[float] = field(default_factory=list)
    produced: list[tuple[float, float]] = field(default_factory=list)  # (time, seconds)

    @property
    def audio_format(self) -> AudioFormat:
        return self.inner.audio_format

    @property
    def compute_bound(self) -> bool:
        return self.inner.compute_bound

    async def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        self.started.append(anyio.current_time())
        first = True
        async for item in self.inner.synthesize(text):
            if isinstance(item, bytes):
                now = anyio.current_time()
                if first:
                    self.first_audio.append(now)
                    first = False
                self.produced.append((now, item.__len__() / 48000))
            yield item


@dataclass
class Outcome:
    metrics: ReplyMetrics
    max_ahead_seen: float
    segment_seconds: float
    texts: int


def run(
    max_ahead: float | None,
    *,
    tokens_per_second: float = math.inf,
    ttfb: float = 0.1,
    realtime_factor: float = 0.2,
    reply: str = REPLY,
) -> Outcome:
    tts = Recording(FakeSynthesizer(ttfb=ttfb, realtime_factor=realtime_factor))

    async def main() -> Outcome:
        delivered: list[tuple[float, float]] = []  # (arrival time, seconds of audio)
        llm = scripted_tokens(reply, tokens_per_second=tokens_per_second, first_token_delay=0)
        async with stream_reply(llm, tts, max_ahead=max_ahead, max_concurrency=2) as events:
            async for event in events:
                if isinstance(event, AudioEvent):
                    assert event.duration is not None
                    delivered.append((anyio.current_time(), event.duration))
                elif isinstance(event, DoneEvent):
                    metrics = event.metrics
        return Outcome(
            metrics,
            worst_look_ahead(tts.produced, delivered),
            len(SENTENCE.strip()) / tts.inner.chars_per_second,
            len(tts.inner.statistics.texts),
        )

    return simulated(main)


def worst_look_ahead(
    produced: list[tuple[float, float]], delivered: list[tuple[float, float]]
) -> float:
    """Synthesized minus played audio, at each moment audio was produced.

    The listener starts with the first delivered audio and plays in real time; the
    consumer here reads at once and the TTS is faster than real time, so it never runs dry.
    """
    start = delivered[0][0]
    total_delivered = sum(seconds for _, seconds in delivered)
    synthesized = 0.0
    worst = 0.0
    for when, seconds in produced:
        synthesized += seconds
        played = min(max(0.0, when - start), total_delivered)
        worst = max(worst, synthesized - played)
    return worst


@pytest.mark.parametrize("max_ahead", [1.0, 3.0, 6.0])
def test_synthesis_stays_within_max_ahead_plus_one_segment(max_ahead: float) -> None:
    unpaced = run(None)
    paced = run(max_ahead)
    # The scenario is one where the unpaced pipeline runs far ahead...
    assert unpaced.max_ahead_seen > max_ahead + 2 * paced.segment_seconds
    # ...and pacing holds it to the bound, with one 0.1 s chunk of slack.
    assert paced.max_ahead_seen <= max_ahead + paced.segment_seconds + 0.1 + 1e-6
    assert paced.metrics.stall_time == 0.0
    assert paced.metrics.time_to_first_audio == unpaced.metrics.time_to_first_audio


@given(
    max_ahead=st.floats(0.5, 8.0),
    tokens_per_second=st.sampled_from([20.0, 30.0, 60.0, math.inf]),
    ttfb=st.floats(0.05, 1.0),
    realtime_factor=st.floats(0.05, 0.95),
)
def test_pacing_adds_no_stall_and_keeps_first_audio(
    max_ahead: float, tokens_per_second: float, ttfb: float, realtime_factor: float
) -> None:
    world = partial(
        run,
        tokens_per_second=tokens_per_second,
        ttfb=ttfb,
        realtime_factor=realtime_factor,
        reply=SENTENCE * 4,
    )
    unpaced = world(None)
    paced = world(max_ahead)
    assert paced.metrics.stall_time <= unpaced.metrics.stall_time + 1e-6
    assert paced.metrics.time_to_first_audio == unpaced.metrics.time_to_first_audio
    assert paced.texts == unpaced.texts  # every segment was still spoken


def test_harsh_world_pacing_costs_no_stall() -> None:
    # LLM 30 tokens/s, TTS first byte 0.8 s, real-time factor 0.95 (the harsh world).
    harsh = partial(run, tokens_per_second=30.0, ttfb=0.8, realtime_factor=0.95)
    unpaced = harsh(None)
    for max_ahead in (0.5, 2.0, 5.0):
        paced = harsh(max_ahead)
        assert paced.metrics.stall_time <= unpaced.metrics.stall_time + 1e-6
        assert paced.metrics.time_to_first_audio == unpaced.metrics.time_to_first_audio


def test_a_paused_player_holds_synthesis_back() -> None:
    tts = FakeSynthesizer(ttfb=0.1, realtime_factor=0.1)

    async def main() -> tuple[int, int]:
        async with stream_reply(
            scripted_tokens(REPLY, tokens_per_second=math.inf), tts, max_ahead=6.0
        ) as events:
            started_while_paused = 0

            async def player() -> None:
                nonlocal started_while_paused
                for _ in range(100):  # paused at 0.0 for 10 s, reporting it every 0.1 s
                    events.report_played(0.0)
                    await anyio.sleep(0.1)
                started_while_paused = len(tts.statistics.texts)
                position = 0.0
                while True:  # then playing, reporting as it goes
                    position += 0.1
                    events.report_played(position)
                    await anyio.sleep(0.1)

            async with anyio.create_task_group() as group:
                group.start_soon(player)
                async for _ in events:
                    pass
                group.cancel_scope.cancel()
        return started_while_paused, len(tts.statistics.texts)

    while_paused, in_all = simulated(main)
    # 6 s of look-ahead: a second segment starts after the first's 4.8 s, a third not.
    assert while_paused == 2
    assert in_all == 12


def test_compute_bound_backends_start_a_segment_after_the_previous_ones_first_audio() -> None:
    tts = Recording(FakeSynthesizer(ttfb=0.3, realtime_factor=0.1, compute_bound=True))

    async def main() -> None:
        llm = scripted_tokens(SENTENCE * 4, tokens_per_second=math.inf, first_token_delay=0)
        async with stream_reply(llm, tts, max_concurrency=3) as events:
            async for _ in events:
                pass

    simulated(main)
    assert len(tts.started) == 4
    for started, previous_first_audio in zip(tts.started[1:], tts.first_audio, strict=False):
        assert started >= previous_first_audio


def test_remote_backends_still_overlap_their_requests() -> None:
    tts = Recording(FakeSynthesizer(ttfb=0.3, realtime_factor=0.1))

    async def main() -> None:
        llm = scripted_tokens(SENTENCE * 4, tokens_per_second=math.inf, first_token_delay=0)
        async with stream_reply(llm, tts, max_concurrency=3, max_ahead=None) as events:
            async for _ in events:
                pass

    simulated(main)
    assert tts.started[1] < tts.first_audio[0]  # the second request waits for no one


@pytest.mark.anyio
async def test_max_ahead_is_validated() -> None:
    tts = FakeSynthesizer(ttfb=0)
    for bad in (0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="max_ahead must be a positive, finite"):
            ProgressiveSynthesizer(tts, max_ahead=bad)
        with pytest.raises(ValueError, match="max_ahead must be a positive, finite"):
            async with stream_reply(["x"], tts, max_ahead=bad):
                pass
    with pytest.raises(TypeError, match="max_ahead must be a number of seconds"):
        ProgressiveSynthesizer(tts, max_ahead="3")  # type: ignore[arg-type]


def test_stream_reply_paces_by_default() -> None:
    # The default look-ahead (3 s) holds a fast TTS back; None lets it run ahead.
    assert run(None).max_ahead_seen > 10
    tts = Recording(FakeSynthesizer(ttfb=0.1, realtime_factor=0.2))

    async def main() -> None:
        llm = scripted_tokens(REPLY, tokens_per_second=math.inf, first_token_delay=0)
        async with stream_reply(llm, tts) as events:
            delivered = [
                (anyio.current_time(), event.duration or 0.0)
                async for event in events
                if isinstance(event, AudioEvent)
            ]
        assert worst_look_ahead(tts.produced, delivered) <= 3.0 + 4.87 + 0.1 + 1e-6

    simulated(main)
