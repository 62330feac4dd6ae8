"""Load benchmark: many concurrent ``stream_reply`` sessions in one process.

Usage: ``python benchmarks/load.py`` (or ``nox -s bench``; about 20 minutes), or
``python benchmarks/load.py --quick`` (shorter replies, 100 and 1000 sessions, about two
minutes). Prints a table and writes it to the "load" section of ``docs/benchmarks.md``
(``--no-write`` only prints).

The world of issue 10: each session has an LLM at 40 tokens/s writing a reply of about
300 tokens (after 0.3 s of thinking) and a TTS with 0.2 s to first byte at real-time
factor 0.3 (``e2estream.testing``'s fakes, on the real clock); the sessions start evenly
over 1 s and each is consumed by a task that reads every event, as a host would.

Backends: asyncio, trio, and uvloop (asyncio on uvloop's loop, when uvloop is installed:
the bench dependency group has it).

Every run is a fresh subprocess, so that memory and CPU belong to that run alone:

* **library**: ``stream_reply`` with its defaults (pacing at 3 s ahead of real-time
  playback), events read to the ``DoneEvent``;
* **floor**: the same fakes driven without the library: one task reads the LLM
  iterator, another runs the TTS iterator over the reply's segments (segmented
  beforehand), one after the other. The library's own cost per event is the difference
  of CPU time between the two, over the library's events.

Figures: time to first audio (TTFA) minus its lower bound (the TTFA of the same session
alone in simulated time, trio's ``MockClock``: what the scheduling gives with no CPU
cost), median and p99 over the sessions; sessions whose modelled player stalled
(``ReplyMetrics.stall_time``) and the worst stall; CPU per session and per event; the
peak resident memory added per session; the event loop's worst lag (a task that sleeps
10 ms at a time records how late it wakes).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import command_line, machine_line, markdown_table, write_section
from e2estream import AudioEvent, DoneEvent, IncrementalSegmenter, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens
from latency import make_reply

LLM_TOKENS_PER_SECOND = 40.0
FIRST_TOKEN_DELAY = 0.3
TTS_TTFB = 0.2
TTS_REALTIME_FACTOR = 0.3
START_SPREAD = 1.0  # seconds over which the sessions start
LAG_TICK = 0.01  # the lag monitor's sleep
P99_TARGET = 0.020  # seconds of TTFA beyond the lower bound


def make_tts() -> FakeSynthesizer:
    return FakeSynthesizer(ttfb=TTS_TTFB, realtime_factor=TTS_REALTIME_FACTOR)


#: One TTS object for the whole process, as a host has one backend client for all its
#: sessions (the fake precomputes its tone, about 3 ms, once).
TTS = make_tts()


def make_tokens(text: str) -> object:
    return scripted_tokens(
        text, tokens_per_second=LLM_TOKENS_PER_SECOND, first_token_delay=FIRST_TOKEN_DELAY
    )


@dataclass
class Session:
    ttfa: float = math.nan  # seconds from the session's start to its first audio event
    stall: float = 0.0
    events: int = 0


def _no_hook() -> None:
    pass


async def library_session(
    text: str, start: float, on_first_audio: Callable[[], None] = _no_hook
) -> Session:
    """One host session: stream_reply read to the end."""
    await anyio.sleep_until(start)
    began = anyio.current_time()
    result = Session()
    async with stream_reply(make_tokens(text), TTS) as events:
        async for event in events:
            result.events += 1
            if isinstance(event, AudioEvent) and math.isnan(result.ttfa):
                result.ttfa = anyio.current_time() - began
                on_first_audio()
            elif isinstance(event, DoneEvent):
                result.stall = event.metrics.stall_time
    return result


async def floor_session(
    text: str, segments: list[str], start: float, on_first_audio: Callable[[], None] = _no_hook
) -> Session:
    """The same fakes, consumed directly: the cost of the world without the library."""
    await anyio.sleep_until(start)
    began = anyio.current_time()
    result = Session()
    # The TTS starts once the LLM has written the first segment, as in a reply: so the
    # floor's TTFA feels the loop's lag the way the library's does.
    first_segment_written = anyio.Event()

    async def read_llm() -> None:
        written = 0
        async for token in make_tokens(text):  # type: ignore[attr-defined]
            result.events += 1
            written += len(token)
            if written >= len(segments[0]):
                first_segment_written.set()
        first_segment_written.set()

    async def read_tts() -> None:
        await first_segment_written.wait()
        heard = False
        for segment in segments:
            async for _ in TTS.synthesize(segment):
                result.events += 1
                if not heard:
                    heard = True
                    result.ttfa = anyio.current_time() - began
                    on_first_audio()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(read_llm)
        task_group.start_soon(read_tts)
    return result


def _segments(text: str) -> list[str]:
    segmenter = IncrementalSegmenter()
    return [s.speech_text for s in [*segmenter.push(text), *segmenter.flush()]]


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class RunResult:
    mode: str
    backend: str
    sessions: int
    ttfa: list[float]
    stalls: list[float]
    events: int
    cpu: float
    wall: float
    peak_rss_added: int
    worst_lag: float
    start_cpu: float  # CPU time from the run's start until every session had audio
    start_wall: float


async def run_sessions(mode: str, sessions: int, text: str) -> RunResult:
    segments = _segments(text)
    results: list[Session] = []
    done = anyio.Event()
    worst_lag = 0.0
    rss_before = peak_rss = _rss()

    async def monitor() -> None:
        nonlocal worst_lag, peak_rss
        ticks = 0
        while not done.is_set():
            due = anyio.current_time() + LAG_TICK
            await anyio.sleep_until(due)
            worst_lag = max(worst_lag, anyio.current_time() - due)
            ticks += 1
            if ticks % 10 == 0:
                peak_rss = max(peak_rss, _rss())

    started_up = [0.0, 0.0]  # CPU and wall time until the last session's first audio
    with_audio = 0

    def first_audio() -> None:
        nonlocal with_audio
        with_audio += 1
        if with_audio == sessions:
            started_up[:] = time.process_time() - cpu_started, time.perf_counter() - wall_started

    async def one(start: float) -> None:
        if mode == "library":
            results.append(await library_session(text, start, first_audio))
        else:
            results.append(await floor_session(text, segments, start, first_audio))

    # A process's first reply pays for lazy imports: warm up before measuring.
    if mode == "library":
        await library_session(make_reply(5), anyio.current_time())
    else:
        await floor_session(make_reply(5), segments[:1], anyio.current_time())
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    async with anyio.create_task_group() as outer:
        outer.start_soon(monitor)
        async with anyio.create_task_group() as task_group:
            first = anyio.current_time() + 0.05
            for i in range(sessions):
                task_group.start_soon(one, first + START_SPREAD * i / sessions)
        done.set()
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    peak_rss = max(peak_rss, _rss())
    return RunResult(
        mode,
        "",
        sessions,
        [r.ttfa for r in results],
        [r.stall for r in results],
        sum(r.events for r in results),
        cpu,
        wall,
        peak_rss - rss_before,
        worst_lag,
        *started_up,
    )


def lower_bound_ttfa(text: str, mode: str = "library") -> float:
    """TTFA of one session alone in simulated time: the scheduling's own bound."""
    segments = _segments(text)

    async def main() -> float:
        if mode == "library":
            return (await library_session(text, anyio.current_time())).ttfa
        return (await floor_session(text, segments, anyio.current_time())).ttfa

    clock = trio.testing.MockClock(autojump_threshold=0)
    return float(anyio.run(main, backend="trio", backend_options={"clock": clock}))


