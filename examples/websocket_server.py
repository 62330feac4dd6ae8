"""A Starlette server that streams spoken replies over WebSocket and server-sent events.

Starlette and uvicorn are not e2estream dependencies; install them next to it::

    pip install "e2estream[espeak]" starlette "uvicorn[standard]"

(``uvicorn[standard]`` brings ``websockets``, which uvicorn needs to serve WebSockets.)
Then run, from a clone::

    python examples/websocket_server.py                  # http://127.0.0.1:8000
    python examples/websocket_client.py "Tell me about your day."

Endpoints:

``/ws`` (WebSocket)
    The client sends a question as a text frame. The server answers with one JSON text
    frame per event (``event.to_dict()``; see docs/pipeline.md for the fields). An audio
    event's JSON frame (``to_dict(include_data=False)``: ``segment_index``, ``offset``,
    ``size``, ``format``) is followed at once by a binary frame holding its ``size``
    bytes. The reply ends with ``{"type": "done", ...}``, or with
    ``{"type": "reply_failed", ...}`` if the LLM stream failed. Then the client may ask
    again on the same connection.

``/sse?q=...`` (GET, ``text/event-stream``)
    One SSE event per reply event, ``event: <type>`` and ``data: <to_dict() JSON>``
    (audio base64 in ``data``): ``curl -N 'http://127.0.0.1:8000/sse?q=Hello'``.

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
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from e2estream import AudioEvent, Event, Synthesizer, stream_reply
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
    timeout = httpx.Timeout(60.0, connect=10.0)
    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout) as client,
        client.stream("POST", "/chat/completions", json=body) as response,
    ):
        yield response  # an HTTP error status becomes e2estream.SourceError when read


def failure(exc: Exception) -> dict[str, object]:
    """Return the message that ends a reply whose LLM stream failed."""
    return {"type": "reply_failed", "error": type(exc).__name__, "message": str(exc)}


def sse_message(kind: str, data: dict[str, object]) -> bytes:
    """Format one server-sent event."""
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


class EventStreamResponse(Response):
    """A reply streamed as server-sent events; stops when the client disconnects.

    Written as an ASGI response rather than a generator for ``StreamingResponse`` so
    that the whole reply runs in one task, under a cancel scope this response owns: a
    disconnect cancels it at once and ``stream_reply`` closes everything before
    ``__call__`` returns, on any ASGI server.
    """

    media_type = "text/event-stream"

    def __init__(self, question: str, tts: Synthesizer, tokens_per_second: float) -> None:
        self.question = question
        self.tts = tts
        self.tokens_per_second = tokens_per_second
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the headers, then one SSE message per event until done or disconnect."""
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(cancel_on_disconnect, receive, task_group.cancel_scope)
            try:
                async with (
                    open_llm(self.question, self.tokens_per_second) as llm,
                    stream_reply(llm, self.tts, language="en") as events,
                ):
                    async for event in events:
                        message = sse_message(event.type, event.to_dict())
                        await send(
                            {"type": "http.response.body", "body": message, "more_body": True}
                        )
            except Exception as exc:  # the LLM stream failed: tell the client, then end
                logger.warning("reply failed: %r", exc)
                message = sse_message("reply_failed", failure(exc))
                await send({"type": "http.response.body", "body": message, "more_body": True})
            task_group.cancel_scope.cancel()  # stop watching for the disconnect
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """Cancel ``scope`` when the HTTP client disconnects."""
    while (await receive())["type"] != "http.disconnect":
        pass
    logger.info("SSE client disconnected")
    scope.cancel()


async def send_event(websocket: WebSocket, event: Event) -> None:
    """Send an event: JSON metadata, plus a binary frame for audio."""
    if isinstance(event, AudioEvent):
        await websocket.send_text(json.dumps(event.to_dict(include_data=False)))
        await websocket.send_bytes(event.data)
    else:
        await websocket.send_text(json.dumps(event.to_dict()))


def create_app(*, tts: Synthesizer | None = None, tokens_per_second: float = 40.0) -> Starlette:
    """Build the app. ``tokens_per_second`` is the speed of the scripted LLM."""
    synthesizer = tts if tts is not None else make_tts()

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                question = await websocket.receive_text()
                try:
                    async with (
                        open_llm(question, tokens_per_second) as llm,
                        stream_reply(llm, synthesizer, language="en") as events,
                    ):
                        async for event in events:
                            await send_event(websocket, event)
                except WebSocketDisconnect:
                    raise
                except Exception as exc:  # the LLM stream failed; the connection goes on
                    logger.warning("reply failed: %r", exc)
                    await websocket.send_text(json.dumps(failure(exc)))
        except WebSocketDisconnect:
            # Leaving the `async with` above already closed the LLM stream and every TTS
            # request of the interrupted reply.
            logger.info("WebSocket client disconnected")

    async def sse(request: Request) -> Response:
        question = request.query_params.get("q", "")
        return EventStreamResponse(question, synthesizer, tokens_per_second)

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
