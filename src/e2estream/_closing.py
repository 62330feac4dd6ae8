"""Closing what you iterate: the one set of helpers every stage uses.

The rule (trio's "Notes on async generators"): a stage that stops reading an upstream
iterator, by ``break``, an error, a cancellation or its consumer going away, closes it
*now*, so that the upstream's ``finally`` (an HTTP response to close, a connection to
release) runs before the stage's own block returns, not at garbage collection.

- :func:`aclose_quietly` is the one way to close: ``aclose()``, else ``close()`` (awaited
  when it returns an awaitable, as the Anthropic SDK's async streams do), shielded from
  cancellation, so that it happens while the caller is being cancelled, and bounded by
  :data:`CLOSE_TIMEOUT`, so that a misbehaving upstream cannot hang the caller.
- :func:`aclosing` closes one object at the end of a block; :func:`iterating` closes
  the iterator ``__aiter__`` returned *and* the iterable, if they differ.
- :func:`close_streamed_response` closes a streamed ``httpx``/``httpx2`` response and
  runs down the body iterator that was reading it (see its docstring for why closing
  the response alone is not enough).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio

__all__ = [
    "CLOSE_TIMEOUT",
    "aclose_quietly",
    "aclosing",
    "close_streamed_response",
    "iterating",
]

T = TypeVar("T")

#: Upper bound, in seconds, for closing an upstream during cleanup. Cleanup runs
#: shielded from cancellation so that it really happens; the bound keeps a misbehaving
#: ``aclose()`` from hanging the caller forever.
CLOSE_TIMEOUT = 5.0

#: Steps taken at most to run a closed body iterator to its end. Buffered chunks are
#: bounded by one network read (httpcore reads 64 KiB), each at least a few bytes; the
#: cap stops a body iterator that ignores the closed response and never awaits (the
#: time bound cannot interrupt a loop without a checkpoint).
_MAX_STEPS = 100_000


async def aclose_quietly(obj: object) -> None:
    """Close ``obj`` by whatever closing it supports; shielded and bounded in time.

    ``aclose()`` if it has one, else ``close()``, whose result is awaited if it is
    awaitable. An object with neither is left alone. Exceptions from closing propagate.
    """
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
        await _close(obj)


async def _close(obj: object) -> None:
    aclose = getattr(obj, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(obj, "close", None)
    if close is None:
        return
    result = close()
    if hasattr(result, "__await__"):
        await result


@asynccontextmanager
async def aclosing(obj: T) -> AsyncIterator[T]:
    """Like :func:`contextlib.aclosing`, closing by :func:`aclose_quietly`'s rules."""
    try:
        yield obj
    finally:
        await aclose_quietly(obj)


@asynccontextmanager
async def iterating(source: AsyncIterable[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Yield ``source``'s iterator; on exit close the iterator, and ``source`` if different.

    ``async for`` iterates what ``__aiter__`` returned, which need not be ``source``
    itself: closing only ``source`` would leave that iterator's ``finally`` (an HTTP
    response to close, say) to the garbage collector. The iterator is closed first: it
    reads from ``source``.
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


async def close_streamed_response(response: Any, body: AsyncIterator[bytes] | None) -> None:
    """Close ``response``, then run ``body`` (read from it) to its end and close it.

    Why closing the response is not enough: ``response.aiter_bytes()`` is a chain of
    nested async generators (``aiter_bytes`` -> ``aiter_raw`` -> the transport's stream
    -> httpcore's connection stream -> ``_receive_response_body``). ``async for`` never
    closes the iterator it pulls from, so ``aclose()`` of the outermost one leaves every
    inner one suspended, to be finalized by the garbage collector at some later time (on
    trio in a system task after the caller's block returned, with a ``ResourceWarning``
    for each). Once the response is closed its connection is gone, so stepping the chain
    reaches a read on a closed stream, which raises and unwinds every generator in it.
    One step is not always enough: h11 may already hold more body chunks that arrived
    in the same network read, and each step returns one of those without touching the
    socket. So the chain is stepped until it ends or fails.

    Shielded and bounded like :func:`aclose_quietly`.

    Args:
        response: An ``httpx.Response`` or ``httpx2.Response`` (or anything with an
            async ``aclose()``) opened in streaming mode; None if there is none yet.
        body: The iterator that was reading the response's body (``aiter_bytes()``,
            ``aiter_raw()``...), or None if reading never started.
    """
    with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
        if response is not None:
            await response.aclose()
        if body is not None:
            await _run_down(body)


async def _run_down(body: AsyncIterator[bytes]) -> None:
    try:
        for _ in range(_MAX_STEPS):
            await body.__anext__()
    except Exception:
        # StopAsyncIteration, or the read error of the closed connection (httpx's
        # StreamClosed/ReadError, anyio's ClosedResourceError): either way the chain has
        # unwound. Nothing here is the caller's error: it has one already, or none.
        pass
    await _close(body)
