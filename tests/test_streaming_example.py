"""examples/streaming_backend.py: the ~50-line streaming backend works end to end.

Run against a local Acme TTS (the made-up protocol its docstring describes) on uvicorn,
on asyncio and trio: audio in segment order, the stop message on interruption, and the
program itself as a user runs it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import anyio
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from e2estream import AudioEvent, ErrorEvent, SegmentEvent, stream_reply
from e2estream.testing import scripted_tokens
from live_server import live_server

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "streaming_backend.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_streaming_backend", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def acme_app(seen: list[object], pause: float = 0.0) -> Starlette:
    async def speak(websocket: WebSocket) -> None:
        seen.append(websocket.headers.get("authorization"))
        await websocket.accept()
        send, texts = anyio.create_memory_object_stream[str](100)

        async def read() -> None:
            # Read while speaking, as a real service does: a stop must be seen at once.
            async with send:
                try:
                    while True:
                        message = json.loads(await websocket.receive_text())
                        seen.append(message)
                        if "speak" in message:
                            await send.send(message["speak"])
                except WebSocketDisconnect:
                    seen.append("disconnect")

        async with texts, anyio.create_task_group() as task_group:
            task_group.start_soon(read)
            async for text in texts:
                # 10 ms of audio per character, in two frames, then "done".
                audio = b"\x01\x00" * (240 * len(text.strip()))
                half = len(audio) // 4 * 2
                try:
                    await websocket.send_bytes(audio[:half])
                    await anyio.sleep(pause)  # a slow service is still speaking when cut off
                    await websocket.send_bytes(audio[half:])
                    await websocket.send_text(json.dumps({"done": True}))
                except (WebSocketDisconnect, RuntimeError):
                    break
            task_group.cancel_scope.cancel()

    return Starlette(routes=[WebSocketRoute("/v1/speak", speak)])


@pytest.fixture
def acme(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[object]]]:
    seen: list[object] = []
    pause = getattr(request, "param", 0.0)
    with live_server(acme_app(seen, pause), ws="wsproto") as url:
        yield url.replace("http://", "ws://"), seen


@pytest.mark.anyio
async def test_the_example_backend_speaks_every_segment_in_order(
    anyio_backend: str, acme: tuple[str, list[object]]
) -> None:
    url, seen = acme
    backend = load_example().AcmeSpeech(url, api_key="k")
    text = "Hello from Acme. This is the second sentence."
    async with stream_reply(scripted_tokens(text, tokens_per_second=400), backend) as events:
        collected = [event async for event in events]
    assert not [event for event in collected if isinstance(event, ErrorEvent)]
    segments = [event.segment for event in collected if isinstance(event, SegmentEvent)]
    sizes: dict[int, int] = {}
    for event in collected:
        if isinstance(event, AudioEvent):
            sizes[event.segment_index] = sizes.get(event.segment_index, 0) + len(event.data)
    assert sizes == {s.index: 480 * len(s.speech_text) for s in segments}
    assert seen[0] == "Bearer k"
    assert seen[1:3] == [{"speak": s.speech_text + " "} for s in segments]


def test_the_example_runs_as_a_program(acme: tuple[str, list[object]]) -> None:
    url, _ = acme
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), url], capture_output=True, text=True, timeout=60, check=True
    )
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("segment ") for line in lines)
    assert {line.split(":")[0] for line in lines} == {"segment 0", "segment 1"}
    assert result.stderr == ""


@pytest.mark.anyio
@pytest.mark.parametrize("acme", [1.0], indirect=True)
async def test_interrupting_sends_the_example_stop_message(
    anyio_backend: str, acme: tuple[str, list[object]]
) -> None:
    url, seen = acme
    backend = load_example().AcmeSpeech(url, api_key="k")
    slow = scripted_tokens("One two three. " * 8, tokens_per_second=100)
    async with stream_reply(slow, backend) as reply:
        async for event in reply:
            if isinstance(event, AudioEvent):
                await reply.interrupt(played=0.0)
    with anyio.fail_after(5):
        while "disconnect" not in seen:  # noqa: ASYNC110 - the server runs in another thread
            await anyio.sleep(0.01)
    assert {"stop": True} in seen
