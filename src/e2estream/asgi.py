"""Send a reply over a WebSocket or as server-sent events, from any ASGI framework.

Starlette and FastAPI (and any ASGI server: uvicorn, hypercorn on asyncio or trio) speak
ASGI; these helpers use only its message dicts, so e2estream needs no web framework::

    from e2estream.asgi import websocket_reply

    @app.websocket("/chat")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            question = await websocket.receive_text()
            async with stream_reply(llm_for(question), tts) as reply:
                outcome = await websocket_reply(websocket, reply)
            if outcome.disconnected:
                return

The server sends, one JSON text message each:

* first ``{"type": "format", "audio": {"encoding": ..., "sample_rate": ...,
  "channels": ...}, "transport": "binary" | "base64"}``, before any audio;
* then every event's ``to_dict()``. With ``TransportOptions(audio="binary")`` (the
  WebSocket default) an ``audio`` message has no ``data`` and is followed by one binary
  frame of its ``size`` bytes; with ``"base64"`` the bytes are in ``data``;
* the reply ends with ``done`` (``interrupted`` and ``spoken`` say what was heard), or
  with ``{"type": "reply_failed", "error": ..., "message": ...}`` when the LLM stream
  failed.

The client may send, while the reply plays:

* ``{"type": "interrupt", "played": 2.4}``: the seconds of this reply's audio its
  player played (null: all that was delivered). The server calls
  :meth:`ReplyStream.interrupt() <e2estream.ReplyStream.interrupt>`: no more audio,
  every TTS request closed;
* ``{"type": "played", "played": 2.4}``: playback progress, passed to
  :meth:`~e2estream.ReplyStream.report_played` so that pacing follows the real player.

Anything else gets ``{"type": "protocol_error", "message": ...}`` naming the problem,
and the reply goes on. A client that disconnects interrupts the reply at the position
its player is assumed to have reached; the LLM stream and every TTS request are closed,
and nothing is logged as an error.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from ._events import DoneEvent
from ._reply import ReplyStream
from ._spoken import SpokenText
from ._sse_response import SSEResponse
from ._util import single_exception_unwrapped
from ._wire import (
    AudioTransport,
    TransportOptions,
    apply_client_message,
    encode,
    event_messages,
    failure_message,
    format_message,
    parse_client_message,
    protocol_error_message,
    reply_audio_format,
)

__all__ = [
    "ASGIWebSocket",
    "AudioTransport",
    "ReplyOutcome",
    "SSEResponse",
    "TransportOptions",
    "handle_client_message",
    "sse_response",
    "websocket_reply",
]

logger = logging.getLogger("e2estream.asgi")

# Reprs and the API reference show the public path, not the private module.
TransportOptions.__module__ = SSEResponse.__module__ = __name__


class ASGIWebSocket(Protocol):
    """What :func:`websocket_reply` needs of a WebSocket: Starlette's (and FastAPI's) has it.

    ``receive()`` returns the next ASGI message (``websocket.receive`` or
    ``websocket.disconnect``); ``send(message)`` sends one (``websocket.send``).
    """

    async def receive(self) -> Mapping[str, Any]:
        """Return the next ASGI message from the client."""
        ...

    async def send(self, message: MutableMapping[str, Any]) -> None:
        """Send one ASGI message to the client."""
        ...


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """How a reply sent by :func:`websocket_reply` ended.

    Attributes:
        done: The reply's :class:`~e2estream.DoneEvent`: ``done.spoken.text`` is what
            the listener heard, the assistant's turn to store.
        disconnected: True if the client went away during the reply (the reply was
            interrupted then). Do not receive from this WebSocket again.
    """

    done: DoneEvent
    disconnected: bool

    @property
    def spoken(self) -> SpokenText | None:
        """What the listener heard (``done.spoken``)."""
        return self.done.spoken


def _disconnect_errors() -> tuple[type[BaseException], ...]:
    # What a send to a client that left raises: OSError from raw ASGI servers (uvicorn's
    # ClientDisconnected is one), Starlette's own exceptions when the WebSocket is
    # Starlette's (looked up, not imported: e2estream does not depend on Starlette).
    errors: list[type[BaseException]] = [
        OSError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
    ]
    starlette = sys.modules.get("starlette.websockets")
    for name in ("WebSocketDisconnect", "WebSocketDisconnected"):
        error = getattr(starlette, name, None)
        if isinstance(error, type) and issubclass(error, BaseException):
            errors.append(error)
    return tuple(errors)


class _WebSocketReply:
    """One reply on one WebSocket: a sending loop and a listening task."""

    def __init__(
        self, websocket: ASGIWebSocket, reply: ReplyStream, options: TransportOptions
    ) -> None:
        self.websocket = websocket
        self.reply = reply
        self.options = options
        self.disconnected = False
        self.errors = _disconnect_errors()
        # An audio message and its binary frame go out as a pair, never with a
        # protocol_error from the listener between them.
        self.sending = anyio.Lock()
        self.listening = anyio.CancelScope()
        self.listener_stopped = anyio.Event()

    async def send(self, message: Mapping[str, Any], data: bytes | None = None) -> None:
        if self.disconnected:
            return
        try:
            async with self.sending:
                await self.websocket.send({"type": "websocket.send", "text": encode(message)})
                if data is not None:
                    await self.websocket.send({"type": "websocket.send", "bytes": data})
        except self.errors:
            await self.client_left()

    async def client_left(self) -> None:
        if self.disconnected:
            return
        self.disconnected = True
        # Where the client's player was, as far as the server knows: real-time playback
        # from the first audio, or from its last "played" report.
        await self.reply.interrupt(self.reply.playback_position, cancel_llm=True)

    async def send_events(self) -> DoneEvent:
        await self.send(format_message(reply_audio_format(self.reply), self.options))
        async for event in self.reply:
            message, data = event_messages(event, self.options)
            if isinstance(event, DoneEvent):
                # Stop listening *before* the client learns that the reply is over: the
                # message it sends next (a question) is the host's to receive, not ours.
                await self.stop_listening()
                await self.send(message)
                return event
            await self.send(message, data)
        raise RuntimeError("websocket_reply() got a reply stream that had already ended")

    async def stop_listening(self) -> None:
        self.listening.cancel()
        await self.listener_stopped.wait()

    async def listen(self) -> None:
        try:
            with self.listening:
                while True:
                    # The only cancellation point with a message at stake: ASGI servers'
                    # receive() gives up a message only when it returns.
                    message = await self.websocket.receive()
                    with anyio.CancelScope(shield=True):  # handle it whole
                        if not await self.handle(message):
                            return
        finally:
            self.listener_stopped.set()

    async def handle(self, message: Mapping[str, Any]) -> bool:
        """Handle one ASGI message; False once the client has disconnected."""
        kind = message.get("type")
        if kind == "websocket.disconnect":
            await self.client_left()
            return False
        text = message.get("text")
        if kind != "websocket.receive" or text is None:
            binary = " (binary)" if message.get("bytes") is not None else ""
            await self.send(
                protocol_error_message(f"expected a JSON text message, got {kind!r}{binary}")
            )
            return True
        try:
            await handle_client_message(self.reply, text, cancel_llm=self.options.cancel_llm)
        except ValueError as exc:
            await self.send(protocol_error_message(str(exc)))
        return True


async def websocket_reply(
    websocket: ASGIWebSocket,
    reply: ReplyStream | AbstractAsyncContextManager[ReplyStream],
    options: TransportOptions | None = None,
) -> ReplyOutcome:
    """Send ``reply`` over an accepted WebSocket, interruptible by the client.

    Sends the ``format`` message, then every event (the protocol is in the module
    docstring), while listening for the client's ``interrupt`` and ``played`` messages.
    Returns when the reply is over: after its ``done`` message, or, if the client
    disconnected, once the reply has been interrupted and its audio stopped.

    Args:
        websocket: An accepted WebSocket: Starlette's or FastAPI's, or anything with
            ASGI ``receive()`` and ``send(message)`` (:class:`ASGIWebSocket`).
        reply: The stream of an ``async with stream_reply(...) as reply:`` block, not
            iterated yet; or ``stream_reply(...)`` itself (any async context manager
            yielding a ReplyStream), which is then entered here, so that a failure to
            open the LLM stream is reported to the client too.
        options: Binary or base64 audio, and what an interrupt does to the LLM
            (:class:`TransportOptions`; binary audio by default).

    Returns:
        The :class:`ReplyOutcome`: the ``DoneEvent``, and whether the client left.

    Raises:
        Exception: Whatever the reply's LLM stream raised, as itself (never inside an
            ``ExceptionGroup``), after a ``reply_failed`` message to the client. The
            connection is still usable.
        TypeError: If ``reply`` is neither a ReplyStream nor an async context manager.
        RuntimeError: If ``reply`` had already been iterated to its end.
    """
    options = options or TransportOptions()
    if not isinstance(reply, ReplyStream) and not callable(getattr(reply, "__aenter__", None)):
        raise TypeError(
            "websocket_reply() needs the ReplyStream of an `async with stream_reply(...) as "
            f"reply:` block, or stream_reply(...) itself, not {type(reply).__name__}"
        )
    try:
        if isinstance(reply, ReplyStream):
            return await _send_reply(websocket, reply, options)
        async with reply as stream:
            if not isinstance(stream, ReplyStream):
                raise TypeError(
                    f"websocket_reply() got a context manager yielding "
                    f"{type(stream).__name__}, not a ReplyStream"
                )
            return await _send_reply(websocket, stream, options)
    except Exception as exc:  # the reply failed: tell the client, then raise it
        with contextlib.suppress(*_disconnect_errors()):
            await websocket.send({"type": "websocket.send", "text": encode(failure_message(exc))})
        raise


async def _send_reply(
    websocket: ASGIWebSocket, reply: ReplyStream, options: TransportOptions
) -> ReplyOutcome:
    state = _WebSocketReply(websocket, reply, options)
    with single_exception_unwrapped():
        async with anyio.create_task_group() as group:
            group.start_soon(state.listen)
            try:
                done = await state.send_events()
            finally:
                group.cancel_scope.cancel()  # the reply is over: stop listening
    return ReplyOutcome(done, state.disconnected)


async def handle_client_message(
    reply: ReplyStream, message: str | Mapping[str, Any], *, cancel_llm: bool = True
) -> SpokenText | None:
    """Apply a client's ``interrupt`` or ``played`` message to ``reply``.

    :func:`websocket_reply` does this for every message it receives. Over SSE, which
    only goes one way, the client sends these messages to an endpoint of yours (a POST
    with the JSON body, say), which finds the reply and calls this.

    Args:
        reply: The reply the message is about.
        message: The JSON text, or the object it decodes to.
        cancel_llm: Passed to :meth:`~e2estream.ReplyStream.interrupt`.

    Returns:
        The spoken text for an ``interrupt``, None for ``played``.

    Raises:
        ValueError: If the message is not JSON, not an object, of an unknown type, or
            its ``played`` is not a finite number >= 0.
    """
    return await apply_client_message(reply, parse_client_message(message), cancel_llm=cancel_llm)


def sse_response(
    reply: AbstractAsyncContextManager[ReplyStream], options: TransportOptions | None = None
) -> SSEResponse:
    """Return an ASGI response streaming a reply as server-sent events (text/event-stream).

    Each message is ``event: <type>`` and ``data: <JSON>`` (the same messages as over a
    WebSocket, audio in base64): ``format`` first, then every event, then ``done`` or
    ``reply_failed``. A client that disconnects interrupts the reply; the LLM stream and
    every TTS request are closed before the response returns. Return it from a Starlette
    or FastAPI endpoint::

        @app.get("/sse", response_model=None)  # FastAPI; a Starlette Route works the same
        async def sse(q: str) -> SSEResponse:
            return sse_response(stream_reply(llm_for(q), tts))

    Args:
        reply: ``stream_reply(...)`` itself, *not entered*: the response runs after your
            endpoint returned, so it enters the block itself. Any async context manager
            yielding a :class:`~e2estream.ReplyStream` works (one that also opens the
            LLM request, say).
        options: ``TransportOptions(audio="base64")`` by default, the only audio
            transport SSE has.

    Raises:
        TypeError: If ``reply`` is a ReplyStream already (an entered block) or not an
            async context manager.
        ValueError: If ``options.audio`` is ``"binary"``.
    """
    options = options or TransportOptions(audio="base64")
    if options.audio != "base64":
        raise ValueError(
            "server-sent events are text: use TransportOptions(audio='base64') with sse_response()"
        )
    if isinstance(reply, ReplyStream):
        raise TypeError(
            "sse_response() takes stream_reply(...) itself, not the stream of an entered "
            "block: the response runs after your endpoint returns, so it enters the block"
        )
    if not callable(getattr(reply, "__aenter__", None)):
        raise TypeError(
            f"sse_response() takes an async context manager yielding a ReplyStream, such as "
            f"stream_reply(...), not {type(reply).__name__}"
        )
    return SSEResponse.create(reply, options)
