"""A reply's consumer may give up waiting (a cancelled wait) and read on afterwards.

And cancellation reaches the hot loops (the consumer, a token source) within eight items.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import anyio
import pytest

from e2estream import DoneEvent, Event, TokenEvent, stream_reply, token_source
from e2estream.testing import FakeSynthesizer, scripted_tokens

TEXT = "Hello there. How are you today? Fine, thanks."


@pytest.mark.anyio
async def test_cancelled_waits_lose_nothing_and_the_stream_reads_on() -> None:
    # The first token comes after 0.3 s: each of the early reads below is cancelled while
    # the consumer waits. Later wake-ups (tokens, audio) then find a spent wait: they must
    # neither fail nor be lost, and the stream must go on.
    tokens = scripted_tokens(TEXT, tokens_per_second=200, first_token_delay=0.3)
    async with stream_reply(tokens, FakeSynthesizer(ttfb=0.01)) as events:
        cancelled = 0
        for _ in range(3):
            with anyio.move_on_after(0.01) as scope:
                await events.__anext__()
            cancelled += scope.cancelled_caught
        seen: list[Event] = [event async for event in events]
    assert cancelled == 3
    assert "".join(e.text for e in seen if isinstance(e, TokenEvent)) == TEXT
    done = seen[-1]
    assert isinstance(done, DoneEvent) and done.text == TEXT and not done.interrupted
    assert done.metrics.errors == 0
    assert done.spoken is not None and done.spoken.text == TEXT


@pytest.mark.anyio
async def test_a_consumer_cancelled_mid_reply_leaves_cleanly() -> None:
    tokens = scripted_tokens(TEXT, tokens_per_second=20, first_token_delay=0.0)
    taken = 0
    with anyio.move_on_after(0.2) as scope:
        async with stream_reply(tokens, FakeSynthesizer(ttfb=0.01)) as events:
            async for _ in events:
                taken += 1
    assert scope.cancelled_caught and taken > 0


@pytest.mark.anyio
async def test_a_cancelled_consumer_with_events_ready_is_stopped_within_eight() -> None:
    # A plain list of tokens: everything is ready at once, so the consumer never waits
    # and only the cancellation checks between ready events can stop it.
    words = [f"word{i} " for i in range(60)]
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=0.001)
    async with stream_reply(words, tts, max_buffered_events=64, max_ahead=None) as events:
        await events.__anext__()
        with anyio.CancelScope() as scope:
            scope.cancel()
            after_cancel = 0
            async for _ in events:
                after_cancel += 1
        assert scope.cancelled_caught
        assert after_cancel < 8
        more = [event async for event in events]  # the stream goes on outside the scope
    assert isinstance(more[-1], DoneEvent) and more[-1].text == "".join(words)


@pytest.mark.anyio
async def test_a_cancelled_token_source_that_never_waits_stops_within_eight() -> None:
    # An SDK stream with its chunks already buffered: __anext__ never suspends, so only
    # the source's own cancellation checks can stop it.
    yielded = 0
    closed = False

    async def buffered_chunks() -> AsyncIterator[str]:
        nonlocal yielded, closed
        try:
            while True:
                yielded += 1
                yield "word "
        finally:
            closed = True

    read_after_cancel = 0
    with anyio.CancelScope() as scope:
        async with aclosing(token_source(buffered_chunks())) as deltas:
            async for _ in deltas:
                if scope.cancel_called:
                    read_after_cancel += 1
                scope.cancel()
    assert scope.cancelled_caught and closed
    assert read_after_cancel < 8
    assert yielded <= 9  # the first item, then at most eight before the check
