"""Barge-in over a WebSocket: the user interrupts, the history keeps what was heard.

Starlette and uvicorn are not e2estream dependencies; install them next to it::

    pip install "e2estream[espeak]" starlette "uvicorn[standard]"
    python examples/barge_in_server.py          # ws://127.0.0.1:8000/chat

The protocol, one JSON text frame per message:

* client → server ``{"type": "ask", "text": "..."}`` starts a reply;
* server → client: every event's ``to_dict()``; audio as ``to_dict(include_data=False)``
  followed by one binary frame with its bytes. ``reply_time`` in each audio event is
  where the chunk sits in the reply's audio, so the client knows how much it played;
* client → server ``{"type": "interrupt", "played": 2.4}`` while a reply plays: the
  seconds of this reply's audio the client's player actually played. The server stops
  the audio at once (every TTS request closed), and the reply ends with a ``done`` event
  whose ``spoken`` says what the user heard;
* server → client ``{"type": "history", "turns": [...]}`` after each reply: the
  assistant's turn is the *spoken* text, not the whole reply.

A client that disconnects mid-reply interrupts it too: nothing goes on synthesizing, and
no traceback is logged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from e2estream import AudioEvent, DoneEvent, ReplyStream, SpokenText, Synthesizer, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens

REPLY = (
    "Here is a long answer, spoken sentence by sentence. The first sentence is already "
    "playing while the next ones are synthesized. Interrupt me whenever you like, and "
    "only what you heard goes into the conversation. This last sentence is rarely heard."
)


def make_tts() -> Synthesizer:
    """Return eSpeak NG if ``e2estream[espeak]`` is installed, else a fake TTS."""
    try:
        from e2estream.backends import EspeakSynthesizer

        return EspeakSynthesizer(language="en")
    except ImportError:
        return FakeSynthesizer()


async def speak(websocket: WebSocket, llm: object, tts: Synthesizer) -> SpokenText | None:
    """Stream one reply, interruptible by the client; return what was heard.

    Returns None if the client disconnected.
    """
    client_gone = anyio.Event()
    async with stream_reply(llm, tts, max_ahead=3.0) as reply, anyio.create_task_group() as group:
        group.start_soon(listen_for_interrupt, websocket, reply, client_gone)
        async for event in reply:
            try:
                await send_event(websocket, event)
            except WebSocketDisconnect:
                client_gone.set()
                await reply.interrupt()  # nobody listens: stop paying for audio
            if isinstance(event, DoneEvent):
                group.cancel_scope.cancel()  # stop listening: the next message is a question
                return None if client_gone.is_set() else event.spoken
    return None


async def listen_for_interrupt(
    websocket: WebSocket, reply: ReplyStream, client_gone: anyio.Event
) -> None:
    """Wait for ``{"type": "interrupt", "played": seconds}``, or a disconnect."""
    while True:
        try:
            message = json.loads(await websocket.receive_text())
        except WebSocketDisconnect:
            client_gone.set()
            await reply.interrupt()
            return
        if message.get("type") == "interrupt":
            played = message.get("played")
            await reply.interrupt(None if played is None else float(played))
            return


async def send_event(websocket: WebSocket, event: Any) -> None:
    """Send one event: JSON, and for audio a binary frame with its bytes after it."""
    if isinstance(event, AudioEvent):
        await websocket.send_text(json.dumps(event.to_dict(include_data=False)))
        await websocket.send_bytes(event.data)
    else:
        await websocket.send_text(json.dumps(event.to_dict()))


def make_app(tts: Synthesizer | None = None, tokens_per_second: float = 30.0) -> Starlette:
    """Build the app; ``tts`` defaults to :func:`make_tts`."""
    synthesizer = tts or make_tts()

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        history: list[dict[str, str]] = []
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                if message.get("type") != "ask":
                    continue
                history.append({"role": "user", "content": message["text"]})
                # A real host sends `history` to its LLM here.
                llm = scripted_tokens(REPLY, tokens_per_second=tokens_per_second)
                spoken = await speak(websocket, llm, synthesizer)
                if spoken is None:
                    return  # the client left
                history.append({"role": "assistant", "content": spoken.text})
                await websocket.send_text(json.dumps({"type": "history", "turns": history}))
        except WebSocketDisconnect:
            return

    return Starlette(routes=[WebSocketRoute("/chat", chat)])


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description="barge-in demo server")
    parser.add_argument("--port", type=int, default=8000)
    uvicorn.run(make_app(), host="127.0.0.1", port=parser.parse_args().port)
