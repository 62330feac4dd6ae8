"""``merge_events``: merge several async iterables into one stream, structured."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._util import async_context, iterating, single_exception_unwrapped

__all__ = ["MergedStream", "merge_events"]

T = TypeVar("T")

#: Items buffered between the sources and the consumer. Small on purpose: a slow consumer
#: should slow the sources down (backpressure), not grow memory.
DEFAULT_MAX_BUFFER = 16


class MergedStream(Generic[T], AsyncIterator[T]):
    """The async iterator yielded by :func:`merge_events`.

    Yields items in the order they arrived. When a source raised, the items that were
    already buffered come first, then that exception is raised once; later calls end
    the iteration.
    """

    def __init__(self, receive: MemoryObjectReceiveStream[T]) -> None:
        self._receive = receive
        self._error: BaseException | None = None

    def _fail(self, error: BaseException) -> None:
        # Keep the first error: the others are usually consequences of it.
        if self._error is None:
            self._error = error

    def __aiter__(self) -> MergedStream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            # A cancellation point that costs no scheduling round trip when an item is
            # ready. It comes *before* the item is taken: a cancellation after taking it
            # would lose the item.
            await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                return self._receive.receive_nowait()
            except anyio.WouldBlock:
                return await self._receive.receive()
        except anyio.EndOfStream:
            error, self._error = self._error, None
            if error is not None:
                raise error from None
            raise StopAsyncIteration from None


@async_context
async def merge_events(
    *sources: AsyncIterable[T], max_buffer: int = DEFAULT_MAX_BUFFER
) -> AsyncIterator[MergedStream[T]]:
    """Merge async iterables into one stream, in arrival order.

    Each source is iterated by its own task; each source's own order is kept. The
    merged stream ends when every source has ended. If a source raises, the other
    sources are cancelled and the exception reaches the consumer (after the items that
    arrived before it). At most ``max_buffer`` items wait for the consumer; when the
    buffer is full the sources wait (backpressure).

    Leaving the ``async with`` block, normally, by ``break``, by an exception or by
    cancellation, cancels the source tasks and closes every source that has
    ``aclose()`` before the block returns.

    Args:
        *sources: The async iterables to merge.
        max_buffer: Items buffered between the sources and the consumer (at least 1).

    Yields:
        A :class:`MergedStream` to iterate with ``async for``.

    Raises:
        TypeError: If a source is not an async iterable.
        ValueError: If ``max_buffer`` is less than 1.

    Example::

        async with merge_events(tokens(), audio()) as events:
            async for event in events:
                await websocket.send_json(event.to_dict())
    """
    for position, source in enumerate(sources):
        if not isinstance(source, AsyncIterable):
            raise TypeError(
                f"merge_events() source {position} is a {type(source).__name__}, "
                "not an async iterable"
            )
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int):
        raise TypeError(f"max_buffer must be an int, not {type(max_buffer).__name__}")
    if max_buffer < 1:
        raise ValueError(f"max_buffer must be at least 1, got {max_buffer}")

    send, receive = anyio.create_memory_object_stream[T](max_buffer)
    merged = MergedStream(receive)
    with single_exception_unwrapped(), receive:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(_run_pumps, sources, send, merged)
            try:
                yield merged
            finally:
                task_group.cancel_scope.cancel()


async def _run_pumps(
    sources: tuple[AsyncIterable[T], ...],
    send: MemoryObjectSendStream[T],
    merged: MergedStream[T],
) -> None:
    # The pumps get a task group of their own so that a failing source cancels its
    # siblings without cancelling the consumer's code in the ``async with`` body.
    async with anyio.create_task_group() as pumps:
        with send:  # each pump sends through its own clone; the stream ends when all close
            for source in sources:
                pumps.start_soon(_pump, source, send.clone(), merged, pumps.cancel_scope)


async def _pump(
    source: AsyncIterable[T],
    send: MemoryObjectSendStream[T],
    merged: MergedStream[T],
    siblings: anyio.CancelScope,
) -> None:
    async with send:
        try:
            async with iterating(source) as items:
                async for item in items:
                    if not await deliver(send, item):
                        return  # the consumer left; stop quietly (closing the source)
        except Exception as exc:
            # Errors (the source's own, or its aclose()'s) travel to the consumer
            # through the stream, not through the task group, so the consumer sees the
            # original exception at the point in the stream where it happened.
            merged._fail(exc)
            siblings.cancel()


async def deliver(send: MemoryObjectSendStream[T], item: T) -> bool:
    """Send ``item``; return False if the consumer is gone."""
    try:
        send.send_nowait(item)  # the common case: room in the buffer
    except anyio.WouldBlock:
        try:
            await send.send(item)
        except anyio.BrokenResourceError:
            return False
    except anyio.BrokenResourceError:
        return False
    return True
