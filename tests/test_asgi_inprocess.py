"""e2estream.asgi without a server: a duck-typed WebSocket over memory streams.

Runs on both anyio backends (the ASGI helpers must not assume asyncio), with the
message protocol checked message by message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from hypothesis import given, settings
from hypothesis import strategies as st

from e2estream import ReplyStream, stream_reply
from e2estream.asgi import (
    ReplyOutcome,
    TransportOptions,
    handle_client_message,
    sse_response,
    websocket_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

pytestmark = pytest.mark.anyio

REPLY = "One sentence here. Another sentence there. A third one to finish the reply."


class MemoryWebSocket:
    """An accepted WebSocket whose client is the test: ASGI messages over memory streams."""

    def __init__(self) -> None:
        self.to_server: MemoryObjectSendStream[dict[str, Any]]
        self._incoming: MemoryObjectReceiveStream[dict[str, Any]]
        self.to_server, self._incoming = anyio.create_memory_object_stream[dict[str, Any]](16)
        self.sent: list[dict[str, Any]] = []
        self._sent_more = anyio.Event()

    def __enter__(self) -> MemoryWebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.to_server.close()
        self._incoming.close()

    async def receive(self) -> dict[str, Any]:
        return await self._incoming.receive()

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(dict(message))
        self._sent_more.set()
        await anyio.lowlevel.checkpoint()

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until the server has sent a message for which ``predicate`` is true."""
        while not any(predicate(message) for message in self.sent):
            self._sent_more = anyio.Event()
            await self._sent_more.wait()

    def messages(self) -> list[dict[str, Any] | bytes]:
        return [json.loads(m["text"]) if "text" in m else m["bytes"] for m in self.sent]

    async def client_says(self, message: dict[str, Any]) -> None:
        await self.to_server.send({"type": "websocket.receive", "text": json.dumps(message)})


async def run_reply(websocket: MemoryWebSocket, **options: Any) -> ReplyOutcome:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=0.5, chunk_duration=0.05)
    llm = scripted_tokens(REPLY, tokens_per_second=200, first_token_delay=0.0)
    async with stream_reply(llm, tts) as reply:
        outcome = await websocket_reply(websocket, reply, TransportOptions(**options))
    assert tts.statistics.open_streams == 0
    return outcome


async def server(
    websocket: MemoryWebSocket, result: list[ReplyOutcome], options: dict[str, Any]
) -> None:
    result.append(await run_reply(websocket, **options))


async def test_interrupt_message_mid_reply() -> None:
    result: list[ReplyOutcome] = []
    with MemoryWebSocket() as websocket:
        async with anyio.create_task_group() as group:
            group.start_soon(server, websocket, result, {})
            await websocket.wait_for(lambda message: "bytes" in message)
            await websocket.client_says({"type": "played", "played": 0.02})
            await websocket.client_says({"type": "interrupt", "played": 0.05})
    (outcome,) = result
    assert outcome.done.interrupted and not outcome.disconnected
    assert outcome.spoken is not None and outcome.spoken.played == 0.05
    messages = websocket.messages()
    assert isinstance(messages[0], dict) and messages[0]["type"] == "format"
    last = messages[-1]
    assert isinstance(last, dict) and last["type"] == "done" and last["interrupted"]


async def test_disconnect_mid_reply_interrupts_at_the_assumed_playback_position() -> None:
    result: list[ReplyOutcome] = []
    with MemoryWebSocket() as websocket:
        async with anyio.create_task_group() as group:
            group.start_soon(server, websocket, result, {"audio": "base64"})
            await websocket.wait_for(lambda message: '"audio"' in message.get("text", ""))
            await websocket.to_server.send({"type": "websocket.disconnect", "code": 1001})
    (outcome,) = result
    assert outcome.disconnected and outcome.done.interrupted
    assert outcome.spoken is not None and outcome.spoken.played < 1.0
    # Nothing is sent to a client that has gone: the done message never went out.
    assert not any('"done"' in m.get("text", "") for m in websocket.sent)


async def test_played_message_moves_the_playback_position() -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=0.1)
    async with stream_reply(scripted_tokens(REPLY, tokens_per_second=500), tts) as reply:
        async for event in reply:
            if event.type == "audio":
                break
        assert await handle_client_message(reply, '{"type": "played", "played": 0.05}') is None
        assert reply.playback_position == pytest.approx(0.05, abs=0.02)
        spoken = await handle_client_message(reply, {"type": "interrupt", "played": 0})
        assert spoken is not None and spoken.text == "" and reply.interrupted
        with pytest.raises(ValueError, match="finite"):
            await handle_client_message(reply, {"type": "played", "played": float("inf")})


