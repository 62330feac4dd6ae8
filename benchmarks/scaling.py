"""Scaling past one process: the same host on ``uvicorn --workers 1`` and ``--workers 2``.

Usage: ``python benchmarks/scaling.py`` (about five minutes; ``--quick``: one session
count, about a minute). Writes the "scaling" section of ``docs/benchmarks.md``
(``--no-write`` only prints); ``docs/scaling.md`` explains it.

The host is ``benchmarks/_scaling_app.py``: one SSE endpoint streaming a
``stream_reply`` of the load benchmark's world (LLM 40 tokens/s, TTS 0.2 s to first
byte at real-time factor 0.3), audio events as metadata. A client process opens N
concurrent streams over 1 s on raw sockets (so that the client costs little next to
the server) and measures, per session, the time to the first audio event beyond the
lower bound, and the stall the server's ``DoneEvent`` reports. The client shares the
machine with the workers, as a load balancer would not; the figures are therefore
pessimistic for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _report import command_line, machine_line, markdown_table, write_section  # noqa: E402
from latency import make_reply  # noqa: E402
from load import P99_TARGET, START_SPREAD, lower_bound_ttfa, percentile  # noqa: E402

AUDIO_MARK = b'"type": "audio"'


async def one_session(port: int, tokens: int, start: float) -> tuple[float, float]:
    """Open one stream at ``start``; return (seconds to the first audio event, stall)."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start - loop.time()))
    began = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /reply?tokens={tokens} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
    )
    ttfa = math.nan
    tail = b""
    while True:
        data = await reader.read(65536)
        if not data:
            break
        if math.isnan(ttfa) and AUDIO_MARK in tail[-32:] + data:
            ttfa = loop.time() - began
        tail = (tail + data)[-8192:]
    writer.close()
    await writer.wait_closed()
    # The last event is the DoneEvent, with the reply's metrics (chunked encoding aside).
    done = tail[tail.rindex(b'data: {"type": "done"') + 6 :]
    done = done[: done.index(b"\n\n")]
    return ttfa, float(json.loads(done)["metrics"]["stall_time"])


async def client(port: int, sessions: int, tokens: int) -> list[tuple[float, float]]:
    loop = asyncio.get_running_loop()
    # Warm every worker up first: a process's first reply pays about 0.1 s of lazy
    # imports (anyio's backend, the app's modules), which is no part of the steady state.
    for _ in range(3):
        await asyncio.gather(*(one_session(port, 5, loop.time()) for _ in range(16)))
    first = loop.time() + 0.05
    return await asyncio.gather(
        *(one_session(port, tokens, first + START_SPREAD * i / sessions) for i in range(sessions))
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not start")


def measure(workers: int, sessions: int, tokens: int) -> list[tuple[float, float]]:
    port = free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "_scaling_app:app", "--app-dir", str(HERE)),
        *("--port", str(port), "--workers", str(workers), "--log-level", "warning"),
    ]
    server = subprocess.Popen(command, cwd=HERE)
    try:
        wait_listening(port, server)
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker up, not only the first
        return asyncio.run(client(port, sessions, tokens))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sessions", help="comma-separated session counts")
    parser.add_argument("--tokens", type=int, default=60)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    counts = [400] if args.quick else [200, 400, 600, 800]
    if args.sessions:
        counts = [int(n) for n in args.sessions.split(",")]
    bound = lower_bound_ttfa(make_reply(args.tokens))
    rows: list[list[str]] = []
    held: dict[int, int] = {}
    for workers in (1, 2):
        for sessions in counts:
            results = measure(workers, sessions, args.tokens)
            distances = [ttfa - bound for ttfa, _ in results]
            stalled = sum(1 for _, stall in results if stall > 0)
            p99 = percentile(distances, 0.99)
            if p99 < P99_TARGET and stalled == 0:
                held[workers] = max(held.get(workers, 0), sessions)
            row = [
                str(workers),
                str(sessions),
                f"{statistics.median(distances) * 1000:.1f}",
                f"{p99 * 1000:.1f}",
                str(stalled),
                f"{max(stall for _, stall in results):.3f}",
            ]
            rows.append(row)
            print(" | ".join(row), flush=True)
    headers = [
        "workers",
        "sessions",
        "TTFA - bound, median (ms)",
        "p99 (ms)",
        "sessions stalled",
        "worst stall (s)",
    ]
    held_line = ", ".join(
        f"{workers} worker{'s' if workers > 1 else ''}: {held.get(workers) or 'none measured'}"
        for workers in (1, 2)
    )
    command = command_line("benchmarks/scaling.py")
    body = (
        "## Scaling: worker processes (uvicorn --workers)\n\n"
        f"`{command}`; {machine_line()}; load average {load_before:.1f} "
        "before the run (the machine is shared).\n\n"
        "The host of `benchmarks/_scaling_app.py` (an SSE endpoint streaming one "
        f"`stream_reply` per request: LLM 40 tokens/s, {args.tokens} tokens, TTS 0.2 s to "
        "first byte at real-time factor 0.3) under `uvicorn --workers 1` and `--workers 2`; "
        f"a client process on the same machine opens the sessions evenly over "
        f"{START_SPREAD:g} s on raw sockets. TTFA is measured by the client, to the first "
        f"audio event, beyond the lower bound of {bound * 1000:.0f} ms; stalls are the "
        "`DoneEvent`'s. See [scaling](scaling.md).\n\n"
        f"{markdown_table(headers, rows)}\n"
        f"Sessions held with p99 under {P99_TARGET * 1000:g} ms and no stall: {held_line}.\n"
    )
    print(body)
    if not args.no_write:
        write_section("scaling", body)


if __name__ == "__main__":
    main()
