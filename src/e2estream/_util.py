"""Small async helpers shared by the stages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
