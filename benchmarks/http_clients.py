"""httpx against httpx2: install size, import time, client creation, one request's latency.

    python benchmarks/http_clients.py [--requests 400]

Prints a Markdown table (the figures in docs/http-clients.md come from it). Sizes are
the installed files listed in each distribution's RECORD (no bytecode caches). Import
and client-creation times are medians over fresh interpreters (the import is timed
inside the interpreter, so start-up is not counted; caches are warm). Latency is one
streamed POST of 9.6 kB of audio to a uvicorn server on 127.0.0.1 through
``OpenAISpeech`` with a borrowed client of each package (keep-alive, sequential),
on asyncio and trio: median and p99 over ``--requests`` requests after 20 of warm-up
(the server's socket has TCP_NODELAY, as production servers behind a proxy do).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import uvicorn

#: What each package pulls in besides anyio (which the pipeline needs anyway).
CLOSURES = {
    "httpx": ["httpx", "httpcore", "h11", "certifi", "idna", "sniffio"],
    "httpx2": ["httpx2", "httpcore2", "h11", "truststore", "idna"],
}
AUDIO = b"\0\1" * 4800  # 0.2 s of 24 kHz 16-bit mono


def installed_kib(distribution: str) -> float | None:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    total = 0
    for file in dist.files or []:
        path = Path(str(file.locate()))
        if "__pycache__" not in path.parts and path.is_file():
            total += path.stat().st_size
    return total / 1024


def median_in_fresh_interpreters(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        samples.append(float(out))
    return statistics.median(samples)


IMPORT = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"
CREATE = (
    "import time, {0}; t = time.perf_counter(); {0}.AsyncClient(); print(time.perf_counter() - t)"
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"audio/pcm")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": AUDIO, "more_body": False})


@contextmanager
def serving(asgi: Any) -> Iterator[str]:
    """Run ``asgi`` on uvicorn on 127.0.0.1; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without, the response's header and body writes meet
    # Nagle's algorithm and the client's delayed ACK, 40 ms per request on Linux.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def latencies(package: str, url: str, requests: int) -> list[float]:
    from e2estream.backends import OpenAISpeech

    module = importlib.import_module(package)
    samples = []
    async with module.AsyncClient() as client:
        tts = OpenAISpeech(base_url=f"{url}/v1", client=client)
        for i in range(requests + 20):
            started = anyio.current_time()
            received = 0
            async for chunk in tts.synthesize("Hello there."):
                received += len(chunk)
            assert received == len(AUDIO)
            if i >= 20:
                samples.append(anyio.current_time() - started)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))]


def row(label: str, values: dict[str, float], unit: str, scale: float = 1.0) -> None:
    cells = " | ".join(f"{values[package] * scale:.{unit}}" for package in CLOSURES)
    print(f"| {label} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in CLOSURES)
    print(f"Python {sys.version.split()[0]}; {versions}\n")
    print("| | " + " | ".join(CLOSURES) + " |")
    print("| --- |" + " --- |" * len(CLOSURES))
    sizes = {}
    for package, closure in CLOSURES.items():
        parts = {name: installed_kib(name) for name in closure}
        sizes[package] = sum(size for size in parts.values() if size)
        detail = ", ".join(f"{name} {size:.0f}" for name, size in parts.items() if size)
        print(f"<!-- {package} (KiB): {detail} -->")
    row("installed size, KiB (the package and its dependencies but anyio)", sizes, "0f")
    imports = {p: median_in_fresh_interpreters(IMPORT.format(p), args.runs) for p in CLOSURES}
    row(f"`import`, ms (median of {args.runs})", imports, "1f", 1000)
    creates = {p: median_in_fresh_interpreters(CREATE.format(p), args.runs) for p in CLOSURES}
    row(f"first `AsyncClient()`, ms (its TLS context; median of {args.runs})", creates, "1f", 1000)
    with serving(app) as url:
        for backend in ("asyncio", "trio"):
            runs = {
                package: anyio.run(latencies, package, url, args.requests, backend=backend)
                for package in CLOSURES
            }
            medians = {package: statistics.median(samples) for package, samples in runs.items()}
            tails = {package: p99(samples) for package, samples in runs.items()}
            label = f"one request through `OpenAISpeech`, {backend}, ms"
            row(f"{label} (median of {args.requests})", medians, "2f", 1000)
            row(f"{label} (p99 of {args.requests})", tails, "2f", 1000)


if __name__ == "__main__":
    main()
