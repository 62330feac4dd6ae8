"""eSpeak NG's word timings on the demo replies: the reference for spoken-text estimates.

Usage: ``python benchmarks/espeak_timings.py [--runs N] [--out PATH]``. Segments the
demo replies (``e2estream._demo.REPLIES``, English and German) with
``IncrementalSegmenter``, synthesizes each segment with ``EspeakSynthesizer`` and prints,
per segment, the word count, the audio duration, the silence eSpeak puts before the first
and after the last sound, and the start time of each word. Writes everything to
``benchmarks/data/espeak_word_times.json`` so that an estimate of word times from a
segment's duration and its characters or syllables can be scored against eSpeak's own.

Words are the runs of non-whitespace characters of the segment's speech text; a word
eSpeak speaks without a word event of its own (see ``docs/backends/espeak.md``) has the
start time ``null``. Silence is measured on the samples: the first and last 5 ms frame
whose RMS exceeds 1% of full scale. eSpeak's output varies slightly between runs (its
wave generator carries state), so each segment is synthesized ``--runs`` times and the
largest difference of a word's start time between runs is reported, as is the longest
delay from a word's reported start to its first loud frame.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from array import array
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table
from e2estream import IncrementalSegmenter, TextTiming
from e2estream._demo import REPLIES
from e2estream.backends import EspeakSynthesizer

OUT = Path(__file__).resolve().parent / "data" / "espeak_word_times.json"
FRAME_SECONDS = 0.005
#: 1% of full scale: above eSpeak's dither-free silence (exact zeros), below any phoneme.
LOUD = 0.01 * 32767


def loud_frames(pcm: bytes, sample_rate: int) -> list[bool]:
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    size = round(FRAME_SECONDS * sample_rate)
    return [
        math.sqrt(sum(s * s for s in samples[i : i + size]) / len(samples[i : i + size])) > LOUD
        for i in range(0, len(samples), size)
    ]


async def synthesize(tts: EspeakSynthesizer, text: str) -> tuple[bytes, list[TextTiming]]:
    audio = bytearray()
    timings: list[TextTiming] = []
    async for item in tts.synthesize(text):
        if isinstance(item, TextTiming):
            timings.append(item)
        else:
            audio += item
    return bytes(audio), timings


async def measure_segment(tts: EspeakSynthesizer, text: str, runs: int) -> dict[str, Any]:
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    per_run: list[list[float | None]] = []
    rate = tts.audio_format.sample_rate
    audio = b""
    for _ in range(runs):
        audio, timings = await synthesize(tts, text)
        by_span = {(t.char_start, t.char_end): t.start for t in timings}
        per_run.append([by_span.get(span) for span in words])
    starts = per_run[0]
    spread = max(
        (
            abs(a - b)
            for run in per_run[1:]
            for a, b in zip(starts, run, strict=True)
            if a is not None and b is not None
        ),
        default=0.0,
    )
    loud = loud_frames(audio, rate)
    first = loud.index(True)
    last = len(loud) - 1 - loud[::-1].index(True)
    duration = len(audio) / 2 / rate
    # How long after its reported start a word is first heard (longest after a pause).
    onsets = [
        next((i for i in range(int(start / FRAME_SECONDS), len(loud)) if loud[i]), len(loud))
        * FRAME_SECONDS
        - start
        for start in starts
        if start is not None
    ]
    return {
        "speech_text": text,
        "words": [text[a:b] for a, b in words],
        "word_spans": [[a, b] for a, b in words],
        "word_starts": starts,
        "duration": round(duration, 4),
        "leading_silence_ms": round(first * FRAME_SECONDS * 1000),
        "trailing_silence_ms": round(duration * 1000 - (last + 1) * FRAME_SECONDS * 1000),
        "max_run_spread_ms": round(spread * 1000, 1),
        "max_onset_delay_ms": round(max(onsets) * 1000),
    }


async def measure(runs: int) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": machine_line(),
        "espeak_rate_wpm": 175,
        "silence_threshold": "5 ms frame RMS > 1% of full scale",
        "languages": {},
    }
    rows: list[list[str]] = []
    for language, reply in REPLIES.items():
        tts = EspeakSynthesizer.for_language(language)
        segmenter = IncrementalSegmenter(language)
        segments = segmenter.push(reply) + segmenter.flush()
        measured = []
        for segment in segments:
            entry = await measure_segment(tts, segment.speech_text, runs)
            entry.update(index=segment.index, display_span=[segment.start, segment.end])
            measured.append(entry)
            timed = sum(start is not None for start in entry["word_starts"])
            starts = " ".join(
                "-" if start is None else f"{start:.2f}" for start in entry["word_starts"]
            )
            rows.append(
                [
                    language,
                    str(segment.index),
                    f"{timed}/{len(entry['words'])}",
                    f"{entry['duration']:.2f}",
                    str(entry["leading_silence_ms"]),
                    str(entry["trailing_silence_ms"]),
                    starts,
                ]
            )
        report["languages"][language] = {"voice": tts.voice.identifier, "segments": measured}
    headers = ["lang", "seg", "timed/words", "audio s", "lead ms", "trail ms", "word starts (s)"]
    print(machine_line())
    print(markdown_table(headers, rows))
    entries = [e for lang in report["languages"].values() for e in lang["segments"]]
    words = sum(len(e["words"]) for e in entries)
    timed = sum(start is not None for e in entries for start in e["word_starts"])
    leading = sorted(e["leading_silence_ms"] for e in entries)
    trailing = sorted(e["trailing_silence_ms"] for e in entries)
    summary = {
        "segments": len(entries),
        "words": words,
        "timed_words": timed,
        "leading_silence_ms": {"min": leading[0], "max": leading[-1]},
        "trailing_silence_ms": {"min": trailing[0], "max": trailing[-1]},
        "max_run_spread_ms": max(e["max_run_spread_ms"] for e in entries),
        "max_onset_delay_ms": max(e["max_onset_delay_ms"] for e in entries),
        "runs": runs,
    }
    report["summary"] = summary
    print(
        f"{timed} of {words} words timed; leading silence {leading[0]}-{leading[-1]} ms, "
        f"trailing silence {trailing[0]}-{trailing[-1]} ms; word starts differ by at most "
        f"{summary['max_run_spread_ms']} ms over {runs} runs; a word is first heard at most "
        f"{summary['max_onset_delay_ms']} ms after its reported start"
    )
    return report


def main(runs: int, out: Path) -> None:
    report = anyio.run(measure, runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="syntheses per segment")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON")
    args = parser.parse_args()
    main(args.runs, args.out)
