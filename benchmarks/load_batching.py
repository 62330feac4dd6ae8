"""Audio batching on and off in an overloaded process, side by side.

Usage: ``python benchmarks/load_batching.py`` (or ``nox -s bench``; about 12 minutes),
``--sessions N``, ``--backends asyncio,trio``, ``--pairs K``. Prints a table and writes
it to the "load-batching" section of ``docs/benchmarks.md`` (``--no-write`` only prints).

Past the session count one core holds, every session stalls with or without batching,
and one machine saw batching make the worst stall longer on trio. Runs on one machine
drift by more than the effect, so each pair runs its two children at the same moment,
one per core: ``benchmarks/load.py``'s world and library session, with
``stream_reply``'s default ``AudioBatching()`` ("on") or ``audio_batching=None``
("off").
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load
from _report import command_line, machine_line, markdown_table, write_section
from e2estream import AudioBatching, stream_reply
from latency import make_reply

VARIANTS = {"on": AudioBatching(), "off": None}


def child(variant: str, backend: str, sessions: int, tokens: int) -> None:
    load.stream_reply = functools.partial(stream_reply, audio_batching=VARIANTS[variant])
    text = make_reply(tokens)
    result = load.run_on(backend, load.run_sessions, "library", sessions, text)
    bound = load.lower_bound_ttfa(text)
    stalls = [stall for stall in result.stalls if stall > 0]
    print(
        json.dumps(
            {
                "p99": load.percentile([t - bound for t in result.ttfa], 0.99),
                "stalled": len(stalls),
                "total_stall": sum(stalls),
                "worst_stall": max(result.stalls),
                "cpu_per_session": result.cpu / sessions,
                "events_per_session": result.events / sessions,
                "worst_lag": result.worst_lag,
            }
        )
    )


def run_pair(backend: str, sessions: int, tokens: int) -> dict[str, dict[str, float]]:
    """Both variants at the same moment, each in its own process."""
    running = {
        variant: subprocess.Popen(
            [sys.executable, __file__, "--child", variant, backend, str(sessions), str(tokens)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for variant in VARIANTS
    }
    results = {}
    for variant, process in running.items():
        output, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"the {variant} child failed with exit code {process.returncode}")
        results[variant] = json.loads(output.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--backends", default="asyncio,trio")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", nargs=4, metavar=("VARIANT", "BACKEND", "N", "TOKENS"))
    args = parser.parse_args()
    if args.child:
        variant, backend, sessions, tokens = args.child
        child(variant, backend, int(sessions), int(tokens))
        return
    rows = []
    for backend in args.backends.split(","):
        for pair in range(1, args.pairs + 1):
            for variant, r in run_pair(backend, args.sessions, args.tokens).items():
                row = [
                    backend,
                    str(pair),
                    variant,
                    f"{r['p99'] * 1000:.0f}",
                    f"{r['stalled']:.0f}",
                    f"{r['total_stall']:.1f}",
                    f"{r['worst_stall']:.2f}",
                    f"{r['cpu_per_session'] * 1000:.1f}",
                    f"{r['events_per_session']:.0f}",
                    f"{r['worst_lag'] * 1000:.0f}",
                ]
                rows.append(row)
                print(" | ".join(row), flush=True)
    headers = [
        "backend",
        "pair",
        "batching",
        "TTFA - bound, p99 (ms)",
        "sessions stalled",
        "stall, all sessions (s)",
        "worst stall (s)",
        "CPU per session (ms)",
        "events per session",
        "worst loop lag (ms)",
    ]
    command = command_line("benchmarks/load_batching.py")
    body = (
        "## Load: audio batching on and off, side by side\n\n"
        f"`{command}`; {machine_line()}.\n\n"
        f"{args.sessions} sessions of the load world above ({args.tokens} tokens each), "
        "`stream_reply` with `AudioBatching()` (on) or `audio_batching=None` (off); the "
        "two runs of a pair run at the same moment, one process per core, so they share "
        "the machine's state.\n\n"
        f"{markdown_table(headers, rows)}"
    )
    print(body)
    if not args.no_write:
        write_section("load-batching", body)


if __name__ == "__main__":
    main()