async def test_websocket_reply_enters_a_context_manager_and_reports_its_failure() -> None:
    class UnreachableLLM:
        async def __aenter__(self) -> ReplyStream:
            raise ConnectionRefusedError("the LLM server is down")

        async def __aexit__(self, *exc_info: object) -> None:
            pass

    with MemoryWebSocket() as websocket:
        with pytest.raises(ConnectionRefusedError):
            await websocket_reply(websocket, UnreachableLLM())
        assert websocket.messages() == [
            {
                "type": "reply_failed",
                "error": "ConnectionRefusedError",
                "message": "the LLM server is down",
            }
        ]
        with pytest.raises(TypeError, match="stream_reply"):
            await websocket_reply(websocket, ["Hi."])  # type: ignore[arg-type]
        # The context-manager form, not failing: the whole reply.
        tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
        outcome = await websocket_reply(websocket, stream_reply(["Hi there."], tts))
    assert outcome.done.text == "Hi there." and not outcome.disconnected


async def test_sse_response_refuses_an_entered_stream() -> None:
    async with stream_reply(["Hi."], FakeSynthesizer(ttfb=0, realtime_factor=0)) as reply:
        with pytest.raises(TypeError, match="not the stream of an entered block"):
            sse_response(reply)  # type: ignore[arg-type]


async def test_sse_response_as_a_bare_asgi_app() -> None:
    """Called directly with ASGI receive/send: no framework needed."""
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    response = sse_response(
        stream_reply(scripted_tokens("Hello there. Bye.", tokens_per_second=1000), tts)
    )
    sent: list[MutableMapping[str, Any]] = []
    disconnect = anyio.Event()

    async def receive() -> MutableMapping[str, Any]:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await response({"type": "http"}, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    body = b"".join(m["body"] for m in sent[1:]).decode()
    assert body.startswith("event: format\ndata: {")
    assert "event: done\n" in body and body.endswith("\n\n")


def test_public_names_are_documented_and_show_the_public_module() -> None:
    import e2estream.asgi as asgi

    for name in asgi.__all__:
        if name == "AudioTransport":  # a type alias: documented in the module docstring
            continue
        value = getattr(asgi, name)
        assert value.__doc__, name
        assert value.__module__ == "e2estream.asgi", name


SENTENCES = ["Hello there.", "This is a test.", "One more sentence, with a comma.", "Short."]
NOISE = [
    "not json",
    '{"type": "dance"}',
    '{"type": "played", "played": -1}',
    '{"type": "played", "played": 0.01}',
]


@settings(max_examples=25, deadline=None)
@given(
    sentences=st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=6),
    noise=st.lists(st.sampled_from(NOISE), max_size=8),
    audio=st.sampled_from(["binary", "base64"]),
)
async def test_the_framing_holds_whatever_the_client_sends_meanwhile(
    sentences: list[str], noise: list[str], audio: str
) -> None:
    """Format first, done last, each audio message right before its bytes, nothing lost.

    The client's bad messages are answered while audio is being sent: an answer must
    never land between an audio message and its binary frame.
    """
    reply_text = " ".join(sentences)
    tts = FakeSynthesizer(ttfb=0.001, realtime_factor=0.01, chunk_duration=0.02)
    llm = scripted_tokens(reply_text, tokens_per_second=2000, first_token_delay=0.0)
    with MemoryWebSocket() as websocket:

        async def client() -> None:
            for text in noise:
                await websocket.to_server.send({"type": "websocket.receive", "text": text})
                await anyio.sleep(0.001)

        async with anyio.create_task_group() as group:
            group.start_soon(client)
            async with stream_reply(llm, tts, max_ahead=None) as reply:
                options = TransportOptions(audio=audio)  # type: ignore[arg-type]
                outcome = await websocket_reply(websocket, reply, options)
        frames = websocket.messages()
    assert outcome.done.text == reply_text and not outcome.disconnected
    first, last = frames[0], frames[-1]
    assert isinstance(first, dict) and first["type"] == "format"
    assert isinstance(last, dict) and last["type"] == "done"
    audio_bytes = 0
    for position, frame in enumerate(frames):
        if isinstance(frame, bytes):
            announced = frames[position - 1]
            assert isinstance(announced, dict) and announced["type"] == "audio"
            assert announced["size"] == len(frame)
            audio_bytes += len(frame)
        elif frame["type"] == "audio" and audio == "binary":
            assert isinstance(frames[position + 1], bytes)
        elif frame["type"] == "audio":
            audio_bytes += frame["size"]
    assert audio_bytes == outcome.done.metrics.audio_bytes > 0
    tokens = [f["text"] for f in frames if isinstance(f, dict) and f["type"] == "token"]
    assert "".join(tokens) == reply_text
