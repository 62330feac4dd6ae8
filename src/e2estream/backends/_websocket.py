"""A small WebSocket client: wsproto (sans-IO) over anyio's TCP and TLS streams.

Why not httpx-ws or httpx2's own WebSockets: both move every frame through a background
task and a memory stream; measured on this project's machine, bare wsproto takes 3-4x
the frames per second and opens faster (docs/http-clients.md), and it ties the streaming
backends to neither HTTP client. It runs on asyncio and trio alike.

What it does: the opening handshake (with extra headers), whole messages reassembled
from frames, pings answered, a bound on one message's size, and a clean close. What it
leaves out: proxies and compression (the services do not need them).
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import anyio.abc

try:
    import wsproto
    import wsproto.events as ws_events
    from wsproto.connection import ConnectionState
    from wsproto.utilities import LocalProtocolError, RemoteProtocolError
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        "the streaming-input backends need wsproto: pip install 'e2estream[websocket]'"
    ) from exc

from .._exceptions import SynthesisError, TTSAuthenticationError, TTSHTTPError
from .._redact import redact_url, redact_urls_in

__all__ = ["WebSocket", "WebSocketClosed", "WebSocketSettings", "connect_websocket"]

_DEFAULT_PORTS = {"ws": 80, "wss": 443}
_READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class WebSocketSettings:
    """How the streaming backends connect.

    Args:
        connect_timeout: Seconds for TCP, TLS and the opening handshake together.
        max_message_bytes: The largest message accepted from the service; a bigger one
            ends the connection with an error (a hostile or broken server cannot make
            the client buffer without bound).
        ssl_context: For ``wss://``; the system's default trust store when None.
    """

    connect_timeout: float = 10.0
    max_message_bytes: int = 16 << 20
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if not self.connect_timeout > 0:
            raise ValueError(f"connect_timeout must be positive, got {self.connect_timeout}")
        if self.max_message_bytes < 1:
            raise ValueError(f"max_message_bytes must be positive, got {self.max_message_bytes}")


class WebSocketClosed(SynthesisError):
    """The service closed the WebSocket (or the connection broke).

    Attributes:
        code: The close code (1000 normal, 1008 policy violation, ...), or None when the
            connection broke without a close frame.
        reason: The reason the service gave (never contains credentials).
    """

    def __init__(self, code: int | None, reason: str, url: str) -> None:
        what = f"closed with code {code}" if code is not None else "broke"
        detail = f": {reason}" if reason else ""
        super().__init__(f"the WebSocket to {url} {what}{detail}")
        self.code = code
        self.reason = reason


class WebSocket:
    """One open WebSocket: send text, receive whole messages."""

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        protocol: wsproto.WSConnection,
        url: str,
        settings: WebSocketSettings,
    ) -> None:
        self._stream = stream
        self._protocol = protocol
        self._url = url  # redacted
        self._settings = settings
        self._events: deque[ws_events.Event] = deque()
        self._send_lock = anyio.Lock()
        self._closed: WebSocketClosed | None = None

    async def send_text(self, text: str) -> None:
        """Send one text message (safe while another task is receiving)."""
        await self._send(ws_events.TextMessage(data=text))

    async def receive(self) -> str | bytes:
        """Return the next whole message: ``str`` for text, ``bytes`` for binary.

        Raises:
            WebSocketClosed: When the service closed the connection or it broke.
            SynthesisError: When a message exceeds ``max_message_bytes``.
        """
        parts: list[str | bytes] = []
        size = 0
        while True:
            event = await self._next_event()
            if isinstance(event, (ws_events.TextMessage, ws_events.BytesMessage)):
                data = event.data
                parts.append(bytes(data) if isinstance(data, bytearray) else data)
                size += len(data)
                if size > self._settings.max_message_bytes:
                    await self.close(1009)
                    raise SynthesisError(
                        f"a message from {self._url} exceeds {self._settings.max_message_bytes}"
                        " bytes"
                    )
                if event.message_finished:
                    if isinstance(event, ws_events.TextMessage):
                        return "".join(part for part in parts if isinstance(part, str))
                    return b"".join(part for part in parts if isinstance(part, bytes))
            elif isinstance(event, ws_events.Ping):
                await self._send(event.response())
            elif isinstance(event, ws_events.CloseConnection):
                self._closed = WebSocketClosed(
                    event.code, redact_urls_in(event.reason or ""), self._url
                )
                if self._protocol.state is ConnectionState.REMOTE_CLOSING:
                    await self._send(event.response())
                raise self._closed

    async def handshake(self) -> tuple[int, bytes] | None:
        """Wait for the answer to the opening request: None if accepted, else status and body."""
        status = 0
        body = bytearray()
        while True:
            event = await self._next_event()
            if isinstance(event, ws_events.AcceptConnection):
                return None
            if isinstance(event, ws_events.RejectConnection):
                status = event.status_code
                if not event.has_body:
                    return status, b""
            elif isinstance(event, ws_events.RejectData):
                body += event.data[: max(0, 4096 - len(body))]
                if event.body_finished:
                    return status, bytes(body)

    async def close(self, code: int = 1000) -> None:
        """Close the connection (a close frame if it is still open); idempotent."""
        if self._protocol.state is ConnectionState.OPEN:
            with suppress(WebSocketClosed):
                await self._send(ws_events.CloseConnection(code=code))
        await self._stream.aclose()

    async def _send(self, event: ws_events.Event) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            data = self._protocol.send(event)
        except LocalProtocolError as exc:
            raise WebSocketClosed(None, f"cannot send: {exc}", self._url) from None
        async with self._send_lock:
            try:
                await self._stream.send(data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                self._closed = WebSocketClosed(None, type(exc).__name__, self._url)
                raise self._closed from None

    async def _next_event(self) -> ws_events.Event:
        while not self._events:
            if self._closed is not None:
                raise self._closed
            try:
                data = await self._stream.receive(_READ_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
                self._closed = WebSocketClosed(None, type(exc).__name__, self._url)
                raise self._closed from None
            try:
                self._protocol.receive_data(data)
                self._events.extend(self._protocol.events())
            except RemoteProtocolError as exc:
                self._closed = WebSocketClosed(None, f"protocol error: {exc}", self._url)
                raise self._closed from None
        return self._events.popleft()


@asynccontextmanager
async def connect_websocket(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    settings: WebSocketSettings | None = None,
) -> AsyncIterator[WebSocket]:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``); close it on exit.

    Raises:
        TTSAuthenticationError: The handshake was refused with 401 or 403.
        TTSHTTPError: The handshake was refused with another status.
        WebSocketClosed: The connection failed or timed out.
        ValueError: For a URL that is not ``ws://`` or ``wss://``.
    """
    settings = settings or WebSocketSettings()
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"a WebSocket URL must start with ws:// or wss://, got {shown!r}")
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    protocol = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    socket: WebSocket | None = None
    with anyio.move_on_after(settings.connect_timeout) as timeout:
        try:
            if parts.scheme == "wss":
                stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                    parts.hostname,
                    port,
                    tls=True,
                    ssl_context=settings.ssl_context or ssl.create_default_context(),
                    tls_hostname=parts.hostname,
                )
            else:
                stream = await anyio.connect_tcp(parts.hostname, port)
        except OSError as exc:
            raise WebSocketClosed(None, f"cannot connect: {exc.strerror or exc}", shown) from None
        socket = WebSocket(stream, protocol, shown, settings)
        try:
            host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
            request = ws_events.Request(
                host=host,
                target=target,
                extra_headers=[
                    (name.encode(), value.encode()) for name, value in (headers or {}).items()
                ],
            )
            await stream.send(protocol.send(request))
            refused = await socket.handshake()
        except BaseException:
            await stream.aclose()
            raise
    if timeout.cancelled_caught or socket is None:
        raise WebSocketClosed(None, f"no connection within {settings.connect_timeout:g} s", shown)
    if refused is not None:
        await stream.aclose()
        _raise_refused(*refused, shown)
    try:
        yield socket
    finally:
        with anyio.CancelScope(shield=True):
            await socket.close()


def _raise_refused(status: int, body: bytes, url: str) -> None:
    message = redact_urls_in(body[:500].decode("utf-8", "replace").strip()) or "(no message)"
    if status in (401, 403):
        raise TTSAuthenticationError(status, f"{url} refused the credentials: {message}")
    raise TTSHTTPError(status, f"{url} refused the WebSocket: {message}")
