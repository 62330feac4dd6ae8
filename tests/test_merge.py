"""merge_events: arrival order, per-source order, errors, bounds, cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import MergedStream, merge_events
from helpers import TrackedSource

pytestmark = pytest.mark.anyio


async def numbered(name: str, count: int, pauses: list[int]) -> AsyncIterator[str]:
    for i in range(count):
        for _ in range(pauses[i % len(pauses)]):
            await anyio.lowlevel.checkpoint()
        yield f"{name}{i}"


@given(
    counts=st.lists(st.integers(0, 15), min_size=0, max_size=4),
    pauses=st.lists(st.integers(0, 4), min_size=1, max_size=10),
    max_buffer=st.integers(1, 5),
)
async def test_every_item_once_in_source_order(
    counts: list[int], pauses: list[int], max_buffer: int
) -> None:
    sources = [numbered(chr(65 + n), count, pauses[n:] or pauses) for n, count in enumerate(counts)]
    async with merge_events(*sources, max_buffer=max_buffer) as merged:
        items = [item async for item in merged]
    assert sorted(items) == sorted(
        f"{chr(65 + n)}{i}" for n, c in enumerate(counts) for i in range(c)
    )
    for n in range(len(counts)):
        mine = [int(item[1:]) for item in items if item[0] == chr(65 + n)]
        assert mine == sorted(mine)


async def test_error_cancels_other_sources_and_reaches_consumer() -> None:
    endless = TrackedSource([str(i) for i in range(10_000)])
    failing = TrackedSource(["a", "b", "c"], fail_at=2)
    received: list[str] = []
    with pytest.raises(KeyError, match="broke"):
        async with merge_events(endless, failing) as merged:
            async for item in merged:
                received.append(item)
    assert "a" in received and "b" in received
    assert endless.closed and failing.closed
    assert endless.pulled < 10_000


async def test_slow_consumer_applies_backpressure() -> None:
    source = TrackedSource([str(i) for i in range(1000)])
    async with merge_events(source, max_buffer=4) as merged:
        await merged.__anext__()
        for _ in range(200):
            await anyio.lowlevel.checkpoint()
        # one consumed, four buffered, one in the pump's hands
        assert source.pulled <= 1 + 4 + 1
    assert source.closed


async def test_break_closes_sources() -> None:
    sources = [TrackedSource([str(i) for i in range(100)]) for _ in range(3)]
    async with merge_events(*sources) as merged:
        async for _ in merged:
            break
    assert all(s.closed for s in sources)


async def test_exception_in_body_is_not_wrapped_in_a_group() -> None:
    with pytest.raises(LookupError):
        async with merge_events(TrackedSource(["x"])) as merged:
            async for _ in merged:
                raise LookupError


async def test_no_sources_ends_at_once() -> None:
    merged: MergedStream[str]
    async with merge_events() as merged:
        with pytest.raises(StopAsyncIteration):
            await merged.__anext__()


async def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="source 1 is a list"):
        async with merge_events(TrackedSource([]), [1, 2]):  # type: ignore[arg-type]
            pass
    with pytest.raises(ValueError, match="max_buffer"):
        async with merge_events(TrackedSource([]), max_buffer=0):
            pass
