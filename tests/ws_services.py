"""Local stand-ins for the streaming TTS services, speaking each wire protocol as documented.

Starlette WebSocket apps served by uvicorn on 127.0.0.1 (tests/live_server.py). Each
records what it received and can be told to misbehave: close mid-reply, report an error,
close with a policy code, go idle, or send the wrong audio format.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

SAMPLE_RATE = 24000
CHARS_PER_SECOND = 150.0  # fast speech keeps the tests short
CHUNK_SECONDS = 0.02
WAV_HEADER = b"RIFF\x24\x00\x00\x00WAVEfmt "


@dataclass
class Faults:
    """What the fake service does wrong (all off by default)."""

    refuse_connections: int = 0  # close before accepting (HTTP 403), this many times
    drop_connections: int = 0  # accept, then close at once with 1011, this many times
    close_after_chunks: int | None = None  # close the socket after this many audio chunks
    close_during: str | None = None  # close after the first chunk of the segment starting so
    close_code: int = 1011
    error_after_chunks: int | None = None  # send the service's error message instead
    idle_close: float | None = None  # close (1000) after this many seconds without input
    wav_audio: bool = False  # send a WAV container where raw PCM was asked for
    once: bool = True  # a mid-reply fault happens on the first connection only
    chunk_delay: float = 0.0  # seconds between audio chunks (0: as fast as the socket goes)


@dataclass
class Recorder:
    """What a fake service saw, readable from the test's thread."""

    faults: Faults = field(default_factory=Faults)
    connections: list[dict[str, Any]] = field(default_factory=list)  # headers, query
    received: list[list[Any]] = field(default_factory=list)  # per connection, JSON messages
    disconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def all_received(self) -> list[Any]:
        with self.lock:
            return [message for connection in self.received for message in connection]


def pcm(text: str) -> bytes:
    """The audio the fakes speak for ``text``: 16-bit samples, as long as speaking it."""
    frames = max(1, round(len(text.rstrip()) / CHARS_PER_SECOND * SAMPLE_RATE))
    return b"\x10\x00" * frames


def chunks(audio: bytes) -> list[bytes]:
    size = round(CHUNK_SECONDS * SAMPLE_RATE) * 2
    return [audio[i : i + size] for i in range(0, len(audio), size)]


class _Session:
    """One accepted connection: receive loop plus the fault bookkeeping."""

    def __init__(self, recorder: Recorder, websocket: WebSocket) -> None:
        self.recorder = recorder
        self.websocket = websocket
        self.chunks_sent = 0
        self.cancelled = False
        self.inbox: Any = None
        with recorder.lock:
            self.first = len(recorder.connections) == 0
            recorder.connections.append(
                {"headers": dict(websocket.headers), "query": dict(websocket.query_params)}
            )
            recorder.received.append([])
            self.log = recorder.received[-1]

    async def read(self, inbox: Any, is_cancel: Any) -> None:
        """Read every message as it comes (a real service reads while it speaks)."""
        faults = self.recorder.faults
        async with inbox:
            while True:
                with anyio.move_on_after(faults.idle_close or 3600) as idle:
                    try:
                        text = await self.websocket.receive_text()
                    except WebSocketDisconnect:
                        return
                if idle.cancelled_caught:
                    await self.websocket.close(code=1000)
                    return
                message = json.loads(text)
                with self.recorder.lock:
                    self.log.append(message)
                if is_cancel(message):
                    self.cancelled = True
                await inbox.send(message)

    async def receive(self) -> Any | None:
        try:
            return await self.inbox.receive()
        except anyio.EndOfStream:
            return None

    def faulty(self) -> bool:
        return self.first or not self.recorder.faults.once

    async def audio(self, data: bytes, send: Any, text: str = "", first: bool = True) -> bool:
        """Send one chunk of ``text`` via ``send``; False when a scripted fault ended it."""
        faults = self.recorder.faults
        if self.cancelled:
            return False  # the client cancelled: speak no more of it
        during = faults.close_during
        if self.faulty() and during and text.startswith(during) and not first:
            await self.websocket.close(code=faults.close_code)
            return False
        if self.faulty() and faults.close_after_chunks == self.chunks_sent:
            await self.websocket.close(code=faults.close_code)
            return False
        if self.faulty() and faults.error_after_chunks == self.chunks_sent:
            return False
        if faults.wav_audio and self.chunks_sent == 0:
            data = WAV_HEADER + data
        if faults.chunk_delay:
            await anyio.sleep(faults.chunk_delay)
        await send(data)
        self.chunks_sent += 1
        return True


