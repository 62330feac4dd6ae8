"""Small async helpers shared by the stages."""

from __future__ import annotations

import builtins
import functools
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, NoReturn, TypeVar

import anyio
from typing_extensions import ParamSpec

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")

#: Upper bound, in seconds, for closing an upstream iterator during cleanup. Cleanup runs
#: shielded from cancellation so that it really happens; the bound keeps a misbehaving
#: ``aclose()`` from hanging the caller forever.
CLOSE_TIMEOUT = 5.0


async def aclose_quietly(obj: Any) -> None:
    """Close ``obj`` if it has ``aclose()``, shielded from cancellation and bounded in time.

    Used on every exit path, so that a ``break`` or a cancellation closes upstream
    iterators (and the HTTP responses they hold) now, not at garbage collection.
    """
    aclose = getattr(obj, "aclose", None)
    if aclose is None:
        return
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
        await aclose()


@asynccontextmanager
async def iterating(source: AsyncIterable[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Yield ``source``'s iterator; on exit close the iterator, and ``source`` if different.

    ``async for`` iterates what ``__aiter__`` returned, which need not be ``source``
    itself: closing only ``source`` would leave that iterator's ``finally`` (an HTTP
    response to close, say) to the garbage collector.
    """
    iterator = source.__aiter__()
    try:
        yield iterator
    finally:
        try:
            await aclose_quietly(iterator)
        finally:
            if iterator is not source:
                await aclose_quietly(source)


@asynccontextmanager
async def aclosing(obj: T) -> AsyncIterator[T]:
    """Like :func:`contextlib.aclosing`, but tolerates objects without ``aclose()``.

    Closing is shielded from cancellation and bounded by :data:`CLOSE_TIMEOUT`.
    """
    try:
        yield obj
    finally:
        await aclose_quietly(obj)


if sys.version_info >= (3, 11):
    _BaseExceptionGroup = builtins.BaseExceptionGroup
else:  # pragma: no cover - Python 3.10
    from exceptiongroup import BaseExceptionGroup as _BaseExceptionGroup


@contextmanager
def single_exception_unwrapped() -> Iterator[None]:
    """Re-raise an exception group holding exactly one exception as that exception.

    Task groups wrap even a single error in an ``ExceptionGroup`` (on both anyio
    backends). e2estream's context managers own task groups as an implementation detail,
    so they unwrap here: a ``KeyError`` raised in the body of ``async with
    stream_reply(...)`` comes out as a ``KeyError``, and a TTS or LLM error comes out as
    itself. A group with several distinct exceptions is left intact.
    """
    try:
        yield
    except _BaseExceptionGroup as group:
        leaves = _leaves(group)
        if len(leaves) != 1:
            raise
        raise leaves[0] from None


def _leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, _BaseExceptionGroup):
        return [leaf for inner in group.exceptions for leaf in _leaves(inner)]
    return [group]


class AsyncContextOnly(AbstractAsyncContextManager[T_co]):
    """An async context manager that says how to use it when iterated by mistake.

    ``async for event in stream_reply(...)`` (forgetting ``async with``) would otherwise
    fail with "'async for' requires an object with __aiter__ method".
    """

    def __init__(self, manager: AbstractAsyncContextManager[T_co], name: str) -> None:
        self._manager = manager
        self._name = name

    async def __aenter__(self) -> T_co:
        return await self._manager.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await self._manager.__aexit__(exc_type, exc, traceback)

    def __aiter__(self) -> NoReturn:
        raise TypeError(
            f"{self._name}(...) is an async context manager: "
            f"use `async with {self._name}(...) as stream:` and iterate `stream`"
        )


def async_context(
    func: Callable[P, AsyncIterator[T_co]],
) -> Callable[P, AsyncContextOnly[T_co]]:
    """Like :func:`contextlib.asynccontextmanager`, with a helpful error when iterated."""
    factory = asynccontextmanager(func)
    name = func.__name__

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncContextOnly[T_co]:
        return AsyncContextOnly(factory(*args, **kwargs), name)

    return wrapper
