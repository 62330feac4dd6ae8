"""Closing a streamed httpx response *and* the body iterator that was reading it.

Shared by the token source (an LLM reply read from an ``httpx.Response``) and the HTTP
TTS backends, which both leave a response early: on ``break``, on a cancellation, on an
in-stream error, when the consumer goes away.

Why closing the response is not enough: ``response.aiter_bytes()`` is a chain of nested
async generators (``aiter_bytes`` -> ``aiter_raw`` -> httpx's transport stream ->
httpcore's connection stream -> ``_receive_response_body``). ``async for`` never closes
the iterator it pulls from, so ``aclose()`` of the outermost one leaves every inner one
suspended, to be finalized by the garbage collector at some later time (on trio in a
system task after the caller's block returned, with a ``ResourceWarning`` for each).

What finishes them: once the response is closed, its connection is gone, so stepping
the chain reaches a read on a closed stream, which raises, and that exception unwinds
every generator in the chain. One step is not always enough: h11 may already hold more
body chunks that arrived in the same network read, and each step returns one of those
without touching the socket. So the chain is stepped until it ends or fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio

from ._util import CLOSE_TIMEOUT

__all__ = ["close_streamed_response"]

#: Steps taken at most to run a closed body iterator to its end. Buffered chunks are
#: bounded by one network read (httpcore reads 64 KiB), each at least a few bytes; the
#: cap stops a body iterator that ignores the closed response and never awaits (the
#: time bound below cannot interrupt a loop without a checkpoint).
_MAX_STEPS = 100_000


async def close_streamed_response(response: Any, body: AsyncIterator[bytes] | None) -> None:
    """Close ``response``, then run ``body`` (read from it) to its end and close it.

    Shielded from cancellation, so that it really happens while the caller is being
    cancelled, and bounded by :data:`~e2estream._util.CLOSE_TIMEOUT`, so that a peer
    that misbehaves cannot hang the caller.

    Args:
        response: An ``httpx.Response`` (or ``httpx2.Response``, or anything with an
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
    aclose = getattr(body, "aclose", None)
    if aclose is not None:
        await aclose()
