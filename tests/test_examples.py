"""The examples in examples/ run and do what their docstrings say.

``examples/minimal.py`` runs as a subprocess. ``examples/websocket_server.py`` is driven
in-process with Starlette's TestClient (skipped when starlette or httpx is missing), and
end to end with ``examples/websocket_client.py`` over a real socket when uvicorn and
``websockets`` are installed.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from e2estream.testing import FakeSynthesizer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_minimal_writes_the_reply_as_wav(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "minimal.py"), "--tokens-per-second=inf", f"--out={out}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Hello! I am a streamed reply" in result.stdout
    assert re.search(r"first audio after [\d.]+ s; \d+ segments", result.stdout)
    assert result.stdout.rstrip().endswith(f"wrote {out}")
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        seconds = wav.getnframes() / wav.getframerate()
    assert 3.0 < seconds < 30.0  # speech (or the fake's tone) for the whole reply


# -- examples/websocket_server.py in-process ---------------------------------------------


@pytest.fixture
def server_module() -> ModuleType:
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    return load_example("websocket_server")


def make_app(module: ModuleType, tts: FakeSynthesizer) -> Any:
    # No pacing: nobody listens, so the replies go as fast as the fake TTS.
    return module.create_app(tts=tts, tokens_per_second=math.inf, max_ahead=None)


def expected_reply(module: ModuleType, question: str) -> str:
    return str(module.SCRIPTED_REPLY.format(question=question.rstrip("?")))


def receive_reply(websocket: Any) -> list[dict[str, Any] | bytes]:
    """Receive frames until the reply's last message; JSON frames decoded."""
    frames: list[dict[str, Any] | bytes] = []
    while True:
        message = websocket.receive()
        assert message["type"] == "websocket.send"
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
            continue
        frame = json.loads(message["text"])
        frames.append(frame)
        if frame["type"] in ("done", "reply_failed"):
            return frames


def check_reply(frames: list[dict[str, Any] | bytes], reply: str) -> None:
    metadata = [frame for frame in frames if isinstance(frame, dict)]
    kinds = [frame["type"] for frame in metadata]
    assert kinds[-1] == "done"
    assert "".join(frame["text"] for frame in metadata if frame["type"] == "token") == reply
    assert metadata[-1]["text"] == reply
    segments = [frame["index"] for frame in metadata if frame["type"] == "segment"]
    done = [frame["segment_index"] for frame in metadata if frame["type"] == "segment_done"]
    assert segments == done == list(range(len(segments))) and segments
    # Every audio frame is followed by its bytes, in segment order.
    audio_bytes = 0
    for position, frame in enumerate(frames):
        if isinstance(frame, dict) and frame["type"] == "audio":
            data = frames[position + 1]
            assert isinstance(data, bytes) and len(data) == frame["size"]
            assert "data" not in frame
            audio_bytes += len(data)
    assert sum(isinstance(frame, bytes) for frame in frames) == kinds.count("audio")
    assert metadata[-1]["metrics"]["audio_bytes"] == audio_bytes > 0


def test_websocket_endpoint_sends_json_and_binary_audio(server_module: ModuleType) -> None:
    from starlette.testclient import TestClient

    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    with (
        TestClient(make_app(server_module, tts)) as client,
        client.websocket_connect("/ws") as websocket,
    ):
        for question in ("How are you?", "And now?"):  # two replies, one connection
            websocket.send_text(question)
            check_reply(receive_reply(websocket), expected_reply(server_module, question))
    assert tts.statistics.open_streams == 0


def test_websocket_disconnect_mid_reply_closes_every_tts_request(
    server_module: ModuleType,
) -> None:
    from starlette.testclient import TestClient

    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0)  # audio keeps coming for seconds
    with TestClient(make_app(server_module, tts)) as client:
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("Hello?")
            while json.loads(websocket.receive_text())["type"] != "audio":
                pass
        # Leaving the block disconnected the client; the server noticed at its next send.
        deadline = time.monotonic() + 10
        while tts.statistics.open_streams and time.monotonic() < deadline:
            time.sleep(0.01)
    assert tts.statistics.open_streams == 0
    assert tts.statistics.closed_early >= 1


