"""The closing helpers every stage uses (``e2estream._closing``), on asyncio and trio.

The same helpers over real sockets, with httpx and httpx2 responses, are exercised by the
fault suite (``tests/faults/``: no body generator left suspended after a break, a
cancellation or an in-stream error) and by ``test_sources_live.py``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from e2estream._closing import (
    CLOSE_TIMEOUT,
    aclose_quietly,
    aclosing,
    close_streamed_response,
    iterating,
)


class Closable:
    """Records how it was closed; ``kind`` picks which closing method it has."""

    def __init__(self, kind: str, log: list[str] | None = None, name: str = "it") -> None:
        self.kind = kind
        self.log = [] if log is None else log
        self.name = name
        if kind == "aclose":
            self.aclose = self._aclose
        elif kind in ("sync close", "async close"):
            self.close = self._close

    async def _aclose(self) -> None:
        await anyio.lowlevel.checkpoint()
        self.log.append(f"{self.name}: aclose")

    def _close(self) -> Any:
        if self.kind == "sync close":
            self.log.append(f"{self.name}: close")
            return None

        async def later() -> None:
            self.log.append(f"{self.name}: awaited close")

        return later()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("aclose", ["it: aclose"]),
        ("async close", ["it: awaited close"]),  # the Anthropic SDK's async streams
        ("sync close", ["it: close"]),
        ("nothing", []),
    ],
)
async def test_aclose_quietly_uses_what_the_object_has(kind: str, expected: list[str]) -> None:
    thing = Closable(kind)
    await aclose_quietly(thing)
    assert thing.log == expected


@pytest.mark.anyio
async def test_aclosing_closes_on_error_and_on_cancellation() -> None:
    log: list[str] = []
    with pytest.raises(KeyError):
        async with aclosing(Closable("aclose", log, "a")):
            raise KeyError
    with anyio.CancelScope() as scope:
        async with aclosing(Closable("aclose", log, "b")):
            scope.cancel()
            await anyio.sleep(1)
    assert scope.cancelled_caught
    # Closed although the block was being cancelled: the close is shielded.
    assert log == ["a: aclose", "b: aclose"]


class Source:
    """An async iterable whose iterator is another object; both record their closing."""

    def __init__(self, log: list[str], *, self_iterating: bool = False) -> None:
        self.log = log
        self.self_iterating = self_iterating

    def __aiter__(self) -> AsyncIterator[int]:
        if self.self_iterating:
            return self
        return self.items()

    async def items(self) -> AsyncGenerator[int, None]:
        try:
            for n in range(10):
                yield n
        finally:
            self.log.append("iterator closed")

    async def __anext__(self) -> int:
        return 0

    async def aclose(self) -> None:
        self.log.append("source closed")


@pytest.mark.anyio
async def test_iterating_closes_the_iterator_then_the_source() -> None:
    log: list[str] = []
    async with iterating(Source(log)) as items:
        async for n in items:
            if n == 2:
                break
        # ``break`` closes nothing by itself (the iterator waits for the GC)...
        assert log == []
    # ...the block does, the iterator first: it reads from the source.
    assert log == ["iterator closed", "source closed"]


@pytest.mark.anyio
async def test_iterating_closes_a_self_iterating_source_once() -> None:
    log: list[str] = []
    async with iterating(Source(log, self_iterating=True)) as items:
        await items.__anext__()
    assert log == ["source closed"]


def run_with_mock_clock(main: Callable[[], Any]) -> Any:
    return anyio.run(
        main, backend="trio", backend_options={"clock": MockClock(autojump_threshold=0)}
    )


def test_a_hanging_close_is_given_up_after_close_timeout() -> None:
    class Hangs:
        async def aclose(self) -> None:
            await anyio.sleep_forever()

    async def main() -> float:
        started = anyio.current_time()
        await aclose_quietly(Hangs())
        return anyio.current_time() - started

    assert run_with_mock_clock(main) == pytest.approx(CLOSE_TIMEOUT)


# --- close_streamed_response: a streamed response and its chain of body generators -------


class FakeResponse:
    """A streamed response whose body already holds ``buffered`` chunks (one network read).

    Like httpx's: the body is a chain of generators (``aiter_bytes`` over ``aiter_raw``);
    once the response is closed, a read that needs the network raises, but chunks
    already buffered are still returned first.
    """

    def __init__(self, buffered: int) -> None:
        self.buffered = buffered
        self.closed = False
        self.finished: list[str] = []
        self.inner: AsyncGenerator[bytes, None] | None = None

    async def aclose(self) -> None:
        self.closed = True

    async def raw(self) -> AsyncGenerator[bytes, None]:
        try:
            while True:
                if self.buffered:
                    self.buffered -= 1
                    yield b"chunk"
                elif self.closed:
                    raise anyio.ClosedResourceError
                else:
                    await anyio.sleep_forever()
        finally:
            self.finished.append("raw")

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        self.inner = self.raw()
        try:
            async for chunk in self.inner:
                yield chunk
        finally:
            self.finished.append("aiter_bytes")


@pytest.mark.anyio
@pytest.mark.parametrize("buffered", [0, 1, 50])
async def test_close_streamed_response_runs_the_whole_body_chain_down(buffered: int) -> None:
    response = FakeResponse(buffered + 1)
    body = response.aiter_bytes()
    assert await body.__anext__() == b"chunk"  # the reader stops here, chunks still buffered
    await close_streamed_response(response, body)
    assert response.closed
    # The inner generator is finished too, not left suspended for the GC (closing only
    # the outer one, as ``aclose()`` does, would leave ``raw`` suspended).
    assert response.finished == ["raw", "aiter_bytes"]


@pytest.mark.anyio
async def test_close_streamed_response_before_reading_began() -> None:
    response = FakeResponse(0)
    await close_streamed_response(response, None)
    assert response.closed
    await close_streamed_response(None, None)  # nothing sent yet: nothing to do


@pytest.mark.anyio
async def test_aclose_of_the_outer_generator_alone_leaves_the_inner_one_suspended() -> None:
    # Why close_streamed_response exists: the test above would fail with plain aclose().
    response = FakeResponse(2)
    body = response.aiter_bytes()
    await body.__anext__()
    await response.aclose()
    await body.aclose()
    assert response.finished == ["aiter_bytes"]
    assert response.inner is not None
    await response.inner.aclose()  # not left for the GC here either
