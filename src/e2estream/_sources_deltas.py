"""The sync core of ``token_source`` for bytes: wire decoder, then reply text per event.

The ``*Deltas`` classes put ``_sources_shapes.text_from_chunk`` (every provider's chunk
shape) behind the wire decoders of ``_sse.py`` and ``_ndjson.py``: bytes in, text deltas
out, in-stream errors raised as :class:`SourceError`. No I/O, no clock; the async shells
are in ``_sources.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from ._exceptions import SourceError
from ._ndjson import NDJSONDecoder
from ._sources_shapes import text_from_chunk
from ._sse import ServerSentEvent, SSEDecoder

__all__ = [
    "DeltaDecoder",
    "NDJSONDeltas",
    "SSEDeltas",
    "SniffingDeltas",
    "SourceFormat",
    "make_delta_decoder",
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
            text = text_from_chunk(payload, event.event)
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
            text = text_from_chunk(value)
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
