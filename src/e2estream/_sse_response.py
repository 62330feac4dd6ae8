"""``SSEResponse``: a reply streamed as server-sent events, as a plain ASGI response.

Written as an ASGI callable rather than a generator for a framework's streaming
response, so that the whole reply runs in one task under a cancel scope this response
owns: a disconnect interrupts it at once, and ``stream_reply`` closes everything before
``__call__`` returns, whatever the framework does with an abandoned generator.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio

from ._events import DoneEvent
from ._reply import ReplyStream
from ._util import single_exception_unwrapped
from ._wire import (
    TransportOptions,
    encode,
    event_messages,
    failure_message,
    format_message,
    reply_audio_format,
)

__all__ = ["SSEResponse"]

logger = logging.getLogger("e2estream.asgi")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # tell nginx-style proxies not to buffer the stream
]


class SSEResponse:
    """An ASGI response streaming one reply as server-sent events.

    Made by :func:`e2estream.asgi.sse_response`. When Starlette is installed it is a
    ``starlette.responses.Response`` too, so FastAPI endpoints may return it.
    """

    media_type = "text/event-stream"
    status_code = 200
    background: Callable[[], Awaitable[None]] | None = None

    def __init__(
        self, reply: AbstractAsyncContextManager[ReplyStream], options: TransportOptions
    ) -> None:
        self._reply = reply
        self._options = options
        self._send: Send | None = None
        self._gone = False
        self.raw_headers: list[tuple[bytes, bytes]] = list(_HEADERS)

    @staticmethod
    def create(
        reply: AbstractAsyncContextManager[ReplyStream], options: TransportOptions
    ) -> SSEResponse:
        """Make one; a Starlette ``Response`` as well when Starlette can be imported."""
        instance: SSEResponse = _response_class()(reply, options)
        return instance

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Send the headers, then one message per event until done or disconnected."""
        self._send = send
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        try:
            with single_exception_unwrapped():
                async with self._reply as reply, anyio.create_task_group() as group:
                    group.start_soon(self._watch_disconnect, receive, reply)
                    await self._message(
                        format_message(reply_audio_format(reply), self._options), reply
                    )
                    async for event in reply:
                        message, _ = event_messages(event, self._options)
                        await self._message(message, reply)
                        if isinstance(event, DoneEvent):
                            break
                    group.cancel_scope.cancel()  # the reply is over: stop watching
        except Exception as exc:  # the LLM stream failed: tell the client, end quietly
            logger.warning("reply failed: %r", exc)
            await self._message(failure_message(exc))
        if not self._gone:
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                self._gone = True
        if self.background is not None:
            await self.background()

    async def _message(self, message: dict[str, Any], reply: ReplyStream | None = None) -> None:
        if self._gone or self._send is None:
            return
        body = f"event: {message['type']}\ndata: {encode(message)}\n\n".encode()
        try:
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
        except OSError:
            if reply is not None:
                await self._client_left(reply)
            self._gone = True

    async def _watch_disconnect(self, receive: Receive, reply: ReplyStream) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        await self._client_left(reply)

    async def _client_left(self, reply: ReplyStream) -> None:
        if self._gone:
            return
        self._gone = True
        logger.info("SSE client disconnected during a reply")
        await reply.interrupt(reply.playback_position, cancel_llm=True)


@functools.lru_cache(maxsize=1)
def _response_class() -> type[SSEResponse]:
    # FastAPI sends what an endpoint returns as JSON unless it is a Starlette Response:
    # be one when Starlette is there, without making it a dependency.
    try:
        from starlette.responses import Response
    except ImportError:
        return SSEResponse

    # SSEResponse's attributes and methods come first in the MRO.
    class StarletteSSEResponse(SSEResponse, Response):  # type: ignore[misc]
        pass

    StarletteSSEResponse.__name__ = StarletteSSEResponse.__qualname__ = "SSEResponse"
    return StarletteSSEResponse
