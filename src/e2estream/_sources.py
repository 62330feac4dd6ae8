"""``token_source``: adapt whatever the host has into an async iterator of text deltas.

Everything is detected by shape, never by importing an SDK: the OpenAI and Anthropic SDKs,
LangChain and Ollama's client stay optional for users and test-only for us.

Layout: the wire formats are parsed by the synchronous decoders in ``_sse.py`` and
``_ndjson.py``; ``_sources_deltas.py`` reads reply text out of their events and out of
chunk objects (and raises in-stream errors as :class:`SourceError`). This module holds
the public function and the async shells: thin generators that read bytes or chunk
objects, feed that sync core, and close what they wrap.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from ._closing import CLOSE_TIMEOUT, aclose_quietly, aclosing, close_streamed_response, iterating
from ._exceptions import SourceError
from ._http_messages import read_error_message
from ._redact import redact_urls_in
from ._sources_deltas import DeltaDecoder, SourceFormat, make_delta_decoder
from ._sources_shapes import UnrecognizedChunk, text_from_item
from ._util import CANCEL_CHECK_EVERY

__all__ = ["SourceFormat", "token_source"]

T = TypeVar("T")

_ACCEPTED = (
    "an async or sync iterable of str; an OpenAI SDK stream (chat.completions or the "
    "Responses API, sync or async); an Anthropic SDK Messages stream; an httpx.Response "
    "streaming OpenAI-compatible or Anthropic SSE, or Ollama NDJSON; an iterable of chunk "
    "objects with a str .content (LangChain astream) or of parsed JSON dicts; or, with "
    "format='sse'/'ndjson', an iterable of bytes"
)

#: Seconds to wait for the end of the body after the stream's end marker (see _drain).
_DRAIN_TIMEOUT = 0.25


def token_source(obj: object, *, format: SourceFormat = "auto") -> AsyncGenerator[str, None]:
    """Return an async iterator of the reply-text deltas in an LLM stream.

    ``obj`` is recognised by its shape; no SDK is imported. Accepted:

    * An async or sync iterable of ``str`` (tokens already reduced to text).
    * OpenAI SDK streams: ``chat.completions.create(stream=True)`` (``choices[0].delta
      .content``; legacy completions' ``choices[0].text``) and the Responses API event
      stream (``response.output_text.delta`` events), from the async or the sync client.
    * Anthropic SDK Messages streams (``messages.create(stream=True)`` or the
      ``messages.stream()`` helper): ``content_block_delta`` events with a ``text_delta``.
    * Chunks with a ``str`` ``.content`` (LangChain's ``astream``; a list of content
      blocks contributes its ``"text"`` blocks), Ollama client chunks (``.message.content``,
      ``.response``), and parsed JSON dicts of any of the wire shapes below.
    * An ``httpx.Response`` opened with ``client.stream(...)`` (or ``send(stream=True)``)
      carrying OpenAI-compatible SSE (vLLM, llama.cpp, Ollama ``/v1``, LM Studio,
      gateways), Anthropic SSE, Responses API SSE, or Ollama's native NDJSON
      (``/api/chat`` ``message.content``, ``/api/generate`` ``response``). The format comes
      from the content-type: ``text/event-stream`` is SSE; ``application/x-ndjson`` (and
      ``application/ndjson``, ``application/jsonl``) is NDJSON; anything else, including
      ``application/json`` and a missing header, is sniffed from the first non-blank
      line (``{`` means JSON lines, which may also be one multi-line JSON document such as
      a non-streamed reply; ``data:``, ``event:``, ``id:``, ``retry:`` or ``:`` mean SSE;
      anything else raises :class:`SourceError`). ``format`` overrides the detection.
    * With ``format="sse"`` or ``"ndjson"``: an async or sync iterable of ``bytes`` (for
      example ``response.aiter_bytes()`` of another HTTP client).

    Tool-call deltas, role-only and empty deltas, empty ``choices``, usage chunks,
    reasoning/thinking deltas, refusals and every other event are skipped; the text is
    yielded exactly as received. Only choice index 0 is read when ``n > 1``. SSE streams
    end at ``data: [DONE]``, NDJSON streams at ``"done": true``; the end of the body is
    then awaited for at most 0.25 s (so HTTP/1.1 can reuse the connection) before the
    response is closed.

    Sync sources that do network I/O (a sync SDK stream, an ``httpx.Response`` from a
    sync ``httpx.Client``) are read in a worker thread so they never block the event
    loop; a cancellation does not wait for that thread, and closing shuts the socket down
    so that the blocked read ends and the server sees the disconnect. Other sync
    iterables are iterated inline, with a checkpoint per item.

    Args:
        obj: The LLM stream, in any of the shapes above.
        format: How to read bytes: ``"auto"`` (the default: from the content-type),
            ``"sse"`` or ``"ndjson"``. Only for responses and iterables of bytes.

    Returns:
        An async generator of non-empty ``str`` deltas. Closing it (``aclose()``, which
        :func:`~e2estream.stream_reply` does when a reply ends or is interrupted, or a
        cancellation that arrives while it waits for data) closes what it wraps at once:
        the HTTP response or SDK stream, hence the connection.

    Raises:
        TypeError: At once if ``obj`` is none of the accepted kinds (a ``str``, for
            instance), or when the stream yields an item of no known shape.
        ValueError: At once if ``format`` is not one of the accepted values.
        SourceError: While iterating, when the server reports an error: an HTTP error
            status (with the body's message), an in-stream ``error`` object or
            ``event: error`` (with the server's message), a line that is not JSON.
            Errors raised by an SDK (``openai.APIError``, ``anthropic.APIStatusError``)
            and transport errors (``httpx.RemoteProtocolError`` when the server drops the
            connection mid-stream) propagate unchanged.

    Example::

        async with httpx.AsyncClient() as client:
            async with client.stream("POST", url, json=body) as response:
                async for delta in token_source(response):
                    print(delta, end="")
    """
    if format not in ("auto", "sse", "ndjson"):
        raise ValueError(f"format must be 'auto', 'sse' or 'ndjson', not {format!r}")
    if isinstance(obj, (str, bytes, bytearray)):
        raise TypeError(
            f"token_source() got a {type(obj).__name__!r}; it accepts {_ACCEPTED}. "
            "To stream a whole text, pass [text]."
        )
    if isinstance(obj, Mapping):
        # Iterating a dict yields its keys: never what was meant.
        raise TypeError(
            f"token_source() got a {type(obj).__name__!r}; it accepts {_ACCEPTED}. "
            "For one parsed JSON chunk, pass [chunk]; otherwise pass the stream itself."
        )
    if _is_response(obj):
        return _from_response(obj, format)
    if format != "auto":
        if isinstance(obj, AsyncIterable):
            return _from_byte_chunks(obj, make_delta_decoder(format))
        if isinstance(obj, Iterable):
            return _from_byte_chunks(_iterate_inline(obj), make_delta_decoder(format))
    if isinstance(obj, AsyncIterable):
        return _from_async_items(obj)
    if isinstance(obj, Iterable):
        if _does_blocking_io(obj):
            iterator = _iterate_in_thread(
                iter(obj), _closer_of(obj), getattr(obj, "response", None)
            )
            return _from_async_items(iterator)
        return _from_async_items(_iterate_inline(obj))
    hint = ""
    if hasattr(obj, "__aenter__"):
        hint = " It is an async context manager: enter it first (async with ... as stream)."
    elif hasattr(obj, "__enter__"):
        hint = " It is a context manager: enter it first (with ... as stream)."
    raise TypeError(f"token_source() got a {type(obj).__name__!r}; it accepts {_ACCEPTED}.{hint}")


# --------------------------------------------------------------------------------------
# The async shells.
# --------------------------------------------------------------------------------------


def _closer_of(obj: object) -> Callable[[], object]:
    close = getattr(obj, "close", None)
    return close if callable(close) else (lambda: None)


def _does_blocking_io(obj: object) -> bool:
    # The sync SDK streams (openai.Stream, anthropic.Stream, MessageStream) hold the HTTP
    # response they read from; their __next__ blocks on the socket.
    response = getattr(obj, "response", None)
    return response is not None and hasattr(response, "iter_bytes")


async def _iterate_inline(items: Iterable[T]) -> AsyncIterator[T]:
    # A plain iterable never awaits: yield to the scheduler per item, so a long list
    # lets other tasks (the TTS) run between tokens.
    for item in items:
        await anyio.lowlevel.checkpoint()
        yield item


async def _iterate_in_thread(
    iterator: Iterator[T], close: Callable[[], object], response: object = None
) -> AsyncGenerator[T, None]:
    end: Any = object()
    reading = False
    try:
        while True:
            # abandon_on_cancel: a stalled server must not make cancellation wait for its
            # next byte; the abandoned read is ended below.
            reading = True
            item = await anyio.to_thread.run_sync(next, iterator, end, abandon_on_cancel=True)
            reading = False
            if item is end:
                return
            yield item
    finally:
        if reading:
            _interrupt_blocking_read(response)
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await anyio.to_thread.run_sync(close, abandon_on_cancel=True)


def _interrupt_blocking_read(response: object) -> None:
    # A worker thread is blocked in recv() on the response's socket. Closing the socket
    # from here would neither wake it nor send a FIN (the kernel keeps the file open for
    # the blocked call), so the server would stream on and the thread would hang. shutdown()
    # does both. httpx (and httpx2) expose the socket through the documented
    # "network_stream" response extension.
    extensions = getattr(response, "extensions", None)
    stream = extensions.get("network_stream") if isinstance(extensions, Mapping) else None
    get_extra_info = getattr(stream, "get_extra_info", None)
    sock = get_extra_info("socket") if get_extra_info is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


async def _from_async_items(stream: AsyncIterable[Any]) -> AsyncGenerator[str, None]:
    unchecked = 0
    async with iterating(stream) as items:
        async for item in items:
            # A cancellation check, not a full scheduling round trip: async sources
            # await their I/O, a burst of buffered SDK chunks is bounded by the
            # pipeline's buffers (a full buffer makes the reader wait), and plain
            # iterables yield in _iterate_inline. Not on every item: on asyncio the
            # check walks the task's cancel scopes, and in the load benchmark it took
            # 5% of the process's CPU on every token (py-spy, 500 sessions). A stopped
            # reply reads at most CANCEL_CHECK_EVERY - 1 more items, and delivers none
            # of them (its mailbox is closed by then).
            unchecked += 1
            if unchecked >= CANCEL_CHECK_EVERY:
                unchecked = 0
                await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                text = text_from_item(item)
            except UnrecognizedChunk as exc:
                raise TypeError(
                    f"token_source() cannot read an item the stream yielded, a {exc}. "
                    f"It accepts {_ACCEPTED}."
                ) from None
            if text:
                yield text


async def _from_byte_chunks(
    chunks: AsyncIterable[Any], decoder: DeltaDecoder
) -> AsyncGenerator[str, None]:
    async with iterating(chunks) as pieces:
        deltas = _decode_byte_chunks(pieces, decoder, drain=False)
        async with aclosing(deltas):
            async for delta in deltas:
                yield delta


async def _decode_byte_chunks(
    chunks: AsyncIterable[Any], decoder: DeltaDecoder, *, drain: bool
) -> AsyncGenerator[str, None]:
    # Does not close ``chunks``: the caller does, in the order its source needs.
    async for chunk in chunks:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"token_source(format=...) reads bytes, but the stream yielded a "
                f"{type(chunk).__name__}: {chunk!r:.80}"
            )
        for delta in decoder.feed(bytes(chunk)):
            # One network chunk often carries many events: checkpoint between them.
            await anyio.lowlevel.checkpoint()
            yield delta
        if decoder.done:
            if drain:
                await _drain(chunks)
            return
    for delta in decoder.finish():
        await anyio.lowlevel.checkpoint()
        yield delta


async def _drain(chunks: AsyncIterable[Any]) -> None:
    # After [DONE] (or "done": true) servers end the body at once. Reading that end,
    # rather than closing the connection under it, lets HTTP/1.1 reuse the connection
    # for the next reply (the OpenAI SDK drains too). The wait is short because the end
    # of the token stream is what flushes the reply's last segment to the TTS: a server
    # that lingers after its end marker gets its connection closed instead.
    with anyio.move_on_after(_DRAIN_TIMEOUT):
        async for _ in chunks:
            pass


def _is_response(obj: object) -> bool:
    # httpx.Response, and anything shaped like it (httpx2, which the OpenAI and Anthropic
    # SDKs use underneath, for ``with_streaming_response``).
    return (
        hasattr(obj, "aiter_bytes")
        and hasattr(obj, "iter_bytes")
        and hasattr(obj, "headers")
        and hasattr(obj, "status_code")
    )


def _response_is_async(response: Any) -> bool:
    # httpx binds a response to a sync or an async byte stream; an already-read response
    # holds a ByteStream that is both, so either way works for it.
    return hasattr(getattr(response, "stream", None), "__aiter__")


async def _from_response(response: Any, format: SourceFormat) -> AsyncGenerator[str, None]:
    if _response_is_async(response):
        chunks: AsyncGenerator[bytes, None] = response.aiter_bytes()
    else:
        # _iterate_in_thread closes the response (in a thread) when it is closed.
        chunks = _iterate_in_thread(response.iter_bytes(), response.close, response)
    try:
        if response.status_code >= 400:
            raise SourceError(await _http_error_message(response, chunks))
        decoder = make_delta_decoder(format, response.headers.get("content-type", ""))
        deltas = _decode_byte_chunks(chunks, decoder, drain=True)
        async with aclosing(deltas):
            async for delta in deltas:
                yield delta
    finally:
        await _close_response(response, chunks)


async def _close_response(response: Any, chunks: AsyncGenerator[bytes, None]) -> None:
    if _response_is_async(response):
        await close_streamed_response(response, chunks)
    else:
        # _iterate_in_thread closes the sync response in a worker thread.
        await aclose_quietly(chunks)


async def _http_error_message(response: Any, chunks: AsyncIterator[bytes]) -> str:
    message = await read_error_message(chunks)
    reason = getattr(response, "reason_phrase", "") or ""
    # A server's message may quote a URL with credentials in it (a proxy's, say).
    message = redact_urls_in(message)
    return f"HTTP {response.status_code} {reason}".rstrip() + (f": {message}" if message else "")
