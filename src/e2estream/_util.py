"""Small async helpers shared by the stages."""

from __future__ import annotations

import builtins
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import anyio

T = TypeVar("T")

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
