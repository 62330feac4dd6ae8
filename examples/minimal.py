"""The smallest host: a scripted LLM reply, spoken while it is "written", saved as WAV.

Run it from a clone (``pip install -e ".[espeak]"`` first for real speech; without the
extra it falls back to a test tone)::

    python examples/minimal.py                       # 40 tokens/s, writes minimal.wav
    python examples/minimal.py --tokens-per-second 200 --out /tmp/reply.wav
"""

from __future__ import annotations

import argparse
import wave

import anyio

from e2estream import AudioEvent, DoneEvent, Synthesizer, TokenEvent, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens

REPLY = (
    "Hello! I am a streamed reply, and you hear this sentence while the next one is "
    "still being written. Dr. Smith's clinic opens at 9 a.m., e.g. on Mondays."
)


def make_tts() -> Synthesizer:
    """Return eSpeak NG if ``e2estream[espeak]`` is installed, else a fake TTS."""
    try:
        from e2estream.backends import EspeakSynthesizer

        return EspeakSynthesizer(language="en")  # needs e2estream[espeak]
    except ImportError:
        return FakeSynthesizer()  # a 220 Hz tone as long as the speech would be


async def main(tokens_per_second: float, out: str) -> None:
    """Stream the scripted reply: print its tokens live, write its audio to ``out``."""
    tts = make_tts()
    fmt = tts.audio_format  # pcm_s16le for both synthesizers above
    llm = scripted_tokens(REPLY, tokens_per_second=tokens_per_second)
    with wave.open(out, "wb") as wav:
        wav.setnchannels(fmt.channels)
        wav.setsampwidth(2)
        wav.setframerate(fmt.sample_rate)
        # A file, not a speaker: no pacing to playback speed (max_ahead=None).
        async with stream_reply(llm, tts, language="en", max_ahead=None) as events:
            async for event in events:
                if isinstance(event, TokenEvent):
                    print(event.text, end="", flush=True)
                elif isinstance(event, AudioEvent):
                    wav.writeframes(event.data)
                elif isinstance(event, DoneEvent):
                    m = event.metrics
                    print(
                        f"\nfirst audio after {m.time_to_first_audio:.2f} s; "
                        f"{m.segments} segments, {m.audio_duration:.1f} s of audio"
                    )
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens-per-second", type=float, default=40.0)
    parser.add_argument("--out", default="minimal.wav")
    args = parser.parse_args()
    anyio.run(main, args.tokens_per_second, args.out)
