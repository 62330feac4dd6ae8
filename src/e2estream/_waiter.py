"""A one-shot wake-up for a single waiting task, made for the per-event hot path.

The reply's consumer waits once per event for the next one. ``anyio.Event`` costs about
3 µs more per wait than the event loop's own primitive on asyncio (a backend lookup
through sniffio, an ``asyncio.Event`` with its waiter deque, then its future), measured
with a two-task ping-pong. That is a quarter of the library's budget per event, so the
consumer's waits use the loop's primitive directly: a bare future on asyncio, and
``trio.Event`` (without anyio's wrapper) on trio. Both are cancellation points that
anyio's cancel scopes cancel like any other wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any, Protocol

from ._loopclock import running_trio

__all__ = ["Waiter", "waiter_factory"]


class Waiter(Protocol):
    """Set once, by anyone; awaited (``await waiter``) by one task, once."""

    def set(self) -> None:
        """Wake the waiting task (nothing if it was already set or its wait cancelled)."""

    def __await__(self) -> Generator[Any, None, object]:
        """Wait until :meth:`set` has been called."""


class _FutureWaiter:
    __slots__ = ("_future",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._future: asyncio.Future[None] = loop.create_future()

    def set(self) -> None:
        # A wait cancelled by a cancel scope has cancelled the future: nothing to wake.
        if not self._future.done():
            self._future.set_result(None)

    def __await__(self) -> Generator[Any, None, object]:
        # The future's own iterator: no coroutine frame of ours to resume on wake-up.
        return self._future.__await__()


class _EventWaiter:
    __slots__ = ("_event",)

    def __init__(self, event: Any) -> None:
        self._event = event  # a trio.Event (or an anyio.Event outside both loops)

    def set(self) -> None:
        self._event.set()

    def __await__(self) -> Generator[Any, None, object]:
        return self._event.wait().__await__()  # type: ignore[no-any-return]


def waiter_factory() -> Callable[[], Waiter]:
    """Return the cheapest way to make a :class:`Waiter` in the running event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return lambda: _FutureWaiter(loop)
    trio = running_trio()
    if trio is not None:
        return lambda: _EventWaiter(trio.Event())
    import anyio

    return lambda: _EventWaiter(anyio.Event())
