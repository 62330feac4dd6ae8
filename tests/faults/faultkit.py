"""Tools of the fault suite: a misbehaving server on a real socket, and a leak detector.

``FaultServer`` runs a raw ASGI app on uvicorn (127.0.0.1, a free port, a background
thread). A request's path starts with ``/{run}/{fault}``: ``run`` keys the log of one
test, ``fault`` picks the misbehaviour. TTS faults hit only requests whose text holds
``FAULT``; the other segments of the same reply are served normally, so a test can see
that one bad segment costs only that segment. For every request the server logs how it
ended: ``"complete"`` (the whole response went out), ``"client-left"`` (the client went
away first) or ``"dropped"`` (the fault was to drop the connection), and it counts the
TCP connections still open.

``AsyncGeneratorWatch`` records every async generator first iterated while it is on
(through the interpreter's async-generator hooks, chained to the event loop's own) and
reports those still suspended: a generator left for the garbage collector to finalize.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import socket
import sys
import threading
import time
import types
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
import uvicorn

from e2estream import TextTiming

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[["Call"], Awaitable[None]]

#: Upper bound of any wait in these tests (a failing test must not hang).
WAIT = 10.0

#: The HTTP client packages installed: the suite runs with either or both (see the
#: noxfile's http_httpx_only and http_httpx2_only sessions).
CLIENT_PACKAGES = [name for name in ("httpx", "httpx2") if importlib.util.find_spec(name)]


def client_package(name: str | None = None) -> types.ModuleType:
    """The client package ``name``, or the first one installed; skip the test if absent."""
    if name is None:
        if not CLIENT_PACKAGES:
            pytest.skip("neither httpx nor httpx2 is installed")
        name = CLIENT_PACKAGES[0]
    if name not in CLIENT_PACKAGES:
        pytest.skip(f"{name} is not installed")
    return importlib.import_module(name)


@dataclass
class Call:
    """One request as the server saw it, and the means to answer it."""

    run: str
    fault: str
    path: str
    body: Any
    receive: Receive
    send: Send
    #: How many requests of this run carried the same text before this one.
    attempt: int = 0

    @property
    def text(self) -> str:
        """The text to speak (OpenAI's ``input``, ElevenLabs' ``text``), or ""."""
        if isinstance(self.body, dict):
            return str(self.body.get("input", self.body.get("text", "")))
        return ""

    async def start(self, status: int = 200, content_type: str | None = "audio/pcm") -> None:
        headers = [(b"content-type", content_type.encode())] if content_type else []
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def start_with(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def chunk(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self, data: bytes = b"") -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": False})

    async def until_disconnect(self) -> None:
        """Wait (bounded) for the client to go away, then raise :class:`ClientLeft`."""
        with anyio.move_on_after(WAIT):
            while (await self.receive())["type"] != "http.disconnect":
                pass
            raise ClientLeft
        # Not gone: the request then ends as "complete" and the test sees it.

    async def check_gone(self) -> None:
        """Raise :class:`ClientLeft` if the client went away (uvicorn drops our sends then)."""
        with anyio.move_on_after(0):
            if (await self.receive())["type"] == "http.disconnect":
                raise ClientLeft


class ClientLeft(Exception):
    """The client closed the connection before the response was complete."""


class ServerDrop(Exception):
    """The handler abandons the response on purpose (the connection is dropped)."""


@dataclass
class RunLog:
    """What the server saw of one test's requests."""

    texts: list[str] = field(default_factory=list)
    #: (text, outcome) of each request, in the order the requests ended.
    ended: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_outcomes(self, count: int) -> list[str]:
        """Block until ``count`` requests have ended (or the wait bound passed)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.ended) >= count, timeout=WAIT)
            return self.outcomes

    @property
    def outcomes(self) -> list[str]:
        return [outcome for _, outcome in self.ended]

    def outcomes_of(self, marker: str) -> list[str]:
        """How the requests whose text holds ``marker`` ended."""
        return [outcome for text, outcome in self.ended if marker in text]


class FaultServer:
    """The raw ASGI app and its log; see the module docstring."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.url = ""
        self.logs: dict[str, RunLog] = {}
        self._server: uvicorn.Server | None = None
        self._lock = threading.Lock()
        self._runs = 0

    def new_run(self) -> str:
        with self._lock:
            self._runs += 1
            run = f"run{self._runs}"
            self.logs[run] = RunLog()
            return run

    def open_connections(self) -> int:
        assert self._server is not None
        return len(self._server.server_state.connections)

    async def wait_all_closed(self) -> int:
        """Wait (bounded) until the server holds no connection; return how many remain."""
        # Polled: uvicorn's connection set lives in another thread, with no event to
        # wait on. The bound only stops a failing test; it is no timing assertion.
        for _ in range(int(WAIT / 0.005)):
            if not self.open_connections():
                break
            await anyio.sleep(0.005)
        return self.open_connections()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        _, run, fault, *rest = scope["path"].split("/")
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        log = self.logs[run]
        call = Call(run, fault, "/".join(rest), body, receive, send)
        with log.changed:
            call.attempt = log.texts.count(call.text)
            log.texts.append(call.text)
            log.bodies.append(body)
        outcome = "error"
        try:
            await self.handlers[fault](call)
            outcome = "complete"
        except (ClientLeft, OSError):
            outcome = "client-left"
        except ServerDrop:
            outcome = "dropped"
            raise
        finally:
            with log.changed:
                log.ended.append((call.text, outcome))
                log.changed.notify_all()


@contextmanager
def serving(server: FaultServer) -> Iterator[FaultServer]:
    """Run ``server`` on uvicorn in a thread; stop it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by the accepted sockets: without it every response whose header and body
    # go out in separate writes waits 40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(server, log_level="critical", lifespan="off", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fault server did not start")
        time.sleep(0.01)
    server.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server._server = uv
    try:
        yield server
    finally:
        uv.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class AsyncGeneratorWatch:
    """Records the async generators first iterated while on; see the module docstring."""

    def __init__(self) -> None:
        self._started: list[weakref.ref[AsyncGenerator[Any, Any]]] = []
        self._saved: Any = None

    def __enter__(self) -> AsyncGeneratorWatch:
        self._saved = saved = sys.get_asyncgen_hooks()

        def firstiter(agen: AsyncGenerator[Any, Any]) -> None:
            self._started.append(weakref.ref(agen))
            if saved.firstiter is not None:
                saved.firstiter(agen)

        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=saved.finalizer)
        return self

    def __exit__(self, *exc_info: object) -> None:
        sys.set_asyncgen_hooks(*self._saved)

    def suspended(self) -> list[str]:
        """The qualified names of the recorded generators that are neither done nor closed."""
        left = []
        for ref in self._started:
            agen = ref()
            if isinstance(agen, types.AsyncGeneratorType) and agen.ag_frame is not None:
                left.append(f"{agen.ag_code.co_filename.rsplit('/', 1)[-1]}:{agen.__qualname__}")
        return left


async def collect(chunks: AsyncIterator[bytes | TextTiming]) -> bytes:
    out = b""
    async for chunk in chunks:
        if isinstance(chunk, bytes):
            out += chunk
    return out
