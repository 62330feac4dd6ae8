"""Ask examples/websocket_server.py a question; print the tokens live, save the audio as WAV.

Needs the ``websockets`` package (``pip install websockets``; it is not an e2estream
dependency)::

    python examples/websocket_server.py &
    python examples/websocket_client.py "What is streaming TTS?" --out reply.wav

The server sends one JSON text frame per event; an ``audio`` frame announces a binary
frame of ``size`` bytes that follows it. The reply ends with ``done`` (or
``reply_failed``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from typing import Any

try:
    from websockets.asyncio.client import connect
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("this example needs the websockets package (>= 13): pip install websockets")


async def ask(url: str, question: str) -> tuple[dict[str, Any], bytes, dict[str, Any] | None]:
    """Send ``question`` and print the reply's tokens as they arrive.

    Returns the reply's last message (``done`` or ``reply_failed``), its audio, and the
    audio format the server announced (None if no audio came).
    """
    audio = bytearray()
    audio_format: dict[str, Any] | None = None
    async with connect(url, max_size=None) as websocket:
        await websocket.send(question)
        while True:
            message = json.loads(await websocket.recv())
            kind = message["type"]
            if kind == "token":
                print(message["text"], end="", flush=True)
            elif kind == "audio":
                data = await websocket.recv()  # the binary frame with the audio bytes
                if not isinstance(data, bytes) or len(data) != message["size"]:
                    raise RuntimeError("expected a binary frame of the announced size")
                audio += data  # a player would play it now
                audio_format = message["format"]
            elif kind == "error":  # one segment's TTS failed; the reply goes on
                print(f"\n[TTS error in segment {message['segment_index']}: {message['message']}]")
            elif kind in ("done", "reply_failed"):
                print()
                return message, bytes(audio), audio_format


def write_wav(path: str, audio: bytes, audio_format: dict[str, Any]) -> None:
    """Write PCM audio in the format the server announced to a WAV file."""
    if audio_format["encoding"] != "pcm_s16le":
        raise SystemExit(f"this client writes pcm_s16le only, not {audio_format['encoding']}")
    with wave.open(path, "wb") as wav:
        wav.setnchannels(audio_format["channels"])
        wav.setsampwidth(2)
        wav.setframerate(audio_format["sample_rate"])
        wav.writeframes(audio)


def main() -> None:
    """Parse the command line and ask."""
    parser = argparse.ArgumentParser(description="Ask the example server a question.")
    parser.add_argument("question", nargs="?", default="How does streaming TTS work?")
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    parser.add_argument("--out", default="reply.wav")
    args = parser.parse_args()
    last, audio, audio_format = asyncio.run(ask(args.url, args.question))
    if last["type"] == "reply_failed":
        sys.exit(f"reply failed: {last['error']}: {last['message']}")
    if audio_format is not None:
        write_wav(args.out, audio, audio_format)
    metrics = last["metrics"]
    print(
        f"server-side first audio after {metrics['time_to_first_audio']:.2f} s; "
        f"{metrics['segments']} segments, {metrics['audio_duration']:.1f} s of audio -> {args.out}"
    )


if __name__ == "__main__":
    main()
