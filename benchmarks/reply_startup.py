"""Reply start-up benchmark: what one reply's segmenter costs, at start-up and in memory.

Usage: ``python benchmarks/reply_startup.py`` (about a minute), ``--quick`` (fewer
repetitions), ``--no-write`` (print only). Prints two tables and writes them to the
"reply-startup" section of ``docs/benchmarks.md``.

Why: ``benchmarks/load.py`` starts up to 1000 ``stream_reply`` sessions within one
second, so every millisecond of CPU a reply spends before its first token is a second
of CPU across the run, paid before the first audio.

For English and German, in one warm process (every figure after warm-up runs):

* **construct**: CPU time of ``IncrementalSegmenter(lang)``, the median over batches;
* **first push**: CPU time of a fresh segmenter's first ``push()`` of a short delta;
* **per token**: CPU time per ``push()`` over the 300-token reply of the load benchmark
  (``make_reply`` of ``benchmarks/latency.py``, split by ``split_like_llm``), flush
  included;
* **retained**: the bytes ``tracemalloc`` counts as held by one segmenter after its
  construction and after it was pushed that reply (the segments it returned dropped);
* **session start**: a whole ``stream_reply`` session (``e2estream.testing``'s fakes,
  no audio): CPU time from the call to its first ``TokenEvent``, then leaving the
  block; and the traced memory one open session holds at that point, over many
  sessions open at once. The segmenter's share is its construct + first push (CPU)
  and its retained bytes after construction (memory) over the session's figures.

CPU time is ``time.process_time_ns`` (the process's CPU, not the wall clock), with
garbage collection enabled as in a server.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table, write_section
from e2estream import IncrementalSegmenter, TokenEvent, stream_reply
from e2estream.testing import FakeSynthesizer, split_like_llm
from latency import make_reply

LANGUAGES = ["en", "de"]
REPLY_TOKENS = 300
FIRST_DELTA = "Sure"  # a typical first token
BATCH = 100  # constructions per timed batch: the clock's own cost stays out of the figure
#: One TTS for the process, as a host has one backend client for all its sessions; its
#: first byte never comes within the measurement (no audio).
TTS = FakeSynthesizer(ttfb=3600.0)


@dataclass
class SegmenterFigures:
    construct_us: float
    first_push_us: float
    per_token_us: float
    retained_new: int
    retained_after_reply: int


@dataclass
class SessionFigures:
    cpu_us: float
    retained: int


def batched_median_us(run_batch: Callable[[], None], batches: int) -> float:
    """Median CPU microseconds of one operation, over ``batches`` batches of ``BATCH``."""
    run_batch()  # warm-up
    samples = []
    for _ in range(batches):
        started = time.process_time_ns()
        run_batch()
        samples.append((time.process_time_ns() - started) / BATCH / 1000)
    return statistics.median(samples)


def construct_us(language: str, batches: int) -> float:
    def batch() -> None:
        for _ in range(BATCH):
            IncrementalSegmenter(language)

    return batched_median_us(batch, batches)


def first_push_us(language: str, batches: int) -> float:
    samples = []
    for _ in range(batches + 1):
        fresh = [IncrementalSegmenter(language) for _ in range(BATCH)]
        started = time.process_time_ns()
        for segmenter in fresh:
            segmenter.push(FIRST_DELTA)
        samples.append((time.process_time_ns() - started) / BATCH / 1000)
    return statistics.median(samples[1:])


def per_token_us(language: str, tokens: list[str], repeats: int) -> float:
    segmenter = IncrementalSegmenter(language)
    samples = []
    for _ in range(repeats + 1):
        started = time.process_time_ns()
        for token in tokens:
            segmenter.push(token)
        segmenter.flush()
        samples.append((time.process_time_ns() - started) / len(tokens) / 1000)
    return statistics.median(samples[1:])


def retained(language: str, tokens: list[str]) -> tuple[int, int]:
    """Traced bytes one segmenter holds when new, and after the reply's pushes."""
    IncrementalSegmenter(language).push(FIRST_DELTA)  # lazy imports and caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        segmenter = IncrementalSegmenter(language)
        new = tracemalloc.get_traced_memory()[0] - before
        for token in tokens:
            segmenter.push(token)  # the segments returned are dropped at once
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del segmenter
    return new, after


