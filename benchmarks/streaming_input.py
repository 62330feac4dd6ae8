"""Streaming-input TTS (one connection per reply) against per-segment HTTP, same TTFB.

Usage: ``python benchmarks/streaming_input.py`` (or ``nox -s bench``). Prints a table and
writes it to the "streaming-input" section of ``docs/benchmarks.md``.

Both services speak at the same rate (15 characters per second of audio, generated at
real-time factor 0.3) and answer with the same time to first byte. The per-segment one
(``FakeSynthesizer``) pays it on every request; the streaming one
(``FakeStreamingSynthesizer``) pays it for the first audio of the connection and, as
``segment_latency``, for each later flushed segment. The connection is opened when the
reply starts, while the LLM is still thinking. The LLM writes 40 tokens per second after
a first-token delay of 0.3 s. Everything runs in simulated time (trio's ``MockClock``),
so the figures are the pipelines' scheduling, free of machine noise.

Columns: time to first audio beyond the first segment's completion (the TTS's share),
the total stall (audio arriving later than real-time playback needs it), and the least
lead at a segment boundary (how early the next segment's first audio arrived before its
turn to play; negative is a gap the listener hears).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_line, markdown_table, write_section
from e2estream import AudioEvent, DoneEvent, stream_reply
from e2estream.testing import FakeStreamingSynthesizer, FakeSynthesizer, scripted_tokens

T = TypeVar("T")

REPLY = (
    "Sure, here is how the setup works. First, open the settings page and choose the "
    "network tab. Then pick your router from the list, and enter the password printed "
    "on its back. If it does not show up, restart it and wait a minute. That is all; "
    "the light on the front turns green once you are connected. Anything else?"
)


@dataclass(frozen=True)
class Result:
    ttfa: float
    stall: float
    stalls: int
    least_lead: float
    requests: int


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


async def measure(tts: Any) -> Result:
    first_audio: dict[int, tuple[float, float]] = {}  # segment -> (arrival, reply_time)
    start = anyio.current_time()
    done: DoneEvent | None = None
    async with stream_reply(scripted_tokens(REPLY), tts) as events:
        async for event in events:
            if isinstance(event, AudioEvent) and event.segment_index not in first_audio:
                assert event.reply_time is not None
                first_audio[event.segment_index] = (anyio.current_time() - start, event.reply_time)
            elif isinstance(event, DoneEvent):
                done = event
    assert done is not None
    metrics = done.metrics
    assert metrics.time_to_first_audio is not None and metrics.time_to_first_segment is not None
    t0 = first_audio[0][0]
    leads = [
        t0 + reply_time - arrival
        for index, (arrival, reply_time) in first_audio.items()
        if index > 0
    ]
    stats = tts.statistics
    requests = len(stats.texts) if hasattr(stats, "texts") else stats.connections
    return Result(
        ttfa=metrics.time_to_first_audio - metrics.time_to_first_segment,
        stall=metrics.stall_time,
        stalls=metrics.stalls,
        least_lead=min(leads) if leads else 0.0,
        requests=requests,
    )


def main() -> None:
    rows = []
    for ttfb in (0.1, 0.2, 0.4, 0.8):
        kinds: list[tuple[str, Callable[[], Any]]] = [
            ("per-segment HTTP", partial(FakeSynthesizer, ttfb=ttfb)),
            ("streaming input", partial(FakeStreamingSynthesizer, ttfb=ttfb)),
            (
                "streaming input, warm flushes (50 ms)",
                partial(FakeStreamingSynthesizer, ttfb=ttfb, segment_latency=0.05),
            ),
        ]
        for name, make in kinds:
            result = simulated(lambda make=make: measure(make()))
            rows.append(
                [
                    f"{ttfb * 1000:.0f}",
                    name,
                    f"{result.ttfa * 1000:.0f}",
                    f"{result.stall:.2f} ({result.stalls})",
                    f"{result.least_lead * 1000:.0f}",
                    str(result.requests),
                ]
            )
    table = markdown_table(
        [
            "TTFB ms",
            "backend",
            "TTFA beyond first segment, ms",
            "stall s (count)",
            "least lead at a boundary, ms",
            "requests / connections",
        ],
        rows,
    )
    print(table)
    write_section(
        "streaming-input",
        "## Streaming-input TTS against per-segment HTTP\n\n"
        "`python benchmarks/streaming_input.py`, simulated time (trio's MockClock), "
        f"{machine_line()}. The reply has {len(REPLY)} characters in 7 sentences; both "
        "services speak 15 characters per second at real-time factor 0.3. *Warm flushes*: "
        "a service that answers later segments on the open connection in 50 ms.\n\n" + table,
    )


if __name__ == "__main__":
    main()
