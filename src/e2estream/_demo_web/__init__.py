"""The browser demo: ``python -m e2estream demo --web`` (needs ``e2estream[demo]``).

One page: a text box and a Speak button; the reply appears token by token and plays as
it arrives (PCM as binary WebSocket frames, scheduled gap-free on an ``AudioContext``),
with a live timeline, and an Interrupt button that stops playback at once and shows what
the server says was heard.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from typing import TextIO

from .app import create_app
from .services import LLMService, TTSService, WebDemoConfig

__all__ = ["LLMService", "TTSService", "WebDemoConfig", "create_app", "serve"]


def serve(config: WebDemoConfig, out: TextIO = sys.stdout) -> None:
    """Serve the demo until Ctrl-C, after printing its URL to ``out``.

    Raises:
        ImportError: If uvicorn is not installed (``pip install "e2estream[demo]"``).
        OSError: If the address cannot be bound.
    """
    import uvicorn

    app = create_app(config)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
        # Listening before the URL is printed: a browser (or a test) that connects at
        # once waits in the backlog until uvicorn accepts, instead of being refused.
        sock.listen(128)
        port = sock.getsockname()[1]
        host = f"[{config.host}]" if family == socket.AF_INET6 else config.host
        out.write(f"e2estream web demo: http://{host}:{port}/  (Ctrl-C to stop)\n")
        out.flush()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        # uvicorn shuts down cleanly on Ctrl-C, then raises KeyboardInterrupt again so
        # that the signal's default effect is not lost: here, stopping is the end.
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        out.write("Stopped.\n")
    finally:
        sock.close()
