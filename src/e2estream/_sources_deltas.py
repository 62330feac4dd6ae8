"""The sync core of ``token_source``: reply text out of chunks of every known shape.

``text_from_item`` reads one chunk object or parsed JSON value (OpenAI chat completions
and Responses API, Anthropic Messages, Ollama, LangChain-style ``.content``) by shape,
never importing an SDK. The ``*Deltas`` classes put it behind the wire decoders of
``_sse.py`` and ``_ndjson.py``: bytes in, text deltas out, in-stream errors raised as
:class:`SourceError`. No I/O, no clock; the async shells are in ``_sources.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from ._exceptions import SourceError
from ._ndjson import NDJSONDecoder
from ._sse import ServerSentEvent, SSEDecoder

__all__ = [
    "DeltaDecoder",
    "NDJSONDeltas",
    "SSEDeltas",
    "SniffingDeltas",
    "SourceFormat",
    "UnrecognizedChunk",
    "error_message",
    "make_delta_decoder",
    "text_from_item",
]

#: How :func:`~e2estream.token_source` reads bytes: ``"auto"`` decides from the
#: response's content-type (and sniffs the first line when that is inconclusive).
SourceFormat = Literal["auto", "sse", "ndjson"]

_NDJSON_MEDIA_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    }
)

# --------------------------------------------------------------------------------------
# Text out of one chunk: JSON mappings (from the wire) and SDK objects (by attribute).
# --------------------------------------------------------------------------------------

_MISSING: Any = object()


class UnrecognizedChunk(Exception):
    """Internal: an item of no known shape (becomes a TypeError with context)."""


def error_message(error: object) -> str:
    """The human message inside an error payload of any provider's shape."""
    if isinstance(error, str):
        return error
    if isinstance(error, Mapping):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
        inner = error.get("error")
        if inner is not None and inner is not error:
            return error_message(inner)
        return json.dumps(error, ensure_ascii=False, default=str)
    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return message
    inner = getattr(error, "error", None)
    if inner is not None:
        return error_message(inner)
    return str(error)


def _text_from_mapping(data: Mapping[str, Any], event: str | None = None) -> str | None:
    """Reply text in one parsed JSON chunk, or ``None``; raises on an in-stream error."""
    kind = data.get("type")
    error = data.get("error")
    # OpenAI-compatible servers send {"error": {...}} (vLLM, llama.cpp, OpenRouter) or
    # {"object": "error", ...}; Anthropic and the Responses API a "type": "error" event.
    if error or event == "error" or kind == "error" or data.get("object") == "error":
        raise SourceError(error_message(error if error else data))
    if kind == "response.failed":
        response = data.get("response")
        failure = response.get("error") if isinstance(response, Mapping) else None
        raise SourceError(error_message(failure or "the response failed"))
    if kind == "response.output_text.delta":
        delta = data.get("delta")
        return delta if isinstance(delta, str) else None
    if kind == "content_block_delta":
        delta = data.get("delta")
        if isinstance(delta, Mapping) and delta.get("type") == "text_delta":
            text = delta.get("text")
            return text if isinstance(text, str) else None
        return None
    choices = data.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            for key in ("delta", "message"):  # streamed chunk, or a whole non-streamed reply
                part = choice.get(key)
                if isinstance(part, Mapping):
                    content = part.get("content")
                    if isinstance(content, str):
                        return content
            text = choice.get("text")  # legacy /v1/completions
            if isinstance(text, str):
                return text
        return None
    message = data.get("message")  # Ollama /api/chat
    if isinstance(message, Mapping):
        content = message.get("content")
        return content if isinstance(content, str) else None
    response = data.get("response")  # Ollama /api/generate
    if isinstance(response, str):
        return response
    content = data.get("content")
    if isinstance(content, str):
        return content
    return None


def _text_from_content_blocks(blocks: list[Any]) -> str:
    # LangChain chunks from some providers carry a list of content blocks; only the text
    # blocks are reply text (tool-use and reasoning blocks are not).
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping):
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
        elif getattr(block, "type", None) == "text":
            text = getattr(block, "text", None)
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def text_from_item(item: object) -> str | None:
    """Reply text in one item of an iterable source; raises :class:`UnrecognizedChunk`."""
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        return _text_from_mapping(item)
    if isinstance(item, (bytes, bytearray, memoryview)):
        raise UnrecognizedChunk(
            "bytes: pass the httpx.Response itself, or format='sse'/'ndjson' for raw bytes"
        )
    # OpenAI chat.completions chunks (sync and async SDK clients).
    choices = getattr(item, "choices", _MISSING)
    if isinstance(choices, (list, tuple)):
        for choice in choices:
            if getattr(choice, "index", 0) not in (0, None):
                continue
            delta = getattr(choice, "delta", None)
            content = getattr(delta, "content", None)
            if isinstance(content, str):
                return content
            text = getattr(choice, "text", None)
            if isinstance(text, str):
                return text
        return None
    kind = getattr(item, "type", None)
    if isinstance(kind, str):
        if kind == "response.output_text.delta":  # OpenAI Responses API
            delta = getattr(item, "delta", None)
            return delta if isinstance(delta, str) else None
        if kind == "content_block_delta":  # Anthropic Messages
            delta = getattr(item, "delta", None)
            if getattr(delta, "type", None) == "text_delta":
                text = getattr(delta, "text", None)
                return text if isinstance(text, str) else None
            return None
        if kind == "error":
            raise SourceError(error_message(item))
        if kind == "response.failed":
            error = getattr(getattr(item, "response", None), "error", None)
            raise SourceError(error_message(error or "the response failed"))
    # LangChain-style chunks.
    content = getattr(item, "content", _MISSING)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return _text_from_content_blocks(content)
    # Ollama's Python client: ChatResponse.message.content, GenerateResponse.response.
    message = getattr(item, "message", None)
    message_content = getattr(message, "content", None)
    if isinstance(message_content, str) and kind is None:
        return message_content
    response = getattr(item, "response", None)
    if isinstance(response, str):
        return response
    if isinstance(kind, str) or content is not _MISSING:
        # A typed event we do not read (Anthropic's message_start and its helper's
        # "text" event, which repeats content_block_delta; Responses lifecycle events).
        return None
    raise UnrecognizedChunk(f"{type(item).__name__}: {item!r:.80}")