def measure_segmenter(language: str, tokens: list[str], quick: bool) -> SegmenterFigures:
    batches = 30 if quick else 200
    new, after = retained(language, tokens)
    return SegmenterFigures(
        construct_us(language, batches),
        first_push_us(language, batches),
        per_token_us(language, tokens, 20 if quick else 100),
        new,
        after,
    )


async def _first_token_then_wait() -> AsyncIterator[str]:
    yield FIRST_DELTA
    await anyio.sleep_forever()


async def _session_to_first_token(language: str) -> None:
    async with stream_reply(_first_token_then_wait(), TTS, language=language) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                break


async def session_cpu_us(language: str, sessions: int) -> float:
    """Median CPU microseconds of one session's start, one session after another."""
    for _ in range(20):
        await _session_to_first_token(language)  # warm-up: imports, caches
    samples = []
    for _ in range(sessions):
        started = time.process_time_ns()
        await _session_to_first_token(language)
        samples.append((time.process_time_ns() - started) / 1000)
    return statistics.median(samples)


async def session_retained(language: str, sessions: int) -> int:
    """Traced bytes per open session at its first token, ``sessions`` open at once."""
    await _session_to_first_token(language)
    reached = anyio.Semaphore(0)
    leave = anyio.Event()

    async def one() -> None:
        async with stream_reply(_first_token_then_wait(), TTS, language=language) as events:
            async for event in events:
                if isinstance(event, TokenEvent):
                    break
            reached.release()
            await leave.wait()

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        async with anyio.create_task_group() as task_group:
            for _ in range(sessions):
                task_group.start_soon(one)
            for _ in range(sessions):
                await reached.acquire()
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
            leave.set()
    finally:
        tracemalloc.stop()
    return held // sessions


def measure_session(language: str, backend: str, quick: bool) -> SessionFigures:
    cpu = anyio.run(session_cpu_us, language, 100 if quick else 500, backend=backend)
    held = anyio.run(session_retained, language, 50 if quick else 200, backend=backend)
    return SessionFigures(cpu, held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()

    tokens = split_like_llm(make_reply(REPLY_TOKENS))
    segmenters = {lang: measure_segmenter(lang, tokens, args.quick) for lang in LANGUAGES}
    rows = [
        [
            lang,
            f"{f.construct_us:.1f}",
            f"{f.first_push_us:.2f}",
            f"{f.per_token_us:.2f}",
            f"{f.retained_new / 1024:.1f}",
            f"{f.retained_after_reply / 1024:.1f}",
        ]
        for lang, f in segmenters.items()
    ]
    table1 = markdown_table(
        [
            "language",
            "construct µs",
            "first push µs",
            f"µs per token ({len(tokens)} tokens)",
            "KiB when new",
            "KiB after the reply",
        ],
        rows,
    )
    print(table1)

    rows = []
    for lang in LANGUAGES:
        seg = segmenters[lang]
        for backend in ["asyncio", "trio"]:
            session = measure_session(lang, backend, args.quick)
            cpu_share = (seg.construct_us + seg.first_push_us) / session.cpu_us
            rows.append(
                [
                    lang,
                    backend,
                    f"{session.cpu_us:.0f}",
                    f"{cpu_share:.1%}",
                    f"{session.retained / 1024:.1f}",
                    f"{seg.retained_new / session.retained:.1%}",
                ]
            )
    table2 = markdown_table(
        [
            "language",
            "backend",
            "session start µs CPU",
            "segmenter's share",
            "KiB per open session",
            "segmenter's share",
        ],
        rows,
    )
    print(table2)

    if not args.no_write:
        body = (
            "## Reply start-up: the segmenter's cost per reply\n\n"
            f"`python benchmarks/reply_startup.py`{' --quick' if args.quick else ''}. "
            f"{machine_line()}.\n\n"
            "CPU time (`time.process_time_ns`, medians in a warm process) of building an "
            "`IncrementalSegmenter`, of its first `push()` of a short delta, and per "
            f"`push()` over the {REPLY_TOKENS}-token reply of the load benchmark; and the "
            "bytes `tracemalloc` counts as held by one segmenter when new and after that "
            "reply:\n\n"
            + table1
            + "\nOne `stream_reply` session (`e2estream.testing` fakes, no audio) from the "
            "call to its first `TokenEvent`: the CPU time, one session after another, "
            "and the traced memory one session holds at that point, with many open at "
            "once. The segmenter's share is its construct + first push, and its bytes "
            "when new:\n\n" + table2
        )
        write_section("reply-startup", body)


if __name__ == "__main__":
    main()
