"""prewarm(): run as the reply starts, beside the LLM; never delays tokens; a failure is logged."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import anyio
import pytest
import trio.testing

from e2estream import (
    ErrorEvent,
    Event,
    FallbackSynthesizer,
    SegmentDoneEvent,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

pytestmark = pytest.mark.anyio
T = TypeVar("T")
REPLY = "Hello there. This is the second sentence."


def run_on_trio(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


class Warmable(FakeSynthesizer):
    """A fake TTS with a prewarm step that takes ``warm_time`` s, or fails, or is sync."""

    def __init__(
        self, warm_time: float = 0.5, *, fail: bool = False, sync: bool = False, ttfb: float = 0.1
    ) -> None:
        super().__init__(ttfb=ttfb, realtime_factor=0 if ttfb == 0 else 0.3)
        self.warm_time = warm_time
        self.fail = fail
        self.log: list[tuple[str, float]] = []
        if sync:
            self.prewarm = self._sync_prewarm  # type: ignore[method-assign, assignment]

    def _sync_prewarm(self) -> None:
        self.log.append(("sync", anyio.current_time()))

    async def prewarm(self) -> None:
        self.log.append(("start", anyio.current_time()))
        try:
            await anyio.sleep(self.warm_time)
            if self.fail:
                raise ConnectionError("cannot reach the TTS server")
            self.log.append(("warm", anyio.current_time()))
        except anyio.get_cancelled_exc_class():
            self.log.append(("cancelled", anyio.current_time()))
            raise

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:  # type: ignore[override]
        self.log.append(("synthesize", anyio.current_time()))
        async for item in super().synthesize(text):
            if isinstance(item, bytes):
                yield item


async def reply_events(
    tts: object, first_token_delay: float = 1.0, tokens_per_second: float = 20
) -> list[Event]:
    source = scripted_tokens(
        REPLY, tokens_per_second=tokens_per_second, first_token_delay=first_token_delay
    )
    async with stream_reply(source, tts, max_ahead=None) as events:  # type: ignore[arg-type]
        return [event async for event in events]


def test_prewarm_runs_while_the_llm_is_still_thinking() -> None:
    async def main() -> tuple[float, list[tuple[str, float]]]:
        tts = Warmable(warm_time=0.5)
        start = anyio.current_time()
        await reply_events(tts)
        return start, tts.log

    start, log = run_on_trio(main)
    assert log[0] == ("start", start)  # at once, not after the first token (at 1 s)
    assert log[1] == ("warm", start + 0.5)
    assert [what for what, _ in log[2:]] == ["synthesize", "synthesize"]


def test_a_slow_prewarm_delays_no_token_and_is_cancelled_with_the_reply() -> None:
    async def main() -> tuple[list[float], list[float], list[tuple[str, float]], float]:
        timed: list[float] = []
        tts = Warmable(warm_time=math.inf)
        start = anyio.current_time()
        source = scripted_tokens(REPLY, tokens_per_second=20, first_token_delay=1.0)
        async with stream_reply(source, tts, max_ahead=None) as events:
            async for event in events:
                if isinstance(event, TokenEvent):
                    timed.append(anyio.current_time() - start)
        expected = [1.0 + i / 20 for i in range(len(timed))]
        return timed, expected, tts.log, anyio.current_time() - start

    timed, expected, log, _ = run_on_trio(main)
    assert timed == pytest.approx(expected)
    assert log[0][0] == "start" and log[-1][0] == "cancelled"  # closed with the reply
    assert all(what != "warm" for what, _ in log)


async def test_a_failing_prewarm_is_logged_and_the_reply_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tts = Warmable(warm_time=0.01, fail=True, ttfb=0)
    with caplog.at_level(logging.WARNING, logger="e2estream"):
        events = await reply_events(tts, first_token_delay=0.02, tokens_per_second=math.inf)
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    assert all(not e.failed for e in events if isinstance(e, SegmentDoneEvent))
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == REPLY
    (record,) = [r for r in caplog.records if "prewarm" in r.getMessage()]
    assert (
        "Warmable" in record.getMessage() and "cannot reach the TTS server" in record.getMessage()
    )


async def test_a_plain_function_prewarm_is_called_once() -> None:
    tts = Warmable(sync=True, ttfb=0)
    await reply_events(tts, first_token_delay=0, tokens_per_second=math.inf)
    assert [what for what, _ in tts.log].count("sync") == 1


async def test_fallback_prewarms_every_backend_and_survives_one_failing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing, working = Warmable(0.01, fail=True, ttfb=0), Warmable(0.01, ttfb=0)
    plain = FakeSynthesizer(ttfb=0, realtime_factor=0)
    tts = FallbackSynthesizer([failing, working, plain])
    with caplog.at_level(logging.WARNING, logger="e2estream"):
        await reply_events(tts, first_token_delay=0.05, tokens_per_second=math.inf)
    assert failing.log[0][0] == "start"
    assert "warm" not in [what for what, _ in failing.log]
    assert [what for what, _ in working.log][:2] == ["start", "warm"]
    assert any("prewarm of Warmable failed" in r.getMessage() for r in caplog.records)
