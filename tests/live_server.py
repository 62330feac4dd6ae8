"""Run a real ASGI app on uvicorn, on 127.0.0.1 and a free port, in a background thread.

Used by the tests that must prove interoperation over a real socket (real SDK clients,
real httpx connections) rather than against mocks of our own API.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def live_server(app: Any, *, startup_timeout: float = 10.0, ws: str = "none") -> Iterator[str]:
    """Serve ``app`` and yield its base URL (``http://127.0.0.1:PORT``); stop on exit.

    ``ws`` is uvicorn's WebSocket implementation: ``"none"``, or ``"wsproto"`` for the
    streaming-TTS fakes.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws=ws)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