# --------------------------------------------------------------------------------------
# The sync core for bytes: wire decoder + delta extraction.
# --------------------------------------------------------------------------------------


class DeltaDecoder(Protocol):
    done: bool

    def feed(self, chunk: bytes) -> list[str]: ...

    def finish(self) -> list[str]: ...


class SSEDeltas:
    """SSE bytes in, reply-text deltas out; ``done`` once ``data: [DONE]`` arrived."""

    def __init__(self) -> None:
        self._decoder = SSEDecoder()
        self.done = False

    def feed(self, chunk: bytes) -> list[str]:
        return self._deltas(self._decoder.feed(chunk))

    def finish(self) -> list[str]:
        return [] if self.done else self._deltas(self._decoder.finish())

    def _deltas(self, events: list[ServerSentEvent]) -> list[str]:
        deltas: list[str] = []
        for event in events:
            if self.done:
                break
            data = event.data
            if data.strip() == "[DONE]":
                self.done = True
                break
            if not data.strip():
                continue
            try:
                payload = json.loads(data)
            except ValueError:
                if event.event == "error":  # some servers send a plain-text error message
                    raise SourceError(data) from None
                raise SourceError(
                    f"the SSE stream sent data that is not JSON: {data[:200]!r}"
                ) from None
            if not isinstance(payload, Mapping):
                if event.event == "error":
                    raise SourceError(str(payload))
                continue
            text = _text_from_mapping(payload, event.event)
            if text:
                deltas.append(text)
        return deltas


class NDJSONDeltas:
    """NDJSON bytes in, reply-text deltas out; ``done`` once ``"done": true`` arrived."""

    def __init__(self, *, multiline: bool = False) -> None:
        self._decoder = NDJSONDecoder(multiline=multiline)
        self.done = False

    def feed(self, chunk: bytes) -> list[str]:
        return self._deltas(self._decoder.feed(chunk))

    def finish(self) -> list[str]:
        return [] if self.done else self._deltas(self._decoder.finish())

    def _deltas(self, values: list[Any]) -> list[str]:
        deltas: list[str] = []
        for value in values:
            if self.done:
                break
            if not isinstance(value, Mapping):
                continue
            text = _text_from_mapping(value)
            if text:
                deltas.append(text)
            if value.get("done") is True:
                self.done = True
        return deltas


_SSE_FIRST_LINE = re.compile(r"(?:data|event|id|retry)(?::|$)")


class SniffingDeltas:
    """Picks SSE or NDJSON from the first non-blank line, for an unhelpful content-type."""

    def __init__(self, content_type: str) -> None:
        self._content_type = content_type
        self._buffer = bytearray()
        self._inner: DeltaDecoder | None = None
        self.done = False

    def feed(self, chunk: bytes) -> list[str]:
        if self._inner is None:
            self._buffer += chunk
            first_line = self._first_line(final=False)
            if first_line is None:
                return []
            self._inner = self._choose(first_line)
            chunk = bytes(self._buffer)
            self._buffer.clear()
        deltas = self._inner.feed(chunk)
        self.done = self._inner.done
        return deltas

    def finish(self) -> list[str]:
        if self._inner is None:
            first_line = self._first_line(final=True)
            if first_line is None:
                return []  # an empty body: no text
            self._inner = self._choose(first_line)
            deltas = self._inner.feed(bytes(self._buffer))
            return deltas + self._inner.finish()
        return self._inner.finish()

    def _first_line(self, *, final: bool) -> str | None:
        text = bytes(self._buffer).decode("utf-8", errors="replace").lstrip("\ufeff")
        for line in re.split(r"\r\n|\r|\n", text)[: None if final else -1]:
            if line.strip():
                return line.strip()
        return None

    def _choose(self, first_line: str) -> DeltaDecoder:
        if first_line.startswith(("{", "[")):
            return NDJSONDeltas(multiline=True)
        if first_line.startswith(":") or _SSE_FIRST_LINE.match(first_line):
            return SSEDeltas()
        raise SourceError(
            f"cannot tell the stream's format (content-type {self._content_type!r}, first "
            f"line {first_line[:100]!r}); pass format='sse' or format='ndjson'"
        )


def make_delta_decoder(format: SourceFormat, content_type: str = "") -> DeltaDecoder:
    if format == "sse":
        return SSEDeltas()
    if format == "ndjson":
        return NDJSONDeltas(multiline=True)
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "text/event-stream":
        return SSEDeltas()
    if media_type in _NDJSON_MEDIA_TYPES:
        return NDJSONDeltas()
    # Anything else, application/json included, is sniffed: some proxies label NDJSON
    # or even SSE as plain JSON, and a non-streamed reply is one (maybe pretty-printed)
    # JSON document, which the multi-line NDJSON decoder reads too.
    return SniffingDeltas(content_type)
