"""e2estream.asgi over real sockets: a Starlette app on uvicorn (asyncio) and hypercorn (trio).

The client is a real WebSocket client (``websockets``) or httpx for server-sent events,
in the test's thread; the server runs in its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("websockets")

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.sync.client import ClientConnection, connect

from asgi_servers import SERVERS, serve_app
from e2estream import ReplyStream, SourceError, stream_reply
from e2estream.asgi import (
    ReplyOutcome,
    SSEResponse,
    TransportOptions,
    handle_client_message,
    sse_response,
    websocket_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

REPLY = (
    "Here is the first sentence of a long answer. The second one comes while the first "
    "plays. A third sentence follows it, and a fourth one after that. This last one is "
    "rarely heard by anyone at all."
)


@dataclass
class Host:
    """A Starlette app built on the helpers, recording what happened on the server."""

    tts: FakeSynthesizer
    tokens_per_second: float = 400.0
    fail_after: str | None = None  # the LLM raises SourceError after this text
    max_ahead: float | None = None  # no pacing unless a test needs it: replies end sooner
    llm_closed: int = 0
    outcomes: list[ReplyOutcome] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    replies: dict[str, ReplyStream] = field(default_factory=dict)

    async def llm(self) -> AsyncIterator[str]:
        try:
            text = REPLY if self.fail_after is None else self.fail_after
            async for token in scripted_tokens(
                text, tokens_per_second=self.tokens_per_second, first_token_delay=0.0
            ):
                yield token
            if self.fail_after is not None:
                raise SourceError("HTTP 502 Bad Gateway")
        finally:
            self.llm_closed += 1

    async def chat(self, websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            try:
                ask = json.loads(await websocket.receive_text())
            except WebSocketDisconnect:
                return  # the client left between replies
            if ask["type"] != "ask":
                continue  # an interrupt that came after its reply ended: nothing to stop
            options = TransportOptions(audio=ask.get("audio", "binary"))
            try:
                async with stream_reply(self.llm(), self.tts, max_ahead=self.max_ahead) as reply:
                    outcome = await websocket_reply(websocket, reply, options)
            except SourceError as exc:
                self.failures.append(exc)
                continue
            self.outcomes.append(outcome)
            if outcome.disconnected:
                return

    async def sse(self, request: Request) -> SSEResponse:
        reply_id = request.query_params.get("id", "")

        @asynccontextmanager
        async def reply() -> AsyncIterator[ReplyStream]:
            async with stream_reply(self.llm(), self.tts, max_ahead=self.max_ahead) as events:
                self.replies[reply_id] = events  # where the control endpoint finds it
                try:
                    yield events
                finally:
                    del self.replies[reply_id]

        return sse_response(reply())

    async def control(self, request: Request) -> JSONResponse:
        """Interrupts for SSE, which goes one way: POSTed, as in docs/asgi.md."""
        reply = self.replies.get(request.query_params.get("id", ""))
        if reply is None:
            return JSONResponse({"error": "no such reply"}, status_code=404)
        try:
            spoken = await handle_client_message(reply, await request.json())
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"spoken": None if spoken is None else spoken.to_dict()})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                WebSocketRoute("/ws", self.chat),
                Route("/sse", self.sse),
                Route("/control", self.control, methods=["POST"]),
            ]
        )


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def receive_reply(websocket: ClientConnection) -> list[dict[str, Any] | bytes]:
    """Frames until ``done`` or ``reply_failed``; JSON decoded, binary frames as bytes."""
    frames: list[dict[str, Any] | bytes] = []
    while True:
        frame = websocket.recv(timeout=20)
        if isinstance(frame, bytes):
            frames.append(frame)
            continue
        message = json.loads(frame)
        frames.append(message)
        if message["type"] in ("done", "reply_failed"):
            return frames


def wait_until_closed(tts: FakeSynthesizer, host: Host, llm_streams: int = 1) -> None:
    deadline = time.monotonic() + 10
    while (tts.statistics.open_streams or host.llm_closed < llm_streams) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert tts.statistics.open_streams == 0
    assert host.llm_closed == llm_streams


def test_websocket_reply_binary_audio(server: str, no_error_logs: None) -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    host = Host(tts)
    with serve_app(host.app(), server) as base, connect(ws_url(base), max_size=None) as ws:
        for _ in range(2):  # two replies on one connection
            ws.send(json.dumps({"type": "ask", "text": "Tell me."}))
            frames = receive_reply(ws)
            first = frames[0]
            assert first == {
                "type": "format",
                "audio": tts.audio_format.to_dict(),
                "transport": "binary",
            }
            messages = [f for f in frames if isinstance(f, dict)]
            assert "".join(m["text"] for m in messages if m["type"] == "token") == REPLY
            # Every audio message is followed by its bytes, and by nothing else.
            audio = 0
            for position, frame in enumerate(frames):
                if isinstance(frame, dict) and frame["type"] == "audio":
                    data = frames[position + 1]
                    assert isinstance(data, bytes) and len(data) == frame["size"]
                    assert "data" not in frame
                    audio += len(data)
                elif isinstance(frame, bytes):
                    previous = frames[position - 1]
                    assert isinstance(previous, dict) and previous["type"] == "audio"
            done = messages[-1]
            assert done["type"] == "done" and done["metrics"]["audio_bytes"] == audio > 0
            assert done["spoken"]["complete"] and not done["interrupted"]
    assert [outcome.disconnected for outcome in host.outcomes] == [False, False]
    assert host.outcomes[0].spoken is not None and host.outcomes[0].spoken.text == REPLY


def test_websocket_reply_base64_audio(server: str) -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    host = Host(tts)
    with serve_app(host.app(), server) as base, connect(ws_url(base), max_size=None) as ws:
        ws.send(json.dumps({"type": "ask", "text": "Hi", "audio": "base64"}))
        frames = receive_reply(ws)
    assert not any(isinstance(frame, bytes) for frame in frames)
    messages = [f for f in frames if isinstance(f, dict)]
    assert messages[0]["transport"] == "base64"
    audio = [m for m in messages if m["type"] == "audio"]
    assert audio and all(len(m["data"]) == 4 * ((m["size"] + 2) // 3) for m in audio)


def test_interrupt_stops_the_audio_and_reports_what_was_heard(
    server: str, no_error_logs: None
) -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.05)
    host = Host(tts)
    with serve_app(host.app(), server) as base, connect(ws_url(base), max_size=None) as ws:
        ws.send(json.dumps({"type": "ask", "text": "Go on."}))
        audio_messages = 0
        while audio_messages < 3:
            frame = ws.recv(timeout=20)
            if isinstance(frame, str) and json.loads(frame)["type"] == "audio":
                audio_messages += 1
        ws.send(json.dumps({"type": "interrupt", "played": 0.1}))
        frames = receive_reply(ws)
        # The connection is still usable: the host reads the next question.
        ws.send(json.dumps({"type": "ask", "text": "Again?"}))
        assert json.loads(ws.recv(timeout=20))["type"] == "format"
    done = frames[-1]
    assert isinstance(done, dict) and done["type"] == "done" and done["interrupted"]
    spoken = done["spoken"]
    assert spoken["played"] == 0.1
    assert REPLY.startswith(spoken["text"]) and len(spoken["text"]) < len(REPLY)
    assert spoken["text"] == REPLY[: spoken["end"]].rstrip()
    assert host.outcomes[0].done.interrupted and not host.outcomes[0].disconnected
    wait_until_closed(tts, host, llm_streams=2)
    assert tts.statistics.closed_early >= 1


def test_client_disconnect_mid_reply_closes_everything_quietly(
    server: str, no_error_logs: None
) -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.05)
    host = Host(tts, tokens_per_second=20)  # the LLM is still writing when the client goes
    with serve_app(host.app(), server) as base:
        with connect(ws_url(base), max_size=None) as ws:
            ws.send(json.dumps({"type": "ask", "text": "Hello?"}))
            while not isinstance(ws.recv(timeout=20), bytes):
                pass
        wait_until_closed(tts, host)
        deadline = time.monotonic() + 10
        while not host.outcomes and time.monotonic() < deadline:
            time.sleep(0.01)
    assert tts.statistics.closed_early >= 1
    (outcome,) = host.outcomes
    assert outcome.disconnected and outcome.done.interrupted
    assert len(outcome.done.text) < len(REPLY)  # the LLM stream was cancelled


def test_bad_client_messages_get_a_protocol_error_and_the_reply_goes_on(server: str) -> None:
    tts = FakeSynthesizer(ttfb=0.05, realtime_factor=0.2)
    host = Host(tts)
    bad = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"type": "dance"}),
        json.dumps({"type": "interrupt", "played": -1}),
        json.dumps({"type": "played"}),
    ]
    with serve_app(host.app(), server) as base, connect(ws_url(base), max_size=None) as ws:
        ws.send(json.dumps({"type": "ask", "text": "Hi"}))
        assert json.loads(ws.recv(timeout=20))["type"] == "format"
        for message in bad:
            ws.send(message)
        ws.send(b"\x00\x01")
        frames = receive_reply(ws)
    errors = [f["message"] for f in frames if isinstance(f, dict) and f["type"] == "protocol_error"]
    assert len(errors) == len(bad) + 1
    assert "must be JSON" in errors[0] and "JSON object" in errors[1]
    assert "'dance'" in errors[2] and ">= 0" in errors[3] and "needs 'played'" in errors[4]
    assert "binary" in errors[5]
    done = frames[-1]
    assert isinstance(done, dict) and done["type"] == "done" and not done["interrupted"]
    assert done["text"] == REPLY


def test_llm_failure_sends_reply_failed_and_raises_in_the_host(server: str) -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    host = Host(tts, fail_after="Hello. The connection")
    with serve_app(host.app(), server) as base, connect(ws_url(base), max_size=None) as ws:
        ws.send(json.dumps({"type": "ask", "text": "Hi"}))
        frames = receive_reply(ws)
    assert frames[-1] == {
        "type": "reply_failed",
        "error": "SourceError",
        "message": "HTTP 502 Bad Gateway",
    }
    assert [type(exc) for exc in host.failures] == [SourceError]  # as itself, not a group


def sse_messages(body: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse ``event: <type>`` / ``data: <json>`` blocks (the only fields the helper sends)."""
    messages = []
    for block in body.split("\n\n"):
        if block:
            kind, data = block.split("\n")
            assert kind.startswith("event: ") and data.startswith("data: ")
            messages.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return messages


