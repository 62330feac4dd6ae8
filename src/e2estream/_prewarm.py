"""A backend's optional ``prewarm()`` step, run so that its failure cannot hurt a reply."""

from __future__ import annotations

import inspect
import logging

__all__ = ["has_prewarm", "prewarm_quietly"]

logger = logging.getLogger("e2estream")


def has_prewarm(backend: object) -> bool:
    """True if ``backend`` declares a ``prewarm()`` step."""
    return callable(getattr(backend, "prewarm", None))


async def prewarm_quietly(backend: object, name: str) -> None:
    """Run ``backend.prewarm()`` (async or plain); log a failure instead of raising it.

    A failed prewarm only means the first request makes its connection itself: slower,
    not broken. Cancellation is not caught.
    """
    prewarm = getattr(backend, "prewarm", None)
    if not callable(prewarm):
        return
    try:
        result = prewarm()
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        logger.warning("prewarm of %s failed: %r", name, exc)