@asynccontextmanager
async def serving(
    recorder: Recorder, websocket: WebSocket, is_cancel: Callable[[Any], bool]
) -> AsyncIterator[_Session | None]:
    """Accept (or refuse, as the faults say) and read messages in the background."""
    with recorder.lock:
        refuse = recorder.faults.refuse_connections > 0
        if refuse:
            recorder.faults.refuse_connections -= 1
        drop = not refuse and recorder.faults.drop_connections > 0
        if drop:
            recorder.faults.drop_connections -= 1
    if refuse:
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        yield None
        return
    await websocket.accept()
    if drop:
        await websocket.close(code=1011)
        yield None
        return
    session = _Session(recorder, websocket)
    send, session.inbox = anyio.create_memory_object_stream[Any](1000)
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(session.read, send, is_cancel)
            try:
                yield session
            finally:
                task_group.cancel_scope.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        session.inbox.close()
        with recorder.lock:
            recorder.disconnects += 1


def elevenlabs_app(recorder: Recorder) -> Starlette:
    """``/v1/text-to-speech/{voice_id}/multi-stream-input``."""

    async def endpoint(websocket: WebSocket) -> None:
        async with serving(
            recorder, websocket, lambda message: bool(message.get("close_context"))
        ) as session:
            if session is None:
                return
            closed_contexts: set[str] = set()
            while (message := await session.receive()) is not None:
                context = message.get("context_id")
                if message.get("close_socket"):
                    await websocket.close(code=1000)
                    return
                if message.get("close_context"):
                    closed_contexts.add(context)
                    continue
                text = message.get("text", "")
                if not text.strip() or context in closed_contexts:
                    continue

                async def send(data: bytes, piece: str, context: str = context) -> None:
                    # Times count from this chunk's own start, as the service does.
                    step = 1000 / CHARS_PER_SECOND
                    alignment = {
                        "chars": list(piece),
                        "charStartTimesMs": [round(i * step) for i in range(len(piece))],
                        "charDurationsMs": [round(step)] * len(piece),
                    }
                    await websocket.send_text(
                        json.dumps(
                            {
                                "audio": base64.b64encode(data).decode(),
                                "alignment": alignment,
                                "isFinal": None,
                                "contextId": context,
                            }
                        )
                    )

                # Two chunks per segment, each with the alignment of its own characters.
                half = len(text) // 2
                audio = pcm(text)
                split = len(pcm(text[:half])) if half else 0
                pieces = ((audio[:split], text[:half]), (audio[split:], text[half:]))
                for number, (data, piece) in enumerate(pieces):
                    if not data:
                        continue
                    sender = lambda d, p=piece: send(d, p)  # noqa: E731
                    if not await session.audio(data, sender, text, number == 0):
                        if recorder.faults.error_after_chunks is not None:
                            await websocket.send_text(
                                json.dumps({"message": "quota exceeded", "error": "quota"})
                            )
                        return

    return Starlette(
        routes=[WebSocketRoute("/v1/text-to-speech/{voice_id}/multi-stream-input", endpoint)]
    )


