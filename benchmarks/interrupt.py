"""Interruption benchmark: what barge-in wastes, how fast it closes, how exact the transcript is.

Usage: ``python benchmarks/interrupt.py`` (or ``nox -s bench``). Prints tables and writes
them to the "interrupt" section of ``docs/benchmarks.md``.

Part 1 (simulated time, trio's ``MockClock``): replies of about 300 tokens are
interrupted at a random point, uniform over their playback, in three worlds (default,
harsh, and one whose TTS has a jittery time to first byte). For each pipeline it reports
the audio synthesized but never played (what the TTS bill pays for nothing), the
requests opened for segments of which nothing was heard, and, from uninterrupted runs of
the same replies, the time to first audio and the stall. Pipelines: unpaced
(``max_concurrency=2``), paced with several ``max_ahead``, and a LiveKit-style pacer that
starts the next request while less than 5 s of audio, counted on the wall clock from the
first audio, remain.

Part 2 (real clock): time from calling ``interrupt()`` to its return, when every request
is closed, with the fake TTS on asyncio and trio.

Part 3 (eSpeak NG, real audio): the error, in words, of the transcript estimated from
the audio duration against the exact one from eSpeak's own word events, on the demo
replies.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from random import Random
from typing import Any, TypeVar

import anyio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table, write_section
from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    SpokenText,
    Synthesizer,
    TextTiming,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens
from latency import make_reply

T = TypeVar("T")
CPS = 15.0


@dataclass(frozen=True)
class World:
    name: str
    llm_tps: float
    ttfb: float
    rtf: float
    ttfb_jitter: float = 0.0  # mean of an exponential extra delay before the first byte


WORLDS = [
    World("default", 40.0, 0.2, 0.3),
    World("harsh", 30.0, 0.8, 0.95),
    World("jittery", 40.0, 0.2, 0.3, ttfb_jitter=0.6),
]


@dataclass(frozen=True)
class Pipeline:
    label: str
    max_ahead: float | None = None
    wall_clock_pacer: float | None = None


PIPELINES = [
    Pipeline("unpaced (max_concurrency=2)"),
    Pipeline("max_ahead=1", max_ahead=1.0),
    Pipeline("max_ahead=2", max_ahead=2.0),
    Pipeline("max_ahead=3", max_ahead=3.0),
    Pipeline("max_ahead=5", max_ahead=5.0),
    Pipeline("LiveKit-style pacer, 5 s wall clock", wall_clock_pacer=5.0),
]


class Metered:
    """Wraps a synthesizer: counts audio produced and requests opened, optional jitter."""

    def __init__(self, inner: FakeSynthesizer, jitter: float, seed: int) -> None:
        self.inner = inner
        self.jitter = jitter
        self.rng = Random(seed)
        self.produced = 0.0  # seconds of audio the TTS produced
        self.opened: list[float] = []  # clock time of each request

    @property
    def audio_format(self) -> AudioFormat:
        return self.inner.audio_format

    async def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        self.opened.append(anyio.current_time())
        if self.jitter:
            await anyio.sleep(self.rng.expovariate(1 / self.jitter))
        async for item in self.inner.synthesize(text):
            if isinstance(item, bytes):
                self.produced += len(item) / (self.audio_format.bytes_per_second or 1)
            yield item


class WallClockPacer:
    """LiveKit-style: a request starts only while less than ``ahead`` seconds of audio,
    counted on the wall clock since the first audio, remain; checked every 0.1 s."""

    def __init__(self, inner: Metered, ahead: float) -> None:
        self.inner = inner
        self.ahead = ahead
        self.first_audio: float | None = None

    @property
    def audio_format(self) -> AudioFormat:
        return self.inner.audio_format

    async def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        while (  # noqa: ASYNC110 - polling on purpose: this is how the LiveKit pacer works
            self.first_audio is not None
            and self.inner.produced - (anyio.current_time() - self.first_audio) > self.ahead
        ):
            await anyio.sleep(0.1)
        async for item in self.inner.synthesize(text):
            if self.first_audio is None and isinstance(item, bytes):
                self.first_audio = anyio.current_time()
            yield item


@dataclass
class Trial:
    wasted: float = 0.0  # seconds synthesized, never played
    unheard_requests: int = 0  # requests for segments of which nothing was heard
    after_interrupt: int = 0  # requests opened after interrupt() returned
    ttfa: float | None = None
    stall: float = 0.0
    audio: float = 0.0


def simulate(func: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(func, backend="trio", backend_options={"clock": clock})


def backend(world: World, pipeline: Pipeline, seed: int) -> tuple[Metered, Synthesizer]:
    metered = Metered(
        FakeSynthesizer(ttfb=world.ttfb, realtime_factor=world.rtf, chars_per_second=CPS),
        world.ttfb_jitter,
        seed,
    )
    if pipeline.wall_clock_pacer is not None:
        return metered, WallClockPacer(metered, pipeline.wall_clock_pacer)
    return metered, metered


async def one_run(
    reply: str, world: World, pipeline: Pipeline, seed: int, interrupt_at: float | None
) -> Trial:
    """One reply; interrupted ``interrupt_at`` seconds into its playback (None: never)."""
    metered, tts = backend(world, pipeline, seed)
    trial = Trial()
    llm = scripted_tokens(reply, tokens_per_second=world.llm_tps, first_token_delay=0.3)
    first_audio = anyio.Event()
    spoken: list[SpokenText] = []
    returned_at: list[float] = []
    async with stream_reply(llm, tts, max_ahead=pipeline.max_ahead) as reply_stream:

        async def barge_in(at: float) -> None:
            await first_audio.wait()
            await anyio.sleep(at)
            spoken.append(await reply_stream.interrupt(reply_stream.playback_position))
            returned_at.append(anyio.current_time())

        async with anyio.create_task_group() as group:
            if interrupt_at is not None:
                group.start_soon(barge_in, interrupt_at)
            async for event in reply_stream:
                if isinstance(event, AudioEvent) and not first_audio.is_set():
                    first_audio.set()
                if isinstance(event, DoneEvent):
                    trial.ttfa = event.metrics.time_to_first_audio
                    trial.stall = event.metrics.stall_time
                    trial.audio = event.metrics.audio_duration or 0.0
    if spoken:
        # The listener may still be playing when the server has delivered everything:
        # interrupt() after the end then only says what was heard by that point.
        heard = spoken[0]
        trial.wasted = max(0.0, metered.produced - heard.played)
        trial.after_interrupt = sum(1 for t in metered.opened if t > returned_at[0])
        heard_segments = 0 if heard.segment_index is None else heard.segment_index + 1
        trial.unheard_requests = max(0, len(metered.opened) - heard_segments)
    return trial


def part1(trials: int) -> tuple[str, dict[tuple[str, str], dict[str, float]]]:
    rows: list[list[str]] = []
    figures: dict[tuple[str, str], dict[str, float]] = {}
    rng = Random(2026)
    replies = [make_reply(300) for _ in range(1)]
    reply = replies[0]
    total_audio = sum(len(s) for s in reply.split(". ")) / CPS
    points = [rng.uniform(0, total_audio) for _ in range(trials)]
    for world in WORLDS:
        for pipeline in PIPELINES:
            full = simulate(partial(one_run, reply, world, pipeline, 0, None))
            interrupted = [
                simulate(partial(one_run, reply, world, pipeline, seed, at))
                for seed, at in enumerate(points)
            ]
            wasted = [t.wasted for t in interrupted]
            unheard = [t.unheard_requests for t in interrupted]
            late = sum(t.after_interrupt for t in interrupted)
            figures[(world.name, pipeline.label)] = {
                "wasted_median": statistics.median(wasted),
                "wasted_max": max(wasted),
                "ttfa": full.ttfa or math.nan,
                "stall": full.stall,
            }
            rows.append(
                [
                    world.name,
                    pipeline.label,
                    f"{statistics.median(wasted):.2f}",
                    f"{max(wasted):.2f}",
                    f"{statistics.mean(unheard):.2f}",
                    str(late),
                    f"{(full.ttfa or math.nan):.3f}",
                    f"{full.stall:.3f}",
                ]
            )
    table = markdown_table(
        [
            "world",
            "pipeline",
            "wasted audio, median (s)",
            "wasted, max (s)",
            "requests nothing of which was heard (mean)",
            "requests opened after interrupt()",
            "TTFA (s)",
            "stall (s)",
        ],
        rows,
    )
    worlds = "; ".join(
        f"{w.name}: LLM {w.llm_tps:g} tok/s, TTS first byte {w.ttfb:g} s"
        + (f" + exponential jitter (mean {w.ttfb_jitter:g} s)" if w.ttfb_jitter else "")
        + f", real-time factor {w.rtf:g}"
        for w in WORLDS
    )
    text = (
        f"Simulated time. A reply of 300 tokens ({total_audio:.0f} s of audio at {CPS:g} "
        f"chars/s), interrupted at {trials} points drawn uniformly over its playback; "
        f"TTFA and stall from the same reply played to the end. Worlds: {worlds}.\n\n" + table
    )
    return text, figures


async def close_latency_run(seed: int) -> float:
    tts = FakeSynthesizer(ttfb=0.02, realtime_factor=0.3, chunk_duration=0.05)
    reply = make_reply(300)
    rng = Random(seed)
    async with stream_reply(scripted_tokens(reply, tokens_per_second=200), tts) as events:
        audio_seen = 0
        stop_after = rng.randint(1, 40)
        async for event in events:
            if isinstance(event, AudioEvent):
                audio_seen += 1
                if audio_seen == stop_after:
                    start = time.perf_counter()
                    await events.interrupt()
                    took = time.perf_counter() - start
                    assert tts.statistics.open_streams == 0
                    return took
    return math.nan


def part2(runs: int) -> str:
    rows = []
    for backend_name in ("asyncio", "trio"):
        times: list[float] = []
        for seed in range(runs):
            took = anyio.run(close_latency_run, seed, backend=backend_name)
            if not math.isnan(took):
                times.append(took * 1000)
        times.sort()
        rows.append(
            [
                backend_name,
                str(len(times)),
                f"{statistics.median(times):.2f}",
                f"{times[int(0.95 * (len(times) - 1))]:.2f}",
                f"{max(times):.2f}",
            ]
        )
    return (
        "Real clock, fake TTS (first byte 20 ms, 50 ms chunks), interrupted after a random "
        "audio event; from calling `interrupt()` to its return, when every request is "
        "closed.\n\n"
        + markdown_table(["backend", "runs", "median (ms)", "p95 (ms)", "max (ms)"], rows)
    )


class WithoutTimings:
    """The same engine, its word timings dropped: the transcript is then estimated."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def audio_format(self) -> AudioFormat:
        fmt: AudioFormat = self.inner.audio_format
        return fmt

    @property
    def compute_bound(self) -> bool:
        return True

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        async for item in self.inner.synthesize(text):
            if isinstance(item, bytes):
                yield item


