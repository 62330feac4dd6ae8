"""Reply text out of one LLM stream chunk, for every provider shape, by key or attribute.

A chunk is a parsed JSON value from the wire (a mapping) or an SDK object (pydantic
models, LangChain chunks, Ollama's client): the same shapes either way, so they are read
through one accessor, :func:`field`, and described once, in :data:`_SHAPES`. No SDK is
imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ._exceptions import SourceError

__all__ = ["UnrecognizedChunk", "error_message", "field", "text_from_chunk", "text_from_item"]


class UnrecognizedChunk(Exception):
    """Internal: an item of no known shape (becomes a TypeError with context)."""


def field(chunk: object, name: str) -> Any:
    """The field ``name`` of a mapping (by key) or of an object (by attribute), or None."""
    if isinstance(chunk, Mapping):
        return chunk.get(name)
    return getattr(chunk, name, None)


def error_message(error: object) -> str:
    """The human message inside an error payload of any provider's shape."""
    if isinstance(error, str):
        return error
    message = field(error, "message")
    if isinstance(message, str) and message:
        return message
    inner = field(error, "error")
    if inner is not None and inner is not error:
        return error_message(inner)
    if isinstance(error, Mapping):
        return json.dumps(error, ensure_ascii=False, default=str)
    return str(error)


def _raise_in_stream_error(chunk: object, kind: object, event: str | None) -> None:
    # OpenAI-compatible servers send {"error": {...}} (vLLM, llama.cpp, OpenRouter) or
    # {"object": "error", ...}; Anthropic and the Responses API a "type": "error" event.
    error = field(chunk, "error")
    if error or event == "error" or kind == "error" or field(chunk, "object") == "error":
        raise SourceError(error_message(error if error else chunk))
    if kind == "response.failed":
        failure = field(field(chunk, "response"), "error")
        raise SourceError(error_message(failure or "the response failed"))


class _NotThis:
    """What a shape reader returns for a chunk that is not of its shape."""


_NOT_THIS = _NotThis()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _responses_delta(chunk: object, kind: object) -> str | _NotThis | None:
    # OpenAI Responses API: {"type": "response.output_text.delta", "delta": "..."}.
    if kind != "response.output_text.delta":
        return _NOT_THIS
    return _text(field(chunk, "delta"))


def _anthropic_delta(chunk: object, kind: object) -> str | _NotThis | None:
    # Anthropic Messages: content_block_delta with a text_delta (not input_json_delta,
    # thinking_delta...).
    if kind != "content_block_delta":
        return _NOT_THIS
    delta = field(chunk, "delta")
    return _text(field(delta, "text")) if field(delta, "type") == "text_delta" else None


def _choices(chunk: object, kind: object) -> str | _NotThis | None:
    # OpenAI chat completions: choices[0].delta.content (streamed), .message.content (a
    # whole reply), .text (legacy completions). Only choice 0 is read when n > 1.
    choices = field(chunk, "choices")
    if not isinstance(choices, (list, tuple)):
        return _NOT_THIS
    for choice in choices:
        if field(choice, "index") not in (0, None):
            continue
        for key in ("delta", "message"):
            content = field(field(choice, key), "content")
            if isinstance(content, str):
                return content
        text = field(choice, "text")
        if isinstance(text, str):
            return text
    return None


def _ollama_chat(chunk: object, kind: object) -> str | _NotThis | None:
    # Ollama /api/chat: message.content. Not a typed event's .message (Anthropic's
    # message_start carries the whole message, whose content is a list of blocks).
    content = field(field(chunk, "message"), "content")
    return content if kind is None and isinstance(content, str) else _NOT_THIS


def _ollama_generate(chunk: object, kind: object) -> str | _NotThis | None:
    # Ollama /api/generate: response.
    response = field(chunk, "response")
    return response if isinstance(response, str) else _NOT_THIS


def _content(chunk: object, kind: object) -> str | _NotThis | None:
    # LangChain-style chunks: a str .content, or a list of content blocks of which only
    # the text blocks are reply text (tool-use and reasoning blocks are not).
    content = field(chunk, "content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return _NOT_THIS
    parts = [block if isinstance(block, str) else _text_block(block) for block in content]
    return "".join(parts)


def _text_block(block: object) -> str:
    text = field(block, "text")
    return text if field(block, "type") == "text" and isinstance(text, str) else ""


#: The reply-text shapes, in the order they are tried; the first that matches decides
#: (None: a chunk of that shape without text, such as a role-only delta).
_SHAPES: tuple[Callable[[object, object], str | _NotThis | None], ...] = (
    _responses_delta,
    _anthropic_delta,
    _choices,
    _ollama_chat,
    _ollama_generate,
    _content,
)


def text_from_chunk(chunk: object, event: str | None = None) -> str | None:
    """Reply text in one chunk, None if it has none; raises on an in-stream error.

    Args:
        chunk: A parsed JSON mapping or an SDK object.
        event: The SSE event name the chunk came with, if any.

    Raises:
        SourceError: The chunk is an in-stream error.
        UnrecognizedChunk: An object (not a mapping) of no known shape: a mapping of no
            known shape is a chunk without text (usage, lifecycle events).
    """
    kind = field(chunk, "type")
    _raise_in_stream_error(chunk, kind, event)
    for shape in _SHAPES:
        text = shape(chunk, kind)
        if not isinstance(text, _NotThis):
            return text
    if isinstance(chunk, Mapping) or isinstance(kind, str) or hasattr(chunk, "content"):
        # A typed event we do not read (Anthropic's message_start and its helper's
        # "text" event, which repeats content_block_delta; Responses lifecycle events).
        return None
    raise UnrecognizedChunk(f"{type(chunk).__name__}: {chunk!r:.80}")


def text_from_item(item: object) -> str | None:
    """Reply text in one item of an iterable source; raises :class:`UnrecognizedChunk`."""
    if isinstance(item, str):
        return item
    if isinstance(item, (bytes, bytearray, memoryview)):
        raise UnrecognizedChunk(
            "bytes: pass the httpx.Response itself, or format='sse'/'ndjson' for raw bytes"
        )
    return text_from_chunk(item)
