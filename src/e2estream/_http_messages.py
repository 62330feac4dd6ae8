"""The message an HTTP error response carries: read its body, bounded, and find the text.

One place for both readers of error responses: the TTS backends (a 4xx/5xx, or a 2xx
that is not audio) and ``token_source`` (an LLM server's error status).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio

__all__ = ["MAX_ERROR_BODY", "message_from_body", "read_error_message"]

#: How much of an error response's body is read for its message.
MAX_ERROR_BODY = 64 * 1024

#: Longest message kept from an error body (one line, for logs and events).
_MAX_MESSAGE = 500


async def read_error_message(
    body: AsyncIterator[bytes], *, fallback: str = "", max_wait: float = 5.0
) -> str:
    """Read up to :data:`MAX_ERROR_BODY` of an error body and return its message.

    The message is a courtesy: a server that never finishes its error body, or drops the
    connection in the middle of it, must not hang the request or hide its status, so
    reading stops after ``max_wait`` seconds or at any error, and the message comes from
    what was read. Does not close ``body``: the caller closes it with its response.

    Args:
        body: The response's body iterator (``aiter_bytes()``).
        fallback: The message for an empty body (the reason phrase, say).
        max_wait: Seconds to wait for the body at most.
    """
    content = bytearray()
    with anyio.move_on_after(max(0.0, max_wait)):
        try:
            async for data in body:
                content += data
                if len(content) >= MAX_ERROR_BODY:
                    break
        except Exception:  # a read error ends the courtesy, not the request
            pass
    return message_from_body(bytes(content), fallback)


def message_from_body(content: bytes, fallback: str) -> str:
    """The one-line message in an error body (OpenAI, ElevenLabs, FastAPI and Ollama shapes)."""
    text = content.decode("utf-8", "replace").strip()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        message = text
    else:
        message = _message_from_json(parsed) or text
    message = " ".join(message.split())  # one line, for logs
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return message or fallback


def _message_from_json(obj: Any) -> str | None:
    # OpenAI: {"error": {"message": ...}}; ElevenLabs: {"detail": {"message": ...}} or
    # {"detail": "..."}; FastAPI validation: {"detail": [{"msg": ...}, ...]}; Ollama:
    # {"error": "..."}.
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        for key in ("error", "detail", "message", "msg"):
            if key in obj:
                found = _message_from_json(obj[key])
                if found:
                    return found
        return None
    if isinstance(obj, list):
        parts = [part for item in obj if (part := _message_from_json(item))]
        return "; ".join(parts) or None
    return None
