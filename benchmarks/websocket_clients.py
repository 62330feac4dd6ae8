"""WebSocket clients for the streaming-TTS backends: httpx-ws, httpx2's own, bare wsproto.

    python benchmarks/websocket_clients.py [--connections 50] [--frames 2000]

Needs ``httpx-ws``, ``wsproto`` and ``httpx2[ws]`` (dev-only; none is a run-time
dependency). A uvicorn server on 127.0.0.1 (TCP_NODELAY) plays a streaming TTS: it
waits for one text message, then sends binary frames of 4800 bytes (0.1 s of 24 kHz
16-bit mono) as fast as the client takes them. Measured on asyncio and trio:

* first message: from opening the connection (TCP, HTTP upgrade) to the first audio
  frame, with the HTTP client (its TLS context, its pool) made beforehand as a backend
  keeps one, median and p99 over ``--connections`` fresh connections;
* throughput: frames per second over ``--frames`` frames on one connection.

Prints a Markdown table (the figures in docs/http-clients.md come from it).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import uvicorn
import wsproto
import wsproto.events

FRAME = b"\0\1" * 2400


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    message = await receive()
    count = int(message["text"])
    for _ in range(count):
        await send({"type": "websocket.send", "bytes": FRAME})
    await send({"type": "websocket.close", "code": 1000})


@contextmanager
def serving() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/tts"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Session:
    """What a benchmark needs of a WebSocket: send one text, receive binary frames."""

    def __init__(self, send_text: Callable[[str], Any], receive_bytes: Callable[[], Any]):
        self.send_text = send_text
        self.receive_bytes = receive_bytes


# Each client is a factory: it sets up what is shared between connections (an HTTP
# client with its TLS context and pool, as a backend would keep one) and yields a
# function opening one connection. Only the connections are timed.
Connect = Callable[[str], AbstractAsyncContextManager[Session]]


@asynccontextmanager
async def httpx_ws_client() -> AsyncIterator[Connect]:
    import httpx
    import httpx_ws

    async with httpx.AsyncClient() as client:

        @asynccontextmanager
        async def connect(url: str) -> AsyncIterator[Session]:
            async with httpx_ws.aconnect_ws(url.replace("ws://", "http://"), client) as ws:
                yield Session(ws.send_text, ws.receive_bytes)

        yield connect


@asynccontextmanager
async def httpx2_client() -> AsyncIterator[Connect]:
    import httpx2

    async with httpx2.AsyncClient() as client:

        @asynccontextmanager
        async def connect(url: str) -> AsyncIterator[Session]:
            async with client.websocket(url) as ws:
                yield Session(ws.send_text, ws.receive_bytes)

        yield connect


@asynccontextmanager
async def wsproto_client() -> AsyncIterator[Connect]:
    yield via_wsproto


@asynccontextmanager
async def via_wsproto(url: str) -> AsyncIterator[Session]:
    # wsproto is sans-IO: the bytes go over an anyio TCP stream, the events come back.
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    stream = await anyio.connect_tcp(parts.hostname, parts.port)
    connection = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    pending: list[wsproto.events.Event] = []

    async def next_event() -> wsproto.events.Event:
        while not pending:
            connection.receive_data(await stream.receive(65536))
            pending.extend(connection.events())
        return pending.pop(0)

    async with stream:
        await stream.send(connection.send(wsproto.events.Request(parts.netloc, parts.path)))
        if not isinstance(await next_event(), wsproto.events.AcceptConnection):
            raise RuntimeError("the server refused the WebSocket")

        async def send_text(text: str) -> None:
            await stream.send(connection.send(wsproto.events.TextMessage(text)))

        async def receive_bytes() -> bytes:
            data = bytearray()
            while True:
                event = await next_event()
                if isinstance(event, wsproto.events.BytesMessage):
                    data += event.data
                    if event.message_finished:
                        return bytes(data)
                elif isinstance(event, wsproto.events.CloseConnection):
                    raise EOFError

        yield Session(send_text, receive_bytes)
        if connection.state is wsproto.connection.ConnectionState.OPEN:
            await stream.send(connection.send(wsproto.events.CloseConnection(1000)))


CLIENTS: dict[str, Callable[[], AbstractAsyncContextManager[Connect]]] = {
    "httpx-ws 0.9 (httpx)": httpx_ws_client,
    "httpx2 2.16 `client.websocket`": httpx2_client,
    "wsproto over anyio streams": wsproto_client,
}


async def first_message(client: Any, url: str, connections: int) -> list[float]:
    samples = []
    async with client() as connect:
        for _ in range(connections):
            started = anyio.current_time()
            async with connect(url) as session:
                await session.send_text("1")
                assert await session.receive_bytes() == FRAME
                samples.append(anyio.current_time() - started)
    return samples


async def throughput(client: Any, url: str, frames: int) -> float:
    async with client() as connect, connect(url) as session:
        started = anyio.current_time()
        await session.send_text(str(frames))
        for _ in range(frames):
            await session.receive_bytes()
        return frames / (anyio.current_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--frames", type=int, default=2000)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; frames of {len(FRAME)} bytes\n")
    print("| client | backend | first message, median / p99 ms | frames/s |")
    print("| --- | --- | --- | --- |")
    with serving() as url:
        for name, open_session in CLIENTS.items():
            for backend in ("asyncio", "trio"):
                try:
                    firsts = anyio.run(
                        first_message, open_session, url, args.connections, backend=backend
                    )
                    rate = anyio.run(throughput, open_session, url, args.frames, backend=backend)
                except Exception as exc:  # a client that does not run on this backend
                    print(f"| {name} | {backend} | fails: {type(exc).__name__}: {exc} | |")
                    continue
                ordered = sorted(firsts)
                tail = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
                median = statistics.median(firsts)
                times = f"{median * 1000:.2f} / {tail * 1000:.2f}"
                print(f"| {name} | {backend} | {times} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
