"""Serve an ASGI app on 127.0.0.1 for a test: uvicorn (asyncio) or hypercorn (trio).

The server runs in a background thread on a socket bound to a free port; the context
manager yields the base URL (``http://127.0.0.1:PORT``) and stops the server on exit.
Both servers serve HTTP and WebSockets, so one Starlette app is tested on both anyio
backends over real sockets.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

#: The servers, with the event loop each runs the app on.
SERVERS = ["uvicorn-asyncio", "hypercorn-trio"]


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def _uvicorn(app: Any, sock: socket.socket) -> Iterator[None]:
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("websockets")
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _hypercorn(app: Any, sock: socket.socket) -> Iterator[None]:
    pytest.importorskip("hypercorn")
    import trio
    from hypercorn.config import Config
    from hypercorn.trio import serve

    sock.listen()
    config = Config()
    config.bind = [f"fd://{os.dup(sock.fileno())}"]  # hypercorn closes the fd it is given
    config.loglevel = "WARNING"
    config.graceful_timeout = 1.0
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["token"] = trio.lowlevel.current_trio_token()
        state["stop"] = stop = trio.Event()
        started.set()
        await serve(app, config, shutdown_trigger=stop.wait)

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("hypercorn did not start")
    try:
        yield
    finally:
        trio.from_thread.run_sync(state["stop"].set, trio_token=state["token"])
        thread.join(timeout=10)


@contextmanager
def serve_app(app: Any, server: str) -> Iterator[str]:
    """Serve ``app`` with ``server`` (one of :data:`SERVERS`); yield its base URL."""
    sock = _bound_socket()
    port = sock.getsockname()[1]
    runner = _uvicorn if server == "uvicorn-asyncio" else _hypercorn
    try:
        with runner(app, sock):
            yield f"http://127.0.0.1:{port}"
    finally:
        sock.close()