async def transcripts(reply: str, tts: Any, points: list[float], language: str) -> list[SpokenText]:
    async with stream_reply([reply], tts, language=language) as events:
        async for _ in events:
            pass
        return [events.spoken(point) for point in points]


def part3(points_per_reply: int) -> str:
    try:
        from e2estream._demo import REPLIES
        from e2estream.backends import EspeakSynthesizer
    except ImportError as exc:  # pragma: no cover - the espeak extra is missing
        return f"Skipped: {exc}\n"
    rows = []
    for language, reply in sorted(REPLIES.items()):
        if language not in ("en", "de"):
            continue
        exact_tts = EspeakSynthesizer(language=language)

        async def both(
            exact_tts: Any = exact_tts, reply: str = reply, language: str = language
        ) -> tuple[list[Any], ...]:
            rng = Random(7)
            async with stream_reply([reply], exact_tts, language=language) as events:
                async for event in events:
                    if isinstance(event, DoneEvent):
                        total = event.metrics.audio_duration or 0.0
            points = [rng.uniform(0, total) for _ in range(points_per_reply)]
            exact = await transcripts(reply, exact_tts, points, language)
            estimated = await transcripts(reply, WithoutTimings(exact_tts), points, language)
            return exact, estimated

        exact, estimated = anyio.run(both)
        errors = [
            abs(len(e.text.split()) - len(s.text.split()))
            for e, s in zip(exact, estimated, strict=True)
        ]
        signed = [
            len(s.text.split()) - len(e.text.split()) for e, s in zip(exact, estimated, strict=True)
        ]
        rows.append(
            [
                language,
                str(len(reply.split())),
                str(len(errors)),
                f"{statistics.median(errors):g}",
                f"{statistics.mean(errors):.2f}",
                f"{sorted(errors)[int(0.9 * (len(errors) - 1))]:g}",
                str(max(errors)),
                f"{statistics.mean(signed):+.2f}",
                f"{sum(e == 0 for e in errors) / len(errors):.0%}",
            ]
        )
    return (
        "eSpeak NG, the demo replies. The transcript estimated from the audio duration "
        "(words weighted by syllables) against the exact one from eSpeak's word events, "
        "at points drawn uniformly over the reply's audio.\n\n"
        + markdown_table(
            [
                "language",
                "words",
                "points",
                "error median (words)",
                "mean",
                "p90",
                "max",
                "bias (estimated - exact)",
                "exact match",
            ],
            rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="interruptions per row")
    parser.add_argument("--runs", type=int, default=50, help="real-clock runs per backend")
    parser.add_argument("--points", type=int, default=200, help="points per demo reply")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sections = []
    text1, _ = part1(args.trials)
    print(text1)
    sections.append("### Wasted synthesis, time to first audio, stall\n\n" + text1)
    text2 = part2(args.runs)
    print(text2)
    sections.append("### From interrupt() to every request closed\n\n" + text2)
    text3 = part3(args.points)
    print(text3)
    sections.append("### Spoken transcript: estimate against exact word timings\n\n" + text3)
    body = (
        "## Interruption (barge-in)\n\n"
        f"`python benchmarks/interrupt.py`; {machine_line()}.\n\n" + "\n".join(sections)
    )
    if not args.no_write:
        write_section("interrupt", body)


if __name__ == "__main__":
    main()
