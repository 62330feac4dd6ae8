"""The running event loop's clock as a plain function, for per-event hot paths.

``anyio.current_time()`` looks the backend up on every call (sniffio, then the backend
class); over hundreds of events per reply and a thousand replies per process that lookup
is a measurable share of the library's cost. The value is the same clock either way:
anyio reads ``loop.time()`` on asyncio and ``trio.current_time()`` on trio.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from types import ModuleType

import anyio

__all__ = ["loop_clock", "running_trio"]


def loop_clock() -> Callable[[], float]:
    """Return a function reading the current event loop's clock (call it in a task)."""
    try:
        return asyncio.get_running_loop().time
    except RuntimeError:
        pass
    trio = running_trio()
    if trio is not None:
        current_time: Callable[[], float] = trio.current_time
        return current_time
    return anyio.current_time


def running_trio() -> ModuleType | None:
    """The ``trio`` module if this runs in a trio task (never imports trio), else None."""
    trio = sys.modules.get("trio")
    if trio is None:
        return None
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return None
    return trio
