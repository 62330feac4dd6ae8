"""Latency benchmark: sequential vs naive per-segment vs stream_reply, side by side.

Usage: ``python benchmarks/latency.py`` (or ``nox -s bench``). Prints tables and writes
them to the "latency" section of ``docs/benchmarks.md``.

Three pipelines get the same reply from the same fake LLM and fake TTS
(``e2estream.testing``):

* **sequential**: the whole reply, then one TTS request for all of it (what "text live,
  audio afterwards" backends do);
* **naive per-segment**: each segment (same segmenter) is synthesized when it is
  complete, one request at a time, and its audio is released when its request
  finishes; the next request starts only then (no overlap, no streaming);
* **stream_reply**: e2estream.

Part 1 runs in simulated time (trio's ``MockClock``): delays are exact, so the table
shows what each pipeline's *scheduling* gives, free of machine noise. Part 2 measures
stream_reply on the real clock, up to its first audio, to show the library's own
overhead on top of the lower bound. Part 3 runs everything with zero delays to measure
the per-token cost and throughput; part 4 the peak memory.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path
from typing import TypeVar

import anyio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table, write_section
from e2estream import (
    AudioEvent,
    AudioFormat,
    IncrementalSegmenter,
    SegmentEvent,
    Synthesizer,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens, split_like_llm

T = TypeVar("T")

SENTENCES = [
    "Sure, here is how the setup works.",
    "First, open the settings page and choose the network tab.",
    "Dr. Smith recommends checking the cable, e.g. the one behind the router, first.",
    "If the light is green, the connection is fine.",
    "Otherwise restart the device and wait about 30 seconds, then try again.",
    "The new firmware, version 2.4, fixes most of the known problems with older models.",
    "You can download it from the support site at no cost.",
    "Does that help?",
    "Let me know if anything is unclear and I will explain it step by step.",
    "Many users also find it useful to write down the serial number first.",
]
FIRST_TOKEN_DELAY = 0.3
CHARS_PER_SECOND = 15.0  # speaking rate of the fake TTS


def make_reply(target_tokens: int) -> str:
    """A reply of about ``target_tokens`` LLM tokens, deterministic."""
    parts: list[str] = []
    i = 0
    while len(split_like_llm(" ".join(parts))) < target_tokens:
        parts.append(SENTENCES[i % len(SENTENCES)])
        i += 1
    return " ".join(parts)


@dataclass(frozen=True)
class Config:
    tokens: int
    llm_tps: float
    ttfb: float
    rtf: float

    @property
    def label(self) -> str:
        return (
            f"{self.tokens} tok, {self.llm_tps:g} tok/s, "
            f"ttfb {self.ttfb * 1000:g} ms, rtf {self.rtf:g}"
        )


@dataclass
class Run:
    ttfa: float  # seconds from the start to the first audio chunk
    stall: float  # seconds playback waited for audio after it had started
    audio: float  # seconds of audio in all


def stall_time(arrivals: list[tuple[float, float]]) -> float:
    """Total gap time when playback starts at the first chunk and plays in real time.

    ``arrivals``: (arrival time, duration) of each chunk, in playback order.
    """
    if not arrivals:
        return 0.0
    playing_until = arrivals[0][0]
    stalled = 0.0
    for arrived, duration in arrivals:
        if arrived > playing_until:
            stalled += arrived - playing_until
            playing_until = arrived
        playing_until += duration
    return stalled


def fake_tts(config: Config) -> FakeSynthesizer:
    return FakeSynthesizer(
        ttfb=config.ttfb, realtime_factor=config.rtf, chars_per_second=CHARS_PER_SECOND
    )


def llm(reply: str, config: Config) -> AsyncIterator[str]:
    return scripted_tokens(
        reply, tokens_per_second=config.llm_tps, first_token_delay=FIRST_TOKEN_DELAY
    )


async def run_sequential(reply: str, config: Config) -> Run:
    tts = fake_tts(config)
    start = anyio.current_time()
    text = "".join([token async for token in llm(reply, config)])
    arrivals = []
    async for data in tts.synthesize(text):
        arrivals.append((anyio.current_time() - start, tts.audio_format.duration(len(data)) or 0.0))
    return Run(arrivals[0][0], stall_time(arrivals), sum(d for _, d in arrivals))


async def run_naive(reply: str, config: Config) -> Run:
    tts = fake_tts(config)
    segmenter = IncrementalSegmenter("en")
    start = anyio.current_time()
    arrivals: list[tuple[float, float]] = []
    send, receive = anyio.create_memory_object_stream[str](math.inf)

    async def read_llm() -> None:
        async with send:
            async for token in llm(reply, config):
                for segment in segmenter.push(token):
                    send.send_nowait(segment.speech_text)
            for segment in segmenter.flush():
                send.send_nowait(segment.speech_text)

    async def speak() -> None:
        async with receive:
            async for text in receive:
                if not text.strip():
                    continue
                audio = b"".join([data async for data in tts.synthesize(text)])
                arrivals.append(
                    (anyio.current_time() - start, tts.audio_format.duration(len(audio)) or 0.0)
                )

    async with anyio.create_task_group() as group:
        group.start_soon(read_llm)
        group.start_soon(speak)
    return Run(arrivals[0][0], stall_time(arrivals), sum(d for _, d in arrivals))


async def run_stream_reply(
    reply: str, config: Config, *, stop_at_first_audio: bool = False
) -> tuple[Run, float, float]:
    """Return the run, the lower bound and the segmenter's lookahead (both in seconds).

    With ``stop_at_first_audio`` the reply is abandoned at its first audio chunk (the
    run then holds that one chunk): enough to measure time to first audio.
    """
    tts = fake_tts(config)
    start = anyio.current_time()
    arrivals: list[tuple[float, float]] = []
    token_times: list[tuple[int, float]] = []  # (end offset, arrival)
    first_segment_end: int | None = None
    async with stream_reply(llm(reply, config), tts) as events:
        async for event in events:
            now = anyio.current_time() - start
            if isinstance(event, TokenEvent):
                token_times.append((event.offset + len(event.text), now))
            elif isinstance(event, SegmentEvent) and first_segment_end is None:
                first_segment_end = event.segment.end
            elif isinstance(event, AudioEvent):
                arrivals.append((now, event.duration or 0.0))
                if stop_at_first_audio:
                    break
    assert first_segment_end is not None and arrivals
    return Run(arrivals[0][0], stall_time(arrivals), sum(d for _, d in arrivals)), *bounds(
        reply, token_times, first_segment_end, config
    )


def bounds(
    reply: str, token_times: list[tuple[int, float]], segment_end: int, config: Config
) -> tuple[float, float]:
    """(lower bound, lookahead): the lower bound is when the token holding the first
    segment's last character arrived, plus the TTS time to first byte; the lookahead is
    how long after that the token arrived that made the boundary certain."""
    last_char = len(reply[:segment_end].rstrip())
    last_token = next(t for end, t in token_times if end >= last_char)
    release = next((t for end, t in token_times if end > segment_end), token_times[-1][1])
    return last_token + config.ttfb, max(0.0, release - last_token)


def simulate(func: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(func, backend="trio", backend_options={"clock": clock})


def part1(configs: list[Config]) -> tuple[str, list[float]]:
    rows = []
    distances = []
    ok_stall = True
    for config in configs:
        reply = make_reply(config.tokens)
        seq = simulate(partial(run_sequential, reply, config))
        naive = simulate(partial(run_naive, reply, config))
        streamed, lower, lookahead = simulate(partial(run_stream_reply, reply, config))
        distance = streamed.ttfa - lower
        distances.append(distance - lookahead)
        # Zero stall is expected when the TTS is faster than real time and the LLM writes
        # faster than the voice speaks (chars per second).
        llm_chars_per_s = config.llm_tps * len(reply) / len(split_like_llm(reply))
        expect_no_stall = config.rtf < 1 and llm_chars_per_s > CHARS_PER_SECOND
        if expect_no_stall and streamed.stall > 1e-9:
            ok_stall = False
        rows.append(
            [
                config.label,
                f"{seq.ttfa:.2f}",
                f"{naive.ttfa:.2f}",
                f"{streamed.ttfa:.3f}",
                f"{lower:.3f}",
                f"{distance * 1000:.1f}",
                f"{lookahead * 1000:.1f}",
                f"{seq.stall:.2f}",
                f"{naive.stall:.2f}",
                f"{streamed.stall:.2f}",
                f"{streamed.audio:.1f}",
            ]
        )
    table = markdown_table(
        [
            "reply / LLM / TTS",
            "TTFA seq (s)",
            "TTFA naive (s)",
            "TTFA stream_reply (s)",
            "lower bound (s)",
            "distance (ms)",
            "of which lookahead (ms)",
            "stall seq (s)",
            "stall naive (s)",
            "stall stream_reply (s)",
            "audio (s)",
        ],
        rows,
    )
    verdict = (
        "Zero stall for stream_reply in every configuration where the TTS is faster than "
        f"real time and the LLM outpaces speech: **{'yes' if ok_stall else 'NO'}**."
    )
    return table + "\n" + verdict + "\n", distances


async def real_clock_ttfa(reply: str, config: Config) -> float:
    """stream_reply on the real clock, up to the first audio; returns distance minus lookahead."""
    run, lower, lookahead = await run_stream_reply(reply, config, stop_at_first_audio=True)
    return run.ttfa - lower - lookahead


def part2(configs: list[Config], backend: str) -> tuple[str, float]:
    distances = []
    for config in configs:
        reply = make_reply(config.tokens)
        distances.append(anyio.run(real_clock_ttfa, reply, config, backend=backend))
    distances_ms = sorted(d * 1000 for d in distances)
    median = statistics.median(distances_ms)
    p90 = distances_ms[int(0.9 * (len(distances_ms) - 1))]
    return (
        f"Real clock, {backend}, {len(configs)} configurations: time to first audio minus "
        f"(lower bound + segmenter lookahead): median **{median:.2f} ms**, "
        f"p90 {p90:.2f} ms, max {distances_ms[-1]:.2f} ms.\n",
        median,
    )


class OneChunkPerSegment:
    """A zero-delay TTS answering each segment with one small chunk: isolates the token path."""

    audio_format = AudioFormat()

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        yield b"\0\0" * 240


def zero_delay_tts(kind: str) -> Synthesizer:
    if kind == "one chunk per segment":
        return OneChunkPerSegment()
    return FakeSynthesizer(ttfb=0, realtime_factor=0, chars_per_second=CHARS_PER_SECOND)


async def zero_delay_run(reply: str, repeat: int, tts_kind: str) -> tuple[int, int]:
    tokens = split_like_llm(reply) * repeat
    text = "".join(tokens)
    count = events_count = 0
    async with stream_reply(
        scripted_tokens(text, tokens_per_second=math.inf, first_token_delay=0, tokens=tokens),
        zero_delay_tts(tts_kind),
        max_ahead=None,  # throughput: nobody listens, so no pacing to playback
    ) as events:
        async for event in events:
            events_count += 1
            if isinstance(event, TokenEvent):
                count += 1
    return count, events_count


TTS_KINDS = ["one chunk per segment", "100 ms chunks"]


def part3(backends: list[str]) -> tuple[str, dict[tuple[str, str], float]]:
    reply = make_reply(1000)
    rows = []
    rates = {}
    for tts_kind in TTS_KINDS:
        for backend in backends:
            anyio.run(zero_delay_run, reply, 1, tts_kind, backend=backend)  # warm up
            best = math.inf
            tokens = events = 0
            for _ in range(5):
                gc.collect()
                started = time.perf_counter()
                tokens, events = anyio.run(zero_delay_run, reply, 20, tts_kind, backend=backend)
                best = min(best, time.perf_counter() - started)
            rates[tts_kind, backend] = tokens / best
            rows.append(
                [
                    tts_kind,
                    backend,
                    f"{tokens}",
                    f"{events}",
                    f"{best * 1e6 / tokens:.1f}",
                    f"{tokens / best:,.0f}",
                    f"{events / best:,.0f}",
                ]
            )
    table = markdown_table(
        ["fake TTS", "backend", "tokens", "events", "µs per token", "tokens/s", "events/s"],
        rows,
    )
    return table, rates


def part4() -> str:
    config = Config(1000, 100, 0.1, 0.2)
    reply = make_reply(config.tokens)
    rows = []
    runners = {
        "sequential": lambda: run_sequential(reply, config),
        "naive per-segment": lambda: run_naive(reply, config),
        "stream_reply": lambda: run_stream_reply(reply, config),
    }
    for name, runner in runners.items():
        gc.collect()
        tracemalloc.start()
        simulate(runner)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append([name, f"{peak / 1024:,.0f}"])
    return (
        f"Peak traced Python memory for one {config.label} reply "
        f"(simulated time; the audio itself is about "
        f"{len(reply) / CHARS_PER_SECOND * 48000 / 1024:,.0f} KiB):\n\n"
        + markdown_table(["pipeline", "peak KiB"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer configurations")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()

    sizes = [50, 300] if args.quick else [50, 300, 1000]
    configs = [Config(*c) for c in product(sizes, [30.0, 100.0], [0.1, 0.4], [0.2, 0.8])]

    table1, sim_distances = part1(configs)
    print(table1)
    text2, real_median = part2(configs, "asyncio")
    print(text2)
    table3, rates = part3(["asyncio", "trio"])
    print(table3)
    text4 = part4()
    print(text4)

    body = f"""## Latency: time to first audio, stalls, overhead

