"""Real peers for the HTTP tests: an ASGI app on uvicorn, and the installed client packages.

``serve`` runs an app on 127.0.0.1 and a free port, in a background thread, for the tests
that must prove interoperation over a real socket (real SDK clients, real httpx and
httpx2 connections) rather than against mocks of our own API. The server also tells how
many TCP connections it holds, so a test can see a client close its connections.

``client_package`` gives the HTTP client package a test runs on: the tests run with
httpx, httpx2 or both installed (see the noxfile's http_httpx_only and
http_httpx2_only sessions), and skip the cases of a package that is absent.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
import uvicorn

#: The HTTP client packages installed, in the order the backends prefer them for a client
#: of their own (httpx2, the maintained line, first).
CLIENT_PACKAGES = [name for name in ("httpx2", "httpx") if importlib.util.find_spec(name)]

#: Upper bound of any wait on the server (a failing test must not hang).
WAIT = 10.0


def client_package(name: str | None = None) -> types.ModuleType:
    """The client package ``name``, or the preferred one installed; skip the test if absent."""
    if name is None:
        if not CLIENT_PACKAGES:
            pytest.skip("neither httpx nor httpx2 is installed")
        name = CLIENT_PACKAGES[0]
    if name not in CLIENT_PACKAGES:
        pytest.skip(f"{name} is not installed")
    return importlib.import_module(name)


@dataclass
class LiveServer:
    """A running server: its base URL (``http://127.0.0.1:PORT``) and its connections."""

    url: str
    uvicorn: uvicorn.Server

    def open_connections(self) -> int:
        """How many TCP connections the server holds now."""
        return len(self.uvicorn.server_state.connections)

    async def wait_all_closed(self) -> int:
        """Wait (bounded) until the server holds no connection; return how many remain."""
        # Polled: uvicorn's connection set lives in another thread, with no event to
        # wait on. The bound only stops a failing test; it is no timing assertion.
        for _ in range(int(WAIT / 0.005)):
            if not self.open_connections():
                break
            await anyio.sleep(0.005)
        return self.open_connections()


@contextmanager
def serve(app: Any, *, log_level: str = "warning", ws: str = "none") -> Iterator[LiveServer]:
    """Serve ``app`` in a background thread until the block ends.

    ``ws`` is uvicorn's WebSocket implementation: ``"none"``, or ``"wsproto"`` for the
    streaming-TTS stand-ins.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by the accepted sockets: without it every response whose header and body
    # go out in separate writes waits 40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", ws=ws)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()


@contextmanager
def live_server(app: Any, *, ws: str = "none") -> Iterator[str]:
    """Serve ``app`` and yield its base URL; for tests that need no more than that."""
    with serve(app, ws=ws) as server:
        yield server.url
