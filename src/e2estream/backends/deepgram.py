"""``DeepgramSpeech``: Deepgram Aura, streaming-input text-to-speech over WebSocket.

Wire protocol (``wss://api.deepgram.com/v1/speak``, header ``Authorization: Token``):
``{"type": "Speak", "text"}`` then ``{"type": "Flush"}`` per segment, answered by
``{"type": "Flushed", "sequence_id"}`` after the segment's audio, which comes as binary
frames; ``{"type": "Clear"}`` drops what the service holds (answered by ``Cleared``);
``{"type": "Close"}`` says goodbye. No word timings. At most 20 flushes per 60 s on one
connection, so a segment waits for the flush budget when a reply has many short ones.
See ``docs/backends/deepgram.md``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

import anyio

from .._audio import AudioFormat
from .._streaming import SegmentEnd
from .websocket import (
    StreamItem,
    WebSocket,
    WebSocketSettings,
    WebSocketSpeech,
    WebSocketStream,
)
from .websocket import service_endpoint as _endpoint

__all__ = ["DeepgramSpeech"]

logger = logging.getLogger("e2estream")

DEEPGRAM_BASE_URL = "wss://api.deepgram.com"
#: Deepgram's documented flush limit: this many per window on one connection.
FLUSHES_PER_WINDOW = 20
FLUSH_WINDOW = 60.0


class DeepgramSpeech(WebSocketSpeech):
    """Deepgram Aura text-to-speech over one WebSocket per reply.

    Give it to :func:`~e2estream.stream_reply` like any backend::

        tts = DeepgramSpeech(model="aura-2-thalia-en")  # DEEPGRAM_API_KEY
        async with stream_reply(llm_stream, tts) as events:
            ...

    Args:
        api_key: Sent as ``Authorization: Token ...``. When None, the
            ``DEEPGRAM_API_KEY`` environment variable is used, for ``deepgram.com``
            hosts only.
        model: The Aura voice model.
        sample_rate: Of the 16-bit mono PCM asked for (``encoding=linear16``).
        base_url: The API root (``wss://`` or ``https://``), without ``/v1``.
        settings: Connection settings (timeouts, message size bound, TLS).

    Raises:
        ValueError: For an invalid ``base_url`` or sample rate.
    """

    #: Deepgram sends no word timings.
    provides_timings = False

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model: str = "aura-2-thalia-en",
        sample_rate: int = 24000,
        base_url: str = DEEPGRAM_BASE_URL,
        settings: WebSocketSettings | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        query = {"model": model, "encoding": "linear16", "sample_rate": sample_rate}
        url, api_key = _endpoint(
            base_url,
            "/v1/speak",
            query,
            api_key=api_key,
            official_domain="deepgram.com",
            key_variable="DEEPGRAM_API_KEY",
        )
        super().__init__(
            url=url,
            api_key=api_key,
            audio_format=AudioFormat("pcm_s16le", sample_rate, 1),
            settings=settings,
            shown={"model": model, "base_url": base_url},
        )

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Return the ``Authorization: Token`` header."""
        return {"Authorization": f"Token {api_key}"} if api_key else {}

    def stream(self, socket: WebSocket) -> WebSocketStream:
        """Return Deepgram's protocol over ``socket``."""
        return _DeepgramStream(socket, self.audio_format)


class _DeepgramStream(WebSocketStream):
    def __init__(self, socket: WebSocket, audio_format: AudioFormat) -> None:
        super().__init__(socket, audio_format, "Deepgram")
        self._flushes: deque[float] = deque()  # when this connection's recent flushes went

    async def send_segment(self, text: str) -> None:
        await self._wait_for_flush_budget()
        await super().send_segment(text)

    def segment_messages(self, text: str) -> list[dict[str, Any]]:
        return [{"type": "Speak", "text": text}, {"type": "Flush"}]

    def cancel_messages(self) -> list[dict[str, Any]]:
        return [{"type": "Clear"}]

    def close_messages(self) -> list[dict[str, Any]]:
        return [{"type": "Close"}]

    def parse(self, message: str | bytes) -> Iterable[StreamItem]:
        if isinstance(message, bytes):
            return [self.audio(message)]
        data = self.json(message)
        kind = data.get("type")
        if kind == "Flushed":
            return [SegmentEnd()]
        if kind == "Error":
            raise self.error(data.get("description") or data.get("err_msg") or data)
        if kind == "Warning":
            logger.warning("Deepgram: %s", data.get("description") or data)
        return []  # Metadata, Cleared, and types added later

    async def _wait_for_flush_budget(self) -> None:
        now = anyio.current_time()
        while self._flushes and self._flushes[0] <= now - FLUSH_WINDOW:
            self._flushes.popleft()
        if len(self._flushes) >= FLUSHES_PER_WINDOW:
            await anyio.sleep_until(self._flushes[0] + FLUSH_WINDOW)
            self._flushes.popleft()
        self._flushes.append(anyio.current_time())
