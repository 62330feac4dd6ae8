"""The wsproto-over-anyio WebSocket client, against a raw wsproto server on 127.0.0.1.

A raw server (not Starlette) so the tests control the frames: messages split into
fragments, pings, oversized messages, refused handshakes, abrupt closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import anyio
import anyio.abc
import pytest
import wsproto
import wsproto.events as ws

from e2estream import TTSAuthenticationError, TTSHTTPError
from e2estream.backends.websocket import WebSocketClosed, WebSocketSettings, connect_websocket

Handler = Callable[["Peer"], Awaitable[None]]


class Peer:
    """The server side of one connection."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.protocol = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        self.request: ws.Request | None = None
        self.pending: list[ws.Event] = []

    async def event(self) -> ws.Event:
        while not self.pending:
            self.protocol.receive_data(await self.stream.receive())
            self.pending.extend(self.protocol.events())
        return self.pending.pop(0)

    async def send(self, event: ws.Event) -> None:
        await self.stream.send(self.protocol.send(event))

    async def accept(self) -> None:
        request = await self.event()
        assert isinstance(request, ws.Request)
        self.request = request
        await self.send(ws.AcceptConnection())

    async def text(self) -> str:
        while True:
            event = await self.event()
            if isinstance(event, ws.TextMessage):
                return str(event.data)


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await handler(Peer(stream))

    async with listener, anyio.create_task_group() as task_group:
        task_group.start_soon(listener.serve, serve)
        try:
            yield f"ws://127.0.0.1:{port}/v1/speak?model=x&api_key=s3cret"
        finally:
            task_group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_fragmented_messages_are_reassembled_and_pings_answered(anyio_backend: str) -> None:
    pongs: list[bytes] = []

    async def handler(peer: Peer) -> None:
        await peer.accept()
        assert await peer.text() == "hello"
        await peer.send(ws.Ping(payload=b"are you there"))
        await peer.send(ws.TextMessage(data='{"type": ', message_finished=False))
        await peer.send(ws.TextMessage(data='"Flushed"}', message_finished=True))
        await peer.send(ws.BytesMessage(data=b"\x01\x02", message_finished=False))
        await peer.send(ws.BytesMessage(data=b"\x03", message_finished=True))
        event = await peer.event()
        assert isinstance(event, ws.Pong)
        pongs.append(bytes(event.payload))
        await peer.send(ws.CloseConnection(code=1000))

    async with server(handler) as url, connect_websocket(url, headers={"X-Key": "k"}) as socket:
        await socket.send_text("hello")
        assert await socket.receive() == '{"type": "Flushed"}'
        assert await socket.receive() == b"\x01\x02\x03"
        with pytest.raises(WebSocketClosed) as closed:
            await socket.receive()
    assert closed.value.code == 1000
    assert pongs == [b"are you there"]


@pytest.mark.anyio
async def test_extra_headers_reach_the_server(anyio_backend: str) -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(peer: Peer) -> None:
        await peer.accept()
        assert peer.request is not None
        seen.extend((bytes(k), bytes(v)) for k, v in peer.request.extra_headers)
        await peer.send(ws.CloseConnection(code=1000))

    async with (
        server(handler) as url,
        connect_websocket(url, headers={"X-Api-Key": "k1"}) as socket,
    ):
        with pytest.raises(WebSocketClosed):
            await socket.receive()
    assert (b"x-api-key", b"k1") in [(k.lower(), v) for k, v in seen]


@pytest.mark.anyio
async def test_an_oversized_message_is_refused(anyio_backend: str) -> None:
    async def handler(peer: Peer) -> None:
        await peer.accept()
        for _ in range(4):
            await peer.send(ws.BytesMessage(data=b"\0" * 1000, message_finished=False))
        await peer.send(ws.BytesMessage(data=b"", message_finished=True))
        await anyio.sleep(1)

    settings = WebSocketSettings(max_message_bytes=2500)
    async with server(handler) as url, connect_websocket(url, settings=settings) as socket:
        with pytest.raises(Exception, match="exceeds 2500 bytes"):
            await socket.receive()


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "error"), [(401, TTSAuthenticationError), (503, TTSHTTPError)])
async def test_a_refused_handshake_names_the_status_and_hides_the_key(
    anyio_backend: str, status: int, error: type[Exception]
) -> None:
    async def handler(peer: Peer) -> None:
        request = await peer.event()
        assert isinstance(request, ws.Request)
        await peer.send(ws.RejectConnection(status_code=status, has_body=True))
        await peer.send(ws.RejectData(data=b"go away", body_finished=True))

    async with server(handler) as url:
        with pytest.raises(error) as refused:
            async with connect_websocket(url):
                pass  # pragma: no cover
    message = str(refused.value)
    assert str(status) in message and "go away" in message
    assert "s3cret" not in message and "api_key=***" in message


@pytest.mark.anyio
async def test_an_abrupt_close_is_a_broken_connection(anyio_backend: str) -> None:
    async def handler(peer: Peer) -> None:
        await peer.accept()
        await peer.stream.aclose()  # no close frame

    async with server(handler) as url, connect_websocket(url) as socket:
        with pytest.raises(WebSocketClosed) as closed:
            await socket.receive()
    assert closed.value.code is None and "broke" in str(closed.value)


@pytest.mark.anyio
async def test_a_refused_connection_and_a_silent_server_fail_clearly(anyio_backend: str) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    with pytest.raises(WebSocketClosed, match="cannot connect"):
        async with connect_websocket(f"ws://127.0.0.1:{port}/"):
            pass  # pragma: no cover

    async def silent(peer: Peer) -> None:
        await anyio.sleep(10)

    async with server(silent) as url:
        with pytest.raises(WebSocketClosed, match=r"no connection within 0\.2 s"):
            async with connect_websocket(url, settings=WebSocketSettings(connect_timeout=0.2)):
                pass  # pragma: no cover


def test_bad_urls_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        anyio.run(_open, "http://example.org/")
    with pytest.raises(ValueError, match="connect_timeout"):
        WebSocketSettings(connect_timeout=0)
    with pytest.raises(ValueError, match="max_message_bytes"):
        WebSocketSettings(max_message_bytes=0)


async def _open(url: str) -> None:
    async with connect_websocket(url):
        pass  # pragma: no cover
