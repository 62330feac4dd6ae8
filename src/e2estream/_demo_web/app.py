"""The browser demo's Starlette app: one page, its script, and a WebSocket per visitor.

The page sends ``{"type": "ask", "text": ..., "language": ...}``; the reply goes back
through :func:`e2estream.asgi.websocket_reply` (the audio format, then every event, PCM
as binary frames), then ``{"type": "baseline", ...}``: the TTS's time to first audio for
the whole reply, from which the page shows what "LLM first, then TTS" would have given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._audio import Synthesizer
from .._demo import time_to_first_byte
from .._pipeline import stream_reply
from .._reply import ReplyStream
from .._segmenter import IncrementalSegmenter
from ..asgi import handle_client_message, websocket_reply
from .services import DemoServices, WebDemoConfig

__all__ = ["create_app"]

logger = logging.getLogger("e2estream.demo")

#: Longest text the page may send (the scripted LLM speaks it all).
MAX_TEXT = 5000

_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    static = files("e2estream._demo_web").joinpath("static")
    return {
        path: (static.joinpath(name).read_bytes(), media_type)
        for path, (name, media_type) in _STATIC.items()
    }


def parse_ask(message: Any, languages: list[str]) -> tuple[str, str]:
    """Return the text and language of an ``ask`` message.

    Raises:
        ValueError: Naming what is wrong with it.
    """
    if not isinstance(message, dict) or message.get("type") != "ask":
        raise ValueError(
            f"expected {{'type': 'ask', 'text': ..., 'language': ...}}, got {message!r:.80}"
        )
    text, language = message.get("text"), message.get("language", "en")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is {len(text)} characters long; the demo takes up to {MAX_TEXT}")
    if language not in languages:
        raise ValueError(f"'language' must be one of {', '.join(languages)}, not {language!r}")
    return text, language


class _Visitor:
    """One WebSocket connection: questions in, replies out."""

    def __init__(self, websocket: WebSocket, services: DemoServices) -> None:
        self.websocket = websocket
        self.services = services
        self.last_reply: ReplyStream | None = None

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(message))

    async def run(self) -> None:
        while True:
            try:
                text = await self.websocket.receive_text()
            except WebSocketDisconnect:
                return
            try:
                message = json.loads(text)
            except json.JSONDecodeError:
                message = text
            if isinstance(message, dict) and message.get("type") in ("interrupt", "played"):
                await self.late_control(message)
                continue
            try:
                question, language = parse_ask(message, self.services.languages())
                tts, description = self.services.synthesizer(language)
            except (ValueError, ImportError) as exc:
                await self.send({"type": "protocol_error", "message": str(exc)})
                continue
            await self.send({"type": "voice", "description": description})
            if not await self.reply(question, language, tts):
                return

    async def late_control(self, message: dict[str, Any]) -> None:
        # The reply has ended on the server (synthesis runs ahead of playback), but the
        # page is still playing it: the spoken text can still be computed from it.
        if message["type"] != "interrupt" or self.last_reply is None:
            return  # playback progress after the reply: nothing left to pace
        try:
            spoken = await handle_client_message(self.last_reply, message)
        except ValueError as exc:
            await self.send({"type": "protocol_error", "message": str(exc)})
            return
        assert spoken is not None
        await self.send({"type": "spoken", "spoken": spoken.to_dict()})

    async def reply(self, question: str, language: str, tts: Synthesizer) -> bool:
        """Stream one reply; False if the visitor left."""
        services = self.services

        @asynccontextmanager
        async def reply_stream() -> AsyncIterator[ReplyStream]:
            async with (
                services.llm(question, language) as llm,
                stream_reply(
                    llm,
                    tts,
                    segmenter=IncrementalSegmenter(language),
                    max_ahead=services.config.max_ahead,
                ) as reply,
            ):
                self.last_reply = reply
                yield reply

        try:
            outcome = await websocket_reply(self.websocket, reply_stream())
        except Exception as exc:  # the LLM failed; the page got reply_failed
            logger.warning("reply failed: %r", exc)
            return True
        if outcome.disconnected:
            return False
        if not outcome.done.interrupted and outcome.done.text.strip():
            # What "LLM first, then TTS" would add after the last token: one request for
            # the whole reply, until its first audio.
            seconds = await time_to_first_byte(tts, outcome.done.text)
            await self.send({"type": "baseline", "tts_first_byte": seconds})
        return True


def create_app(config: WebDemoConfig | None = None) -> Starlette:
    """Build the demo's app (serve it with uvicorn; see :func:`serve`)."""
    services = DemoServices(config or WebDemoConfig())
    static = _static_files()

    async def page(request: Request) -> Response:
        body, media_type = static[request.url.path]
        if media_type.startswith("text/html"):
            return HTMLResponse(body)
        return Response(body, media_type=media_type, headers={"cache-control": "no-cache"})

    async def demo_config(request: Request) -> JSONResponse:
        return JSONResponse(services.describe())

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        await _Visitor(websocket, services).run()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.aclose()

    routes: list[Route | WebSocketRoute] = [Route(path, page) for path in _STATIC]
    routes += [Route("/config.json", demo_config), WebSocketRoute("/ws", chat)]
    return Starlette(routes=routes, lifespan=lifespan)