def cartesia_app(recorder: Recorder) -> Starlette:
    """``/tts/websocket``: contexts, manual flushes with flush_id, separate timestamps."""

    async def endpoint(websocket: WebSocket) -> None:
        async with serving(
            recorder, websocket, lambda message: bool(message.get("cancel"))
        ) as session:
            if session is None:
                return
            buffered = ""
            spoken_chars = 0
            spoken_seconds = 0.0
            flush_id = 1
            cancelled: set[str] = set()
            while (message := await session.receive()) is not None:
                context = message["context_id"]
                if message.get("cancel"):
                    cancelled.add(context)
                    continue
                if context in cancelled:
                    continue
                buffered += message.get("transcript", "")
                if not (message.get("flush") or not message.get("continue", False)):
                    continue
                if buffered.strip():
                    audio = pcm(buffered)
                    # Word timestamps in a message of their own, cumulative over the
                    # context, sent after the segment's first chunk.
                    words, starts, ends = [], [], []
                    position = 0
                    for word in buffered.split():
                        position = buffered.index(word, position)
                        words.append(word)
                        starts.append(spoken_seconds + position / CHARS_PER_SECOND)
                        ends.append(spoken_seconds + (position + len(word)) / CHARS_PER_SECOND)
                        position += len(word)
                    timestamps = {
                        "type": "timestamps",
                        "context_id": context,
                        "word_timestamps": {"words": words, "start": starts, "end": ends},
                    }
                    for number, data in enumerate(chunks(audio)):

                        async def send(
                            data: bytes, context: str = context, flush_id: int = flush_id
                        ) -> None:
                            await websocket.send_text(
                                json.dumps(
                                    {
                                        "type": "chunk",
                                        "data": base64.b64encode(data).decode(),
                                        "done": False,
                                        "context_id": context,
                                        "flush_id": flush_id,
                                    }
                                )
                            )

                        if not await session.audio(data, send, buffered, number == 0):
                            if recorder.faults.error_after_chunks is not None:
                                error = {
                                    "type": "error",
                                    "error": "voice not found",
                                    "context_id": context,
                                    "status_code": 400,
                                }
                                await websocket.send_text(json.dumps(error))
                            return
                        if number == 0 and message.get("add_timestamps", True):
                            await websocket.send_text(json.dumps(timestamps))
                    spoken_chars += len(buffered)
                    spoken_seconds += len(audio) / 2 / SAMPLE_RATE
                    buffered = ""
                if message.get("flush"):
                    await websocket.send_text(
                        json.dumps(
                            {
                                "type": "flush_done",
                                "flush_done": True,
                                "flush_id": flush_id,
                                "context_id": context,
                            }
                        )
                    )
                    flush_id += 1
                if not message.get("continue", False):
                    await websocket.send_text(
                        json.dumps({"type": "done", "done": True, "context_id": context})
                    )

    return Starlette(routes=[WebSocketRoute("/tts/websocket", endpoint)])


def deepgram_app(recorder: Recorder) -> Starlette:
    """``/v1/speak``: Speak, Flush -> binary audio then Flushed, Clear, Close."""

    async def endpoint(websocket: WebSocket) -> None:
        async with serving(
            recorder, websocket, lambda message: message.get("type") == "Clear"
        ) as session:
            if session is None:
                return
            buffered = ""
            sequence = 0
            while (message := await session.receive()) is not None:
                kind = message.get("type")
                if kind == "Speak":
                    buffered += message["text"]
                elif kind == "Clear":
                    buffered = ""
                    await websocket.send_text(
                        json.dumps({"type": "Cleared", "sequence_id": sequence})
                    )
                elif kind == "Close":
                    await websocket.close(code=1000)
                    return
                elif kind == "Flush":
                    pieces = chunks(pcm(buffered)) if buffered.strip() else []
                    for number, data in enumerate(pieces):
                        if not await session.audio(
                            data, websocket.send_bytes, buffered, number == 0
                        ):
                            if recorder.faults.error_after_chunks is not None:
                                await websocket.send_text(
                                    json.dumps(
                                        {
                                            "type": "Error",
                                            "description": "model not found",
                                            "err_code": "INVALID",
                                        }
                                    )
                                )
                            return
                    buffered = ""
                    await websocket.send_text(
                        json.dumps({"type": "Flushed", "sequence_id": sequence})
                    )
                    sequence += 1

    return Starlette(routes=[WebSocketRoute("/v1/speak", endpoint)])
