"""A streaming-input backend for a made-up WebSocket TTS service, in about 50 lines.

The service ("Acme TTS") takes ``{"speak": "..."}`` messages, answers each with binary
PCM frames and then ``{"done": true}``, and drops everything on ``{"stop": true}``.
That is all a backend needs to say: how to send a segment, how to cancel, and what
each message from the service means. Connecting, reconnecting, timeouts, segment order
and the spoken transcript are the pipeline's job.

    python examples/streaming_backend.py ws://127.0.0.1:8000   # a server speaking it
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio

from e2estream import AudioEvent, AudioFormat, SegmentEnd, stream_reply
from e2estream.backends.websocket import StreamItem, WebSocketStream, open_stream
from e2estream.testing import scripted_tokens


class AcmeSpeech:
    """Acme TTS: 24 kHz 16-bit mono PCM over one WebSocket per reply."""

    audio_format = AudioFormat("pcm_s16le", 24000, 1)

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self._api_key = api_key

    def connect(self) -> AbstractAsyncContextManager[AcmeStream]:
        """Open one connection per reply (the pipeline calls this)."""
        return open_stream(
            f"{self.url}/v1/speak",
            lambda socket: AcmeStream(socket, self.audio_format, "Acme TTS"),
            headers={"Authorization": f"Bearer {self._api_key}"},
        )


class AcmeStream(WebSocketStream):
    """One connection: what to send, and what the service's messages mean."""

    def segment_messages(self, text: str) -> list[dict[str, Any]]:
        """Send one segment (Acme speaks each message as a unit: no flush needed)."""
        return [{"speak": text}]

    def cancel_messages(self) -> list[dict[str, Any]]:
        """Barge-in: drop what is queued."""
        return [{"stop": True}]

    def parse(self, message: str | bytes) -> Iterable[StreamItem]:
        """Binary frames are audio; ``done`` ends the oldest open segment."""
        if isinstance(message, bytes):
            return [self.audio(message)]  # audio of the oldest segment not yet done
        data = self.json(message)
        if "error" in data:
            raise self.error(data["error"])
        return [SegmentEnd()] if data.get("done") else []


async def main(url: str) -> None:
    """Speak a scripted reply through Acme and print each chunk's size."""
    reply = scripted_tokens("Hello from Acme. This is the second sentence.")
    async with stream_reply(reply, AcmeSpeech(url, api_key="demo")) as events:
        async for event in events:
            if isinstance(event, AudioEvent):
                print(f"segment {event.segment_index}: {len(event.data)} bytes")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8000")
