"""``token_source``: adapt whatever the host has into an async iterator of text deltas."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable

import anyio.lowlevel

from ._util import aclosing

__all__ = ["token_source"]

_ACCEPTED = "an AsyncIterable[str] or an Iterable[str]"


def token_source(obj: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    """Return an async iterator of the text deltas in ``obj``.

    Args:
        obj: An async iterable of ``str`` (an LLM stream already reduced to text) or a
            plain iterable of ``str`` (a list of tokens, a generator).

    Returns:
        An async iterator yielding each non-empty delta unchanged. Closing it closes
        ``obj`` when ``obj`` has ``aclose()``.

    Raises:
        TypeError: If ``obj`` is not one of the accepted kinds (raised at once), or if it
            yields something other than ``str`` (raised when that item arrives).

    Example::

        async for delta in token_source(["Hello", " world."]):
            print(delta, end="")
    """
    if isinstance(obj, (str, bytes, bytearray)):
        raise TypeError(
            f"token_source() got a {type(obj).__name__}; it accepts {_ACCEPTED}. "
            "To stream a whole text, pass [text]."
        )
    if isinstance(obj, AsyncIterable):
        return _from_async(obj)
    if isinstance(obj, Iterable):
        return _from_sync(obj)
    raise TypeError(f"token_source() got a {type(obj).__name__}; it accepts {_ACCEPTED}.")


def _check_delta(item: object) -> str:
    if not isinstance(item, str):
        raise TypeError(
            f"token_source() expected text deltas (str) but the stream yielded a "
            f"{type(item).__name__}: {item!r:.80}"
        )
    return item


async def _from_async(stream: AsyncIterable[str]) -> AsyncIterator[str]:
    async with aclosing(stream):
        async for item in stream:
            delta = _check_delta(item)
            if delta:
                yield delta


async def _from_sync(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        delta = _check_delta(item)
        # A plain iterable never awaits; checkpoint so a long list stays cancellable and
        # other tasks (the TTS) get to run between tokens.
        await anyio.lowlevel.checkpoint()
        if delta:
            yield delta
