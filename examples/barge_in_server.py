"""Barge-in over a WebSocket: the user interrupts, the history keeps what was heard.

Starlette and uvicorn are not e2estream dependencies; install them next to it::

    pip install "e2estream[espeak,demo]"        # demo: starlette, uvicorn, websockets
    python examples/barge_in_server.py          # ws://127.0.0.1:8000/chat

The protocol is :mod:`e2estream.asgi`'s, plus two messages of this host:

* client → server ``{"type": "ask", "text": "..."}`` starts a reply;
* server → client ``{"type": "format", ...}``, then every event; audio as JSON metadata
  followed by one binary frame with its bytes. ``reply_time`` in each audio event is
  where the chunk sits in the reply's audio, so the client knows how much it played;
* client → server ``{"type": "interrupt", "played": 2.4}`` while a reply plays: the
  seconds of this reply's audio the client's player actually played. The audio stops at
  once (every TTS request closed), and the reply ends with a ``done`` event whose
  ``spoken`` says what the user heard;
* server → client ``{"type": "history", "turns": [...]}`` after each reply: the
  assistant's turn is the *spoken* text, not the whole reply.

A client that disconnects mid-reply interrupts it too: nothing goes on synthesizing, and
no traceback is logged.
"""

from __future__ import annotations

import argparse
import json

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from e2estream import Synthesizer, stream_reply
from e2estream.asgi import websocket_reply
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


def make_app(tts: Synthesizer | None = None, tokens_per_second: float = 30.0) -> Starlette:
    """Build the app; ``tts`` defaults to :func:`make_tts`."""
    synthesizer = tts or make_tts()

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        history: list[dict[str, str]] = []
        while True:
            try:
                message = json.loads(await websocket.receive_text())
            except WebSocketDisconnect:
                return  # the client left between replies
            if message.get("type") != "ask":
                continue  # an interrupt that came after its reply ended: nothing to stop
            history.append({"role": "user", "content": message["text"]})
            # A real host sends `history` to its LLM here.
            llm = scripted_tokens(REPLY, tokens_per_second=tokens_per_second)
            async with stream_reply(llm, synthesizer) as reply:
                outcome = await websocket_reply(websocket, reply)
            if outcome.disconnected:
                return  # the reply was interrupted and closed: nobody is listening
            spoken = outcome.done.spoken
            history.append({"role": "assistant", "content": spoken.text if spoken else ""})
            await websocket.send_text(json.dumps({"type": "history", "turns": history}))

    return Starlette(routes=[WebSocketRoute("/chat", chat)])


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description="barge-in demo server")
    parser.add_argument("--port", type=int, default=8000)
    uvicorn.run(make_app(), host="127.0.0.1", port=parser.parse_args().port)
