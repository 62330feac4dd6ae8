"""The one-line message an HTTP error body carries (OpenAI, ElevenLabs, FastAPI shapes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["message_from_body"]

#: Longest message kept from an error body (one line, for logs and events).
_MAX_MESSAGE = 500


def message_from_body(content: bytes, fallback: str) -> str:
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
    return message or fallback or "no message"


def _message_from_json(obj: Any) -> str | None:
    # OpenAI: {"error": {"message": ...}}; ElevenLabs: {"detail": {"message": ...}} or
    # {"detail": "..."}; FastAPI validation: {"detail": [{"msg": ...}, ...]}.
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