def test_sse_endpoint(server_module: ModuleType) -> None:
    from starlette.testclient import TestClient

    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    with TestClient(make_app(server_module, tts)) as client:
        response = client.get("/sse", params={"q": "Hi"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = [block for block in response.text.split("\n\n") if block]
    events = []
    for block in messages:
        kind_line, data_line = block.split("\n")
        assert kind_line.startswith("event: ") and data_line.startswith("data: ")
        event = json.loads(data_line.removeprefix("data: "))
        assert event["type"] == kind_line.removeprefix("event: ")
        events.append(event)
    assert events[-1]["type"] == "done"
    assert events[-1]["text"] == expected_reply(server_module, "Hi")
    audio = [event for event in events if event["type"] == "audio"]
    assert audio and all(len(base64.b64decode(e["data"])) == e["size"] for e in audio)


def test_websocket_reply_failed_when_the_llm_fails(
    server_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    monkeypatch.setenv("LLM_MODEL", "any")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    with (
        TestClient(make_app(server_module, tts)) as client,
        client.websocket_connect("/ws") as websocket,
    ):
        websocket.send_text("Hi")
        frames = receive_reply(websocket)
    last = frames[-1]
    assert isinstance(last, dict) and last["type"] == "reply_failed"
    assert last["error"] == "ConnectError"


# -- examples/websocket_client.py against the server on a real socket --------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_example_server(server_module: ModuleType) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("websockets")
    app = make_app(server_module, FakeSynthesizer(ttfb=0, realtime_factor=0))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_websocket_client_saves_the_reply(live_example_server: str, tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    client = EXAMPLES / "websocket_client.py"
    result = subprocess.run(
        [
            sys.executable,
            str(client),
            "Is this live?",
            f"--url={live_example_server}",
            f"--out={out}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "You asked: Is this live?" in result.stdout
    with wave.open(str(out), "rb") as wav:
        assert wav.getnframes() / wav.getframerate() > 3.0


@pytest.fixture
def barge_in_module() -> ModuleType:
    pytest.importorskip("starlette")
    return load_example("barge_in_server")


def test_barge_in_keeps_only_the_heard_text_in_the_history(barge_in_module: ModuleType) -> None:
    from starlette.testclient import TestClient

    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=0.05, chunk_duration=0.05)
    app = barge_in_module.make_app(tts, tokens_per_second=400)
    with TestClient(app) as client, client.websocket_connect("/chat") as websocket:
        websocket.send_text(json.dumps({"type": "ask", "text": "Tell me more."}))
        audio_events = 0
        while audio_events < 3:
            message = websocket.receive()
            if "text" in message and json.loads(message["text"])["type"] == "audio":
                audio_events += 1
        websocket.send_text(json.dumps({"type": "interrupt", "played": 1.0}))
        while True:
            message = websocket.receive()
            if "text" in message and json.loads(message["text"])["type"] == "done":
                done = json.loads(message["text"])
                break
        history = json.loads(websocket.receive_text())
    reply = barge_in_module.REPLY
    assert done["interrupted"]
    spoken = done["spoken"]["text"]
    assert spoken and reply.startswith(spoken) and len(spoken) < len(reply)
    assert spoken == reply[: done["spoken"]["end"]].rstrip()
    assert history["turns"] == [
        {"role": "user", "content": "Tell me more."},
        {"role": "assistant", "content": spoken},
    ]
    assert tts.statistics.open_streams == 0


def test_barge_in_server_survives_a_disconnect_mid_reply(
    barge_in_module: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.testclient import TestClient

    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.05)
    app = barge_in_module.make_app(tts, tokens_per_second=400)
    with TestClient(app) as client:
        with client.websocket_connect("/chat") as websocket:
            websocket.send_text(json.dumps({"type": "ask", "text": "Hello?"}))
            while "bytes" not in websocket.receive():
                pass
        deadline = time.monotonic() + 5
        while tts.statistics.open_streams and time.monotonic() < deadline:
            time.sleep(0.01)
    assert tts.statistics.open_streams == 0
    assert tts.statistics.closed_early >= 1
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