def test_sse_response_streams_the_reply(server: str, no_error_logs: None) -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    host = Host(tts)
    with serve_app(host.app(), server) as base:
        response = httpx.get(f"{base}/sse", timeout=20)
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = sse_messages(response.text)
    assert all(kind == message["type"] for kind, message in messages)
    assert messages[0][1] == {
        "type": "format",
        "audio": tts.audio_format.to_dict(),
        "transport": "base64",
    }
    assert messages[-1][0] == "done" and messages[-1][1]["text"] == REPLY
    audio = [message for kind, message in messages if kind == "audio"]
    assert audio and all("data" in message for message in audio)
    assert host.llm_closed == 1


def test_sse_disconnect_mid_reply_closes_everything(server: str, no_error_logs: None) -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.05)
    host = Host(tts, tokens_per_second=20)
    with (
        serve_app(host.app(), server) as base,
        httpx.Client(timeout=20) as client,
    ):
        with client.stream("GET", f"{base}/sse") as response:
            for line in response.iter_lines():
                if line == "event: audio":
                    break  # the client goes away after the first audio
        wait_until_closed(tts, host)
    assert tts.statistics.closed_early >= 1


def test_sse_client_interrupts_through_a_control_endpoint(server: str) -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.05)
    host = Host(tts, tokens_per_second=20)
    with serve_app(host.app(), server) as base, httpx.Client(timeout=20) as client:
        lines = []
        with client.stream("GET", f"{base}/sse", params={"id": "r1"}) as response:
            for line in response.iter_lines():
                lines.append(line)
                if line == "event: audio":
                    answer = client.post(
                        f"{base}/control", params={"id": "r1"}, json={"type": "played"}
                    )
                    assert answer.status_code == 400 and "needs 'played'" in answer.json()["error"]
                    answer = client.post(
                        f"{base}/control",
                        params={"id": "r1"},
                        json={"type": "interrupt", "played": 0.05},
                    )
                    assert answer.status_code == 200
                    spoken = answer.json()["spoken"]
        missing = client.post(f"{base}/control", params={"id": "r1"}, json={"type": "interrupt"})
        wait_until_closed(tts, host)
    assert spoken["played"] == 0.05 and REPLY.startswith(spoken["text"])
    messages = sse_messages("\n".join(lines).strip())
    assert messages[-1][0] == "done"
    assert messages[-1][1]["interrupted"] and messages[-1][1]["spoken"] == spoken
    assert missing.status_code == 404  # the reply has ended: nothing left to interrupt


