"""``ElevenLabsStreamingSpeech``: ElevenLabs' multi-context WebSocket, one context per reply.

Wire protocol (``wss://api.elevenlabs.io/v1/text-to-speech/{voice_id}/multi-stream-input``,
header ``xi-api-key``): the first message opens the context (``{"text": " ",
"context_id", "voice_settings", "generation_config"}``); each segment goes as ``{"text":
"... ", "context_id", "flush": true}`` (every text ends with a space). Audio comes as
base64 with the character alignment of that chunk, in milliseconds from the chunk's own
start; they are accumulated over the context, so a timing never restarts at a later
sentence. A segment is complete when the alignment has covered its last character.
``{"context_id", "close_context": true}`` cancels in place; ``{"close_socket": true}``
says goodbye (after closing the context: the service ignores it while one is open).
One context per connection, so rapid barge-ins never run into the five-context limit.
See ``docs/backends/elevenlabs-streaming.md``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .._streaming import SegmentEnd
from ._elevenlabs_timestamps import Alignment
from .elevenlabs import ELEVENLABS_BASE_URL, _audio_format
from .websocket import (
    StreamItem,
    WebSocket,
    WebSocketSettings,
    WebSocketSpeech,
    WebSocketStream,
)
from .websocket import service_endpoint as _endpoint

__all__ = ["ElevenLabsStreamingSpeech"]

logger = logging.getLogger("e2estream")


class ElevenLabsStreamingSpeech(WebSocketSpeech):
    """ElevenLabs text-to-speech over one WebSocket per reply, with word timings.

    The voice stays continuous across the segments of a reply (one context), and the
    reply is cancelled in place when interrupted.

    Example::

        tts = ElevenLabsStreamingSpeech("JBFqnCBsd6RMkjVDRZzb")  # ELEVENLABS_API_KEY
        async with stream_reply(llm_stream, tts) as events:
            ...

    Args:
        voice_id: The voice to speak with.
        api_key: Sent as the ``xi-api-key`` header (never inside a message). When None,
            the ``ELEVENLABS_API_KEY`` environment variable is used, for
            ``elevenlabs.io`` hosts only.
        model_id: The model, ``"eleven_flash_v2_5"`` (lowest latency) by default.
        output_format: A raw format, ``"pcm_24000"`` by default (``pcm_16000``,
            ``pcm_44100``, ``ulaw_8000``...): segment ends and timings are placed by the
            audio's duration.
        voice_settings: The API's ``voice_settings`` object, sent when the context opens.
        chunk_length_schedule: The ``generation_config.chunk_length_schedule``; each
            segment is flushed anyway, so it only matters within long segments.
        inactivity_timeout: Seconds the service keeps an idle context (up to 180); a
            connection closed for idleness between sentences is reopened.
        base_url: The API root (``wss://`` or ``https://``), without ``/v1``.
        settings: Connection settings (timeouts, message size bound, TLS).

    Raises:
        ValueError: For an empty ``voice_id``, a compressed ``output_format`` or an
            invalid ``base_url``.
    """

    #: The alignment gives a timing for every word.
    provides_timings = True

    def __init__(
        self,
        voice_id: str,
        *,
        api_key: str | None = None,
        model_id: str = "eleven_flash_v2_5",
        output_format: str = "pcm_24000",
        voice_settings: Mapping[str, Any] | None = None,
        chunk_length_schedule: Sequence[int] | None = None,
        inactivity_timeout: int = 60,
        base_url: str = ELEVENLABS_BASE_URL,
        settings: WebSocketSettings | None = None,
    ) -> None:
        if not voice_id:
            raise ValueError("voice_id must not be empty")
        audio_format = _audio_format(output_format)
        if not audio_format.is_raw:
            raise ValueError(
                f"ElevenLabsStreamingSpeech needs a raw output_format (pcm_*, ulaw_*, "
                f"alaw_*), not {output_format!r}: segments and timings are placed by the "
                "duration of the audio, which a compressed format does not tell"
            )
        self.voice_id = voice_id
        self.model_id = model_id
        self.output_format = output_format
        self.voice_settings = dict(voice_settings) if voice_settings is not None else None
        self.chunk_length_schedule = list(chunk_length_schedule or [])
        self.base_url = base_url
        query = {
            "model_id": model_id,
            "output_format": output_format,
            "inactivity_timeout": inactivity_timeout,
            "sync_alignment": True,
        }
        url, api_key = _endpoint(
            base_url,
            f"/v1/text-to-speech/{quote(voice_id, safe='')}/multi-stream-input",
            query,
            api_key=api_key,
            official_domain="elevenlabs.io",
            key_variable="ELEVENLABS_API_KEY",
        )
        super().__init__(
            url=url,
            api_key=api_key,
            audio_format=audio_format,
            settings=settings,
            shown={"voice_id": voice_id, "model_id": model_id, "base_url": base_url},
        )

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Return the ``xi-api-key`` header."""
        return {"xi-api-key": api_key} if api_key else {}

    def stream(self, socket: WebSocket) -> WebSocketStream:
        """Return the multi-context protocol over ``socket``, one context per reply."""
        return _ElevenLabsStream(socket, self)


class _ElevenLabsStream(WebSocketStream):
    def __init__(self, socket: WebSocket, backend: ElevenLabsStreamingSpeech) -> None:
        super().__init__(socket, backend.audio_format, "ElevenLabs")
        self._backend = backend
        self._context = uuid.uuid4().hex
        self._alignment = Alignment("")
        self._segment_ends: list[int] = []  # offset past each segment's last character
        self._ended = 0  # segments whose SegmentEnd was yielded

    def start_messages(self) -> list[dict[str, Any]]:
        opening: dict[str, Any] = {"text": " ", "context_id": self._context}
        if self._backend.voice_settings is not None:
            opening["voice_settings"] = self._backend.voice_settings
        if self._backend.chunk_length_schedule:
            opening["generation_config"] = {
                "chunk_length_schedule": self._backend.chunk_length_schedule
            }
        return [opening]

    def segment_messages(self, text: str) -> list[dict[str, Any]]:
        self._segment_ends.append(len(self.sent_text) - len(text) + len(text.rstrip()))
        self._alignment.extend(text)
        return [{"text": text, "context_id": self._context, "flush": True}]

    def cancel_messages(self) -> list[dict[str, Any]]:
        return [{"context_id": self._context, "close_context": True}]

    def close_messages(self) -> list[dict[str, Any]]:
        return [{"context_id": self._context, "close_context": True}, {"close_socket": True}]

    def parse(self, message: str | bytes) -> Iterable[StreamItem]:
        data = self.json(message)
        if data.get("error") or (data.get("message") and "audio" not in data):
            raise self.error(data.get("error") or data.get("message"))
        context = data.get("contextId", data.get("context_id"))
        if context not in (None, self._context):
            return []  # a closed context's last words
        items: list[StreamItem] = []
        encoded = data.get("audio")
        if encoded:
            timings = self._alignment.timings(_seconds(data.get("alignment")), self.audio_seconds)
            if timings:
                # Audio for a later segment: the earlier ones are complete, even if the
                # service did not align their last character.
                items += self._ends_through(timings[0].char_start)
            items += timings
            items.append(self.audio(encoded))
            items += self._ends_through(self._alignment.aligned)
        if data.get("isFinal") or data.get("is_final"):
            items += self._ends_through(len(self.sent_text))
            self.finished = True
        return items

    def _ends_through(self, position: int) -> list[StreamItem]:
        ends: list[StreamItem] = []
        while self._ended < len(self._segment_ends) and self._segment_ends[self._ended] <= position:
            ends.append(SegmentEnd())
            self._ended += 1
        return ends


def _seconds(alignment: object) -> object:
    """Return the WebSocket alignment (ms, durations) in the HTTP shape (seconds, ends)."""
    if not isinstance(alignment, Mapping):
        return None
    chars = alignment.get("chars")
    starts = alignment.get("charStartTimesMs")
    durations = alignment.get("charDurationsMs")
    if not (isinstance(chars, list) and isinstance(starts, list) and isinstance(durations, list)):
        return None
    try:
        return {
            "characters": chars,
            "character_start_times_seconds": [start / 1000 for start in starts],
            "character_end_times_seconds": [
                (start + duration) / 1000 for start, duration in zip(starts, durations, strict=True)
            ],
        }
    except (TypeError, ValueError):
        return None
