"""A Starlette server that streams spoken replies over WebSocket and server-sent events.

Starlette and uvicorn are not e2estream dependencies; install them next to it::

    pip install "e2estream[espeak]" starlette "uvicorn[standard]"

(``uvicorn[standard]`` brings ``websockets``, which uvicorn needs to serve WebSockets.)
Then run, from a clone::

    python examples/websocket_server.py                  # http://127.0.0.1:8000
    python examples/websocket_client.py "Tell me about your day."

Endpoints:

``/ws`` (WebSocket)
    The client sends a question as a text frame. The server answers with
    :func:`e2estream.asgi.websocket_reply`: a ``format`` message (the audio format),
    then one JSON text frame per event (``event.to_dict()``; see docs/pipeline.md for
    the fields). An audio event's JSON frame (``segment_index``, ``offset``, ``size``,
    ``format``) is followed at once by a binary frame holding its ``size`` bytes. The
    reply ends with ``{"type": "done", ...}``, or with ``{"type": "reply_failed", ...}``
    if the LLM stream failed. While it plays the client may send
    ``{"type": "interrupt", "played": seconds}``; after it, the next question.

``/sse?q=...`` (GET, ``text/event-stream``)
    :func:`e2estream.asgi.sse_response`: one SSE event per message, ``event: <type>``
    and ``data: <JSON>`` (audio base64 in ``data``):
    ``curl -N 'http://127.0.0.1:8000/sse?q=Hello'``.

The LLM is a scripted reply (``e2estream.testing.scripted_tokens``) unless ``LLM_MODEL``
is set: then the question goes to the OpenAI-compatible ``/chat/completions`` at
``OPENAI_BASE_URL`` (default ``https://api.openai.com/v1``) with ``OPENAI_API_KEY``
(vLLM, llama.cpp, Ollama's ``/v1`` and LM Studio work too). The TTS is eSpeak NG when
``e2estream[espeak]`` is installed, else ``FakeSynthesizer`` (a tone).

A client that disconnects mid-reply ends the ``async with stream_reply(...)`` block: the
LLM request and every TTS request in flight are closed before the handler returns.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from e2estream import ReplyStream, Synthesizer, stream_reply
from e2estream.asgi import SSEResponse, sse_response, websocket_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens

logger = logging.getLogger("websocket_server")

SCRIPTED_REPLY = (
    "You asked: {question}? Here is a scripted answer, streamed like an LLM would write it. "
    "Each sentence goes to the TTS as soon as it is complete, so you hear the first one "
    "while the rest is still being written. Set LLM_MODEL to talk to a real model."
)


def make_tts() -> Synthesizer:
    """Return eSpeak NG if ``e2estream[espeak]`` is installed, else a fake TTS."""
    try:
        from e2estream.backends import EspeakSynthesizer

        return EspeakSynthesizer(language="en")
    except ImportError:
        return FakeSynthesizer()


@asynccontextmanager
async def open_llm(question: str, tokens_per_second: float) -> AsyncIterator[object]:
    """Start the LLM reply to ``question``; yield its stream (anything stream_reply takes)."""
    model = os.environ.get("LLM_MODEL")
    if not model:
        reply = SCRIPTED_REPLY.format(question=question.strip().rstrip(".?!") or "nothing")
        yield scripted_tokens(reply, tokens_per_second=tokens_per_second)
        return
    base_url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
    headers = {}
    if api_key := os.environ.get("OPENAI_API_KEY"):
        headers["Authorization"] = f"Bearer {api_key}"
    body = {
        "model": model,
        "stream": True,
        "messages": [
            {"role": "system", "content": "Answer in a few short spoken sentences."},
            {"role": "user", "content": question},
        ],
    }
    timeout = httpx2.Timeout(60.0, connect=10.0)
    async with (
        httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=timeout) as client,
        client.stream("POST", "/chat/completions", json=body) as response,
    ):
        yield response  # an HTTP error status becomes e2estream.SourceError when read


def create_app(
    *,
    tts: Synthesizer | None = None,
    tokens_per_second: float = 40.0,
    max_ahead: float | None = 3.0,
) -> Starlette:
    """Build the app.

    ``tokens_per_second`` is the speed of the scripted LLM; ``max_ahead`` paces synthesis
    to a listener playing in real time (None: as fast as the TTS goes, for tests).
    """
    synthesizer = tts if tts is not None else make_tts()

    @asynccontextmanager
    async def reply_to(question: str) -> AsyncIterator[ReplyStream]:
        """Open the LLM reply to ``question`` and stream it (a reply_failed if it fails)."""
        async with (
            open_llm(question, tokens_per_second) as llm,
            stream_reply(llm, synthesizer, language="en", max_ahead=max_ahead) as reply,
        ):
            yield reply

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            try:
                question = await websocket.receive_text()
            except WebSocketDisconnect:
                logger.info("WebSocket client disconnected")
                return
            try:
                # Passed unentered, so that a failure to reach the LLM is reported too.
                outcome = await websocket_reply(websocket, reply_to(question))
            except Exception as exc:  # the LLM failed: the client got reply_failed
                logger.warning("reply failed: %r", exc)
                continue
            if outcome.disconnected:
                # The reply was interrupted: the LLM request and every TTS request in
                # flight were closed when the `async with` block above ended.
                logger.info("WebSocket client disconnected mid-reply")
                return

    async def sse(request: Request) -> SSEResponse:
        # The response enters the block itself, after this endpoint has returned.
        return sse_response(reply_to(request.query_params.get("q", "")))

    return Starlette(routes=[WebSocketRoute("/ws", chat), Route("/sse", sse)])


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description="Stream spoken replies over WebSocket and SSE.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--tokens-per-second", type=float, default=40.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    app = create_app(tokens_per_second=args.tokens_per_second)
    uvicorn.run(app, host=args.host, port=args.port)