Command: `python benchmarks/latency.py` (part of `nox -s bench`). {machine_line()}.

Pipelines: **sequential** = whole reply, then one TTS request; **naive** = each segment
synthesized when complete, one request at a time, audio released when its request
finishes; **stream_reply** = e2estream (2 requests in flight, head streamed).
Fake LLM: first token after {FIRST_TOKEN_DELAY} s, then the given rate. Fake TTS: speaks
{CHARS_PER_SECOND:g} characters per second; ttfb and real-time factor (rtf) as given.

### 1. Simulated time (exact scheduling, no machine noise)

*Lower bound* = arrival of the token holding the first segment's last character + TTS
ttfb. *Lookahead* = how long after that the token arrived that made the boundary certain
(the segmenter must see what follows a full stop: "Dr." or "3.14" are not sentence ends).
*Stall* = time playback waits for audio once it has started at the first audio.

{table1}
Distance beyond the lookahead, simulated: max {max(sim_distances) * 1000:.3f} ms.

### 2. Real clock: library overhead on the way to the first audio

{text2}
### 3. Zero delays: cost per token through `stream_reply` (one core)

A {len(split_like_llm(make_reply(1000))) * 20}-token reply (the 1000-token reply 20 times)
with zero delays, best of 5, on one core. Two fake TTSs: one answering each segment with
a single chunk (the cost of the token path: token events, segmentation, one audio event
per segment), and `FakeSynthesizer` producing 100 ms chunks instantly (about 3.6 audio
events per token: the whole pipeline at full load).

{table3}
### 4. Memory

{text4}"""
    if not args.no_write:
        write_section("latency", body)
        print("wrote docs/benchmarks.md (latency section)")
    for (kind, backend), rate in rates.items():
        print(f"{kind:>22} {backend:>8}: {rate:,.0f} tokens/s (target 20,000)")
    print(f"median overhead on the way to first audio: {real_median:.2f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