class _StepCounter(trio.abc.Instrument):
    def __init__(self) -> None:
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1


def task_steps(text: str, mode: str) -> tuple[int, int]:
    """Task steps (one per wake-up of a task) and events of one session, simulated time.

    Deterministic: what a session costs in scheduling, free of the machine's noise.
    """
    segments = _segments(text)

    async def main() -> int:
        if mode == "library":
            return (await library_session(text, anyio.current_time())).events
        return (await floor_session(text, segments, anyio.current_time())).events

    counter = _StepCounter()
    clock = trio.testing.MockClock(autojump_threshold=0)
    options = {"clock": clock, "instruments": [counter]}
    events = anyio.run(main, backend="trio", backend_options=options)
    return counter.steps, events


def run_on(backend: str, func: Any, *args: object) -> Any:
    """``anyio.run`` on a backend name of this benchmark: asyncio, uvloop or trio."""
    if backend == "uvloop":
        # asyncio with uvloop's event loop (libuv, in C): what a host would pick for load.
        return anyio.run(func, *args, backend="asyncio", backend_options={"use_uvloop": True})
    return anyio.run(func, *args, backend=backend)


def child(mode: str, backend: str, sessions: int, tokens: int) -> None:
    threshold = os.environ.get("LOAD_GC_THRESHOLD")
    if threshold:
        gc.set_threshold(int(threshold))  # the host's choice, see --gc-threshold
    text = make_reply(tokens)
    result = run_on(backend, run_sessions, mode, sessions, text)
    result.backend = backend
    print(json.dumps(asdict(result)))


