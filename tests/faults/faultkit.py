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

import json
import socket
import sys
import threading
import types
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from e2estream import TextTiming
from live_server import LiveServer, serve

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[["Call"], Awaitable[None]]

#: Upper bound of any wait in these tests (a failing test must not hang).
WAIT = 10.0


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

    def wait_all_ended(self) -> tuple[int, list[str]]:
        """Block until every request seen so far has ended; return (requests, outcomes).

        Both from one moment: a request whose client had already gone may reach the
        server late (uvicorn dispatches it, the app then reads the disconnect), and
        counting the requests again afterwards would race with it.
        """
        with self.changed:
            self.changed.wait_for(lambda: len(self.ended) >= len(self.texts), timeout=WAIT)
            return len(self.texts), self.outcomes

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
        self._live: LiveServer | None = None
        self._lock = threading.Lock()
        self._runs = 0

    def new_run(self) -> str:
        with self._lock:
            self._runs += 1
            run = f"run{self._runs}"
            self.logs[run] = RunLog()
            return run

    def open_connections(self) -> int:
        assert self._live is not None
        return self._live.open_connections()

    async def wait_all_closed(self) -> int:
        """Wait (bounded) until the server holds no connection; return how many remain."""
        assert self._live is not None
        return await self._live.wait_all_closed()

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
    with serve(server, log_level="critical") as live:
        server.url = live.url
        server._live = live
        yield server


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
