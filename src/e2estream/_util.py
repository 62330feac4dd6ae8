"""Small async helpers shared by the stages.

The closing helpers live in ``_closing.py``; they are re-exported here for the modules
that import them from this one.
"""

from __future__ import annotations

import builtins
import functools
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from types import TracebackType
from typing import NoReturn, TypeVar

from typing_extensions import ParamSpec

from ._closing import CLOSE_TIMEOUT as CLOSE_TIMEOUT
from ._closing import aclose_quietly as aclose_quietly
from ._closing import aclosing as aclosing
from ._closing import iterating as iterating

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")

if sys.version_info >= (3, 11):
    _BaseExceptionGroup = builtins.BaseExceptionGroup
else:  # pragma: no cover - Python 3.10
    from exceptiongroup import BaseExceptionGroup as _BaseExceptionGroup


#: The hot loops check for cancellation once every this many items, not on every one
#: (on asyncio a check walks the task's cancel scopes). A reply stream's consumer whose
#: task is cancelled gets at most this many more events before the cancellation reaches
#: it; a token source reads at most this many more items.
CANCEL_CHECK_EVERY = 8


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
