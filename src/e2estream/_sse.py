"""Incremental Server-Sent Events decoder, the wire format of OpenAI-compatible servers.

A synchronous state machine fed ``bytes`` as they arrive from the network, in
chunks of any size: a chunk may end in the middle of a line, of a CRLF pair or of a UTF-8
character. It works per line (a regular-expression scan of each chunk, fragments joined
only when a line is complete), never per byte, and holds no I/O and no clock, so the async
shells in ``_sources.py`` stay thin and the decoder is unit- and property-tested alone.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent", "utf8_decoder"]

# The SSE grammar ends a line with CRLF, LF or CR, and nothing else: ``str.splitlines``
# would also split on U+2028, form feeds and friends, which may appear inside JSON text.
_SSE_LINE_END = re.compile(r"\r\n|\r|\n")


def utf8_decoder() -> codecs.IncrementalDecoder:
    # "utf-8-sig" drops a leading byte-order mark, as the SSE spec requires; the
    # incremental decoder keeps a UTF-8 sequence split across chunks until it completes.
    # Invalid bytes become U+FFFD, as the spec's "UTF-8 decode" does.
    return codecs.getincrementaldecoder("utf-8-sig")(errors="replace")


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched Server-Sent Event.

    ``event`` is ``None`` when the server sent no ``event:`` field (the spec's default
    type, "message"); ``data`` is the ``data:`` lines joined with ``"\\n"``.
    """

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental ``text/event-stream`` parser (WHATWG HTML, "event stream interpretation").

    ``feed(chunk)`` returns the events completed by ``chunk``; ``finish()`` returns the
    last one at end of stream. Comments (``:keep-alive``) are dropped, unknown fields are
    ignored, ``data:`` lines of one event are joined with a newline.

    One deliberate leniency: an event still pending at end of stream (the server omitted
    the final blank line) is dispatched by ``finish()`` instead of being discarded, so no
    reply text is lost to a sloppy server. A connection that really breaks raises in the
    HTTP client before ``finish()`` is reached.
    """

    def __init__(self) -> None:
        self._decoder = utf8_decoder()
        self._fragments: list[str] = []
        # A chunk that ends in CR may be the first half of a CRLF pair: the LF that starts
        # the next chunk must then not end a second (empty, event-dispatching) line.
        self._skip_lf = False
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode ``chunk`` and return the events it completes (often none or one)."""
        return self._feed_text(self._decoder.decode(chunk))

    def finish(self) -> list[ServerSentEvent]:
        """Flush at end of stream: the last line and a pending event, if any."""
        events = self._feed_text(self._decoder.decode(b"", True))
        if self._fragments:
            line = "".join(self._fragments)
            self._fragments.clear()
            self._process_line(line, events)
        self._dispatch(events)
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if not text:
            # Only part of a UTF-8 character arrived: nothing changes, not even _skip_lf.
            return events
        start = 0
        if self._skip_lf and text[0] == "\n":
            start = 1
        self._skip_lf = False
        for match in _SSE_LINE_END.finditer(text, start):
            self._fragments.append(text[start : match.start()])
            line = "".join(self._fragments)
            self._fragments.clear()
            self._process_line(line, events)
            start = match.end()
        if start < len(text):
            self._fragments.append(text[start:])
        elif text[-1] == "\r":
            self._skip_lf = True
        return events

    def _process_line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            return  # a comment: keep-alives and padding
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        # Per the spec, an event without any data line is not dispatched; its type resets.
        # The last event id persists across events.
        if self._data:
            events.append(
                ServerSentEvent(
                    data="\n".join(self._data), event=self._event, id=self._id, retry=self._retry
                )
            )
        self._data = []
        self._event = None
        self._retry = None