def run_child(mode: str, backend: str, sessions: int, tokens: int) -> RunResult:
    command = [sys.executable, __file__, "--child", mode, backend, str(sessions), str(tokens)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return RunResult(**json.loads(output.strip().splitlines()[-1]))


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short replies, 100 and 1000")
    parser.add_argument("--sessions", help="comma-separated session counts")
    parser.add_argument(
        "--backends",
        default="asyncio,uvloop,trio" if _has_uvloop() else "asyncio,trio",
        help="comma-separated: asyncio, uvloop (asyncio on uvloop's loop), trio",
    )
    parser.add_argument("--tokens", type=int, help="reply length in LLM tokens")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor runs")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        help="run every child with gc.set_threshold(N) (a host's tuning; default 700)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "BACKEND", "N", "TOKENS"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if args.gc_threshold:
        os.environ["LOAD_GC_THRESHOLD"] = str(args.gc_threshold)
    if args.child:
        mode, backend, sessions, tokens = args.child
        child(mode, backend, int(sessions), int(tokens))
        return
    counts = [100, 1000] if args.quick else [10, 100, 250, 500, 1000]
    if args.sessions:
        counts = [int(n) for n in args.sessions.split(",")]
    tokens = args.tokens or (60 if args.quick else 300)
    text = make_reply(tokens)
    bound = lower_bound_ttfa(text)
    floor_bound = lower_bound_ttfa(text, "floor")
    audio_seconds = make_tts().audio_duration(text)
    rows: list[list[str]] = []
    best: dict[str, int] = {}
    floor_best: dict[str, int] = {}
    for backend in args.backends.split(","):
        for sessions in counts:
            library = run_child("library", backend, sessions, tokens)
            floor = None if args.no_floor else run_child("floor", backend, sessions, tokens)
            distances = [ttfa - bound for ttfa in library.ttfa]
            p99 = percentile(distances, 0.99)
            floor_p99 = "-"
            if floor is not None:
                floor_distances = [ttfa - floor_bound for ttfa in floor.ttfa]
                floor_p99 = f"{percentile(floor_distances, 0.99) * 1000:.1f}"
                if percentile(floor_distances, 0.99) < P99_TARGET:
                    floor_best[backend] = max(floor_best.get(backend, 0), sessions)
            stalled = sum(1 for stall in library.stalls if stall > 0)
            if p99 < P99_TARGET and stalled == 0:
                best[backend] = max(best.get(backend, 0), sessions)
            # Per event of the world (an LLM token or a TTS chunk, counted by the floor):
            # the library's own events vary with coalescing, the world's do not.
            world_events = floor.events if floor is not None else library.events
            floor_cpu = "-" if floor is None else f"{floor.cpu / world_events * 1e6:.1f}"
            own = "-"
            if floor is not None:
                own = f"{(library.cpu - floor.cpu) / world_events * 1e6:.1f}"
            row = [
                backend,
                str(sessions),
                f"{statistics.median(distances) * 1000:.1f}",
                f"{p99 * 1000:.1f}",
                floor_p99,
                f"{stalled}",
                f"{max(library.stalls):.3f}",
                f"{library.cpu / sessions * 1000:.1f}",
                "-" if floor is None else f"{floor.cpu / sessions * 1000:.1f}",
                f"{library.cpu / world_events * 1e6:.1f}",
                floor_cpu,
                own,
                f"{library.events / sessions:.0f}",
                f"{library.peak_rss_added / sessions / 1024:.0f}",
                "-" if floor is None else f"{floor.peak_rss_added / sessions / 1024:.0f}",
                f"{library.worst_lag * 1000:.1f}",
                "-" if floor is None else f"{floor.worst_lag * 1000:.1f}",
                f"{library.cpu / library.wall * 100:.0f}%",
                f"{library.start_cpu / library.start_wall * 100:.0f}%",
                "-" if floor is None else f"{floor.start_cpu / floor.start_wall * 100:.0f}%",
            ]
            rows.append(row)
            print(" | ".join(row), flush=True)
    headers = [
        "backend",
        "sessions",
        "TTFA - bound, median (ms)",
        "p99 (ms)",
        "floor's p99 (ms)",
        "sessions stalled",
        "worst stall (s)",
        "CPU per session (ms)",
        "floor CPU per session (ms)",
        "CPU per event (µs)",
        "floor CPU per event (µs)",
        "library's own cost per event (µs)",
        "library events per session",
        "memory per session (KB)",
        "floor memory per session (KB)",
        "worst loop lag (ms)",
        "floor worst loop lag (ms)",
        "CPU load",
        "CPU load until every session has audio",
        "floor's",
    ]
    table = markdown_table(headers, rows)
    library_steps, library_events = task_steps(text, "library")
    floor_steps, world_events = task_steps(text, "floor")
    steps_table = markdown_table(
        ["", "task steps per session", "per world event", "events per session"],
        [
            ["library", str(library_steps), f"{library_steps / world_events:.2f}",
             str(library_events)],
            ["floor", str(floor_steps), f"{floor_steps / world_events:.2f}", str(world_events)],
        ],
    )  # fmt: skip
    print(steps_table)
    largest = ", ".join(
        f"{backend}: {best.get(backend, 0) or 'none of those measured'}"
        for backend in args.backends.split(",")
    )
    floor_largest = ", ".join(
        f"{backend}: {floor_best.get(backend, 0) or 'none of those measured'}"
        for backend in args.backends.split(",")
    )
    command = command_line("benchmarks/load.py")
    # A host's GC tuning is a section of its own: the main table stays Python's default.
    section, title = "load", "Load: concurrent sessions in one process"
    if args.gc_threshold:
        section = "load-gc"
        title = f"Load with a host's GC tuning: gc.set_threshold({args.gc_threshold})"
    body = (
        f"## {title}\n\n"
        f"`{command}`; {machine_line()}; load average {load_before:.1f} "
        "before the run (the machine is shared).\n\n"
        f"Real clock. Each session: an LLM at {LLM_TOKENS_PER_SECOND:g} tokens/s writing "
        f"{tokens} tokens ({audio_seconds:.0f} s of audio) after {FIRST_TOKEN_DELAY:g} s, "
        f"a TTS with {TTS_TTFB:g} s to first byte at real-time factor "
        f"{TTS_REALTIME_FACTOR:g} (`e2estream.testing` fakes), `stream_reply` with its "
        f"defaults; the sessions start evenly over {START_SPREAD:g} s, each read by its own "
        f"task. The lower bound of TTFA is {bound * 1000:.0f} ms (the same session alone in "
        "simulated time). The floor is the same fakes consumed without the library; the "
        "library's own cost per event is (library CPU - floor CPU) / the world's events (LLM "
        "tokens and TTS chunks, as the floor counts them: the library's own events are "
        "fewer when it coalesces audio a lagging consumer has not taken yet). "
        "Memory is the peak resident memory added during the run, per session. Worst "
        f"loop lag is the longest a {LAG_TICK * 1000:g} ms sleep of a monitor task "
        "overslept: the floor's shows how much of it the world alone causes. The floor's "
        "TTFA is its first TTS chunk, the TTS started once the LLM has written the first "
        f"segment; its bound is {floor_bound * 1000:.0f} ms, and its p99 beyond that shows "
        "what the world alone costs in TTFA: the library cannot do better. CPU load "
        "is CPU time over wall time (100% = one core; the machine is shared, so expect "
        "noise of a few µs per event); *until every session has audio* is the same from "
        "the first session's start to the last session's first audio (the floor's: its "
        "first TTS chunk), the window every TTFA falls in: near 100% there, sessions "
        "queue for the one core the event loop runs on. Backend *uvloop* is asyncio on "
        "uvloop's event loop "
        "(`anyio.run(..., backend_options={'use_uvloop': True})`), floor included.\n\n"
        f"{table}\n"
        "Scheduling, free of the machine's noise: one session alone in simulated time "
        "(trio's `MockClock`), counting task steps (each time a task wakes up) with a trio "
        "instrument; the world's events are the LLM's tokens and the TTS's chunks.\n\n"
        f"{steps_table}\n"
        f"Largest session count with p99 under {P99_TARGET * 1000:g} ms and no stall: "
        f"{largest}; the floor's p99 under {P99_TARGET * 1000:g} ms: {floor_largest}.\n"
    )
    print(body)
    if not args.no_write:
        write_section(section, body)


if __name__ == "__main__":
    main()