def test_sse_response_refuses_what_it_cannot_use() -> None:
    tts = FakeSynthesizer()
    with pytest.raises(ValueError, match="base64"):
        sse_response(stream_reply(["Hi."], tts), TransportOptions(audio="binary"))
    with pytest.raises(TypeError, match="async context manager"):
        sse_response(["Hi."])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'binary' or 'base64'"):
        TransportOptions(audio="hex")  # type: ignore[arg-type]


def test_fastapi_endpoints_return_the_helpers_as_they_are() -> None:
    """FastAPI sends an endpoint's return value as JSON unless it is a Response."""
    pytest.importorskip("fastapi")
    from fastapi import FastAPI

    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    host = Host(tts)
    app = FastAPI()

    @app.get("/sse", response_model=None)
    async def sse(q: str) -> SSEResponse:
        return sse_response(stream_reply([f"You asked: {q}. Fine."], tts, max_ahead=None))

    app.add_api_websocket_route("/ws", host.chat)
    with serve_app(app, "uvicorn-asyncio") as base:
        response = httpx.get(f"{base}/sse", params={"q": "why"}, timeout=20)
        with connect(ws_url(base), max_size=None) as ws:
            ws.send(json.dumps({"type": "ask", "text": "Hi"}))
            frames = receive_reply(ws)
    messages = sse_messages(response.text)
    assert messages[0][0] == "format" and messages[-1][1]["text"] == "You asked: why. Fine."
    last = frames[-1]
    assert isinstance(last, dict) and last["type"] == "done" and last["text"] == REPLY
