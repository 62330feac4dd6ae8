"""Incremental newline-delimited JSON decoder (Ollama's native ``/api/chat`` stream).

A synchronous state machine fed ``bytes`` in chunks of any size, per line, with no I/O;
the async shell lives in ``_sources.py``.
"""

from __future__ import annotations

import json
from typing import Any

from ._exceptions import SourceError
from ._sse import utf8_decoder

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    """Incremental newline-delimited JSON parser (Ollama's native streaming format).

    ``feed(chunk)`` returns the JSON values of the lines ``chunk`` completes; ``finish()``
    parses a last line that has no trailing newline. Blank lines are skipped; CRLF is
    accepted.

    Args:
        multiline: Also accept JSON documents spread over several lines (a pretty-printed
            ``application/json`` body): a line that does not parse is kept and parsed
            together with the following ones. Off, an invalid line raises at once.
    """

    def __init__(self, *, multiline: bool = False) -> None:
        self._decoder = utf8_decoder()
        self._fragments: list[str] = []
        self._multiline = multiline
        self._pending_doc: list[str] = []

    def feed(self, chunk: bytes) -> list[Any]:
        """Decode ``chunk`` and return the JSON values of the lines it completes.

        Raises:
            SourceError: If a complete line is not valid JSON.
        """
        return self._feed_text(self._decoder.decode(chunk))

    def finish(self) -> list[Any]:
        """Flush at end of stream: parse the last line even without a newline.

        Raises:
            SourceError: If the stream ends inside a JSON value.
        """
        values = self._feed_text(self._decoder.decode(b"", True))
        if self._fragments:
            line = "".join(self._fragments)
            self._fragments.clear()
            self._process_line(line, values)
        if self._pending_doc:
            text = "\n".join(self._pending_doc)
            raise SourceError(f"the stream ended inside a JSON value: {_excerpt(text)}")
        return values

    def _feed_text(self, text: str) -> list[Any]:
        values: list[Any] = []
        start = 0
        while (end := text.find("\n", start)) != -1:
            self._fragments.append(text[start:end])
            line = "".join(self._fragments)
            self._fragments.clear()
            self._process_line(line, values)
            start = end + 1
        if start < len(text):
            self._fragments.append(text[start:])
        return values

    def _process_line(self, line: str, values: list[Any]) -> None:
        if self._pending_doc:
            self._pending_doc.append(line)
            try:
                values.append(json.loads("\n".join(self._pending_doc)))
            except ValueError:
                return
            self._pending_doc.clear()
            return
        if not line.strip():
            return
        try:
            values.append(json.loads(line))
        except ValueError:
            if not self._multiline:
                raise SourceError(
                    f"the stream sent a line that is not JSON: {_excerpt(line)}"
                ) from None
            self._pending_doc.append(line)


def _excerpt(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
