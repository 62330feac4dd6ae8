"""``CartesiaSpeech``: Cartesia Sonic, streaming-input text-to-speech over WebSocket.

Wire protocol (``wss://api.cartesia.ai/tts/websocket``, headers ``X-API-Key`` and
``Cartesia-Version``): one context per reply. Each segment is a generation request with
``continue: true`` and its transcript (transcripts are joined verbatim, so each ends
with a space), then the same request with an empty transcript and ``flush: true``, which
moves the context's ``flush_id`` on: every audio chunk carries the ``flush_id`` of the
segment it speaks. ``continue: false`` ends the input and the service answers ``done``;
``{"context_id", "cancel": true}`` drops the rest. Word timestamps come in their own
messages, in seconds counted over the whole context. See ``docs/backends/cartesia.md``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from .._audio import AudioFormat, TextTiming
from .._streaming import SegmentEnd
from .websocket import (
    StreamItem,
    WebSocket,
    WebSocketSettings,
    WebSocketSpeech,
    WebSocketStream,
)
from .websocket import service_endpoint as _endpoint

__all__ = ["CartesiaSpeech"]

logger = logging.getLogger("e2estream")

CARTESIA_BASE_URL = "wss://api.cartesia.ai"
CARTESIA_VERSION = "2025-04-16"
#: How far ahead in the sent text a timestamped word is looked for.
_WORD_WINDOW = 64


class CartesiaSpeech(WebSocketSpeech):
    """Cartesia Sonic text-to-speech over one WebSocket per reply, with word timings.

    Example::

        tts = CartesiaSpeech("a0e99841-438c-4a64-b679-ae501e7d6091")  # CARTESIA_API_KEY
        async with stream_reply(llm_stream, tts) as events:
            ...

    Args:
        voice_id: The voice to speak with.
        api_key: Sent as ``X-API-Key``. When None, the ``CARTESIA_API_KEY`` environment
            variable is used, for ``cartesia.ai`` hosts only.
        model_id: The model, ``"sonic-3"`` by default.
        language: The language of the reply (ISO 639-1).
        sample_rate: Of the 16-bit mono PCM asked for.
        timestamps: Ask for word timestamps (the spoken transcript of an interrupted
            reply is then exact).
        base_url: The API root (``wss://`` or ``https://``).
        version: The ``Cartesia-Version`` header.
        settings: Connection settings (timeouts, message size bound, TLS).

    Raises:
        ValueError: For an empty ``voice_id`` or an invalid ``base_url``.
    """

    def __init__(
        self,
        voice_id: str,
        *,
        api_key: str | None = None,
        model_id: str = "sonic-3",
        language: str = "en",
        sample_rate: int = 24000,
        timestamps: bool = True,
        base_url: str = CARTESIA_BASE_URL,
        version: str = CARTESIA_VERSION,
        settings: WebSocketSettings | None = None,
    ) -> None:
        if not voice_id:
            raise ValueError("voice_id must not be empty")
        self.voice_id = voice_id
        self.model_id = model_id
        self.language = language
        #: Whether the connections yield word timings.
        self.provides_timings = timestamps
        self.base_url = base_url
        self.version = version
        url, api_key = _endpoint(
            base_url,
            "/tts/websocket",
            {},
            api_key=api_key,
            official_domain="cartesia.ai",
            key_variable="CARTESIA_API_KEY",
        )
        super().__init__(
            url=url,
            api_key=api_key,
            audio_format=AudioFormat("pcm_s16le", sample_rate, 1),
            settings=settings,
            shown={"voice_id": voice_id, "model_id": model_id, "base_url": base_url},
        )

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Return the ``X-API-Key`` and ``Cartesia-Version`` headers."""
        headers = {"Cartesia-Version": self.version}
        if api_key:
            headers["X-API-Key"] = api_key
        return headers

    def stream(self, socket: WebSocket) -> WebSocketStream:
        """Return Cartesia's protocol over ``socket``, in a context of its own."""
        return _CartesiaStream(socket, self)

    def request(self, context_id: str) -> dict[str, Any]:
        """Return the generation request fields that every message of a context repeats."""
        return {
            "model_id": self.model_id,
            "voice": {"mode": "id", "id": self.voice_id},
            "language": self.language,
            "context_id": context_id,
            "output_format": {
                "container": "raw",
                "encoding": "pcm_s16le",
                "sample_rate": self.audio_format.sample_rate,
            },
            "add_timestamps": self.provides_timings,
            # Whole segments arrive: nothing to gain by waiting for more text.
            "max_buffer_delay_ms": 0,
        }


class _CartesiaStream(WebSocketStream):
    def __init__(self, socket: WebSocket, backend: CartesiaSpeech) -> None:
        super().__init__(socket, backend.audio_format, "Cartesia")
        self._context = uuid.uuid4().hex
        self._request = backend.request(self._context)
        self._flush_id = 1  # the flush_id of the oldest segment whose audio is not complete
        self._word_cursor = 0  # where in the sent text the next timestamped word is sought

    def segment_messages(self, text: str) -> list[dict[str, Any]]:
        return [
            {**self._request, "transcript": text, "continue": True},
            {**self._request, "transcript": "", "continue": True, "flush": True},
        ]

    def end_messages(self) -> list[dict[str, Any]]:
        return [{**self._request, "transcript": "", "continue": False}]

    def cancel_messages(self) -> list[dict[str, Any]]:
        return [{"context_id": self._context, "cancel": True}]

    def parse(self, message: str | bytes) -> Iterable[StreamItem]:
        data = self.json(message)
        kind = data.get("type")
        if kind == "error" or data.get("error"):
            raise self.error(data.get("error") or data.get("message") or data)
        if data.get("context_id") not in (None, self._context):
            return []  # a context of an earlier reply on a reused socket
        if kind == "chunk":
            items: list[StreamItem] = list(self._ends_before(data.get("flush_id")))
            items.append(self.audio(data.get("data") or ""))
            return items
        if kind == "flush_done":
            flush_id = data.get("flush_id")
            return self._ends_before(flush_id + 1 if isinstance(flush_id, int) else None)
        if kind == "timestamps":
            return self._timings(data.get("word_timestamps"))
        if kind == "done":
            self.finished = True
        return []

    def _ends_before(self, flush_id: object) -> list[StreamItem]:
        """Segment ends for every segment older than the one with ``flush_id``."""
        if not isinstance(flush_id, int) or isinstance(flush_id, bool):
            return []
        ends: list[StreamItem] = []
        while self._flush_id < flush_id:
            ends.append(SegmentEnd())
            self._flush_id += 1
        return ends

    def _timings(self, words: object) -> list[StreamItem]:
        if not isinstance(words, dict):
            return []
        texts, starts, ends = words.get("words"), words.get("start"), words.get("end")
        if not (isinstance(texts, list) and isinstance(starts, list) and isinstance(ends, list)):
            return []
        out: list[StreamItem] = []
        for word, start, end in zip(texts, starts, ends, strict=False):
            if not isinstance(word, str) or not word or not _is_seconds(start):
                continue
            position = self.sent_text.find(
                word, self._word_cursor, self._word_cursor + _WORD_WINDOW + len(word)
            )
            if position < 0:
                # A word the service normalized ("twelve" for "12"): no timing for it
                # rather than one on the wrong word.
                logger.debug("Cartesia: timestamped word %r not found in the text", word)
                continue
            self._word_cursor = position + len(word)
            finish = float(end) if _is_seconds(end) and end >= start else None
            out.append(TextTiming(position, position + len(word), float(start), finish))
        return out


def _is_seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
