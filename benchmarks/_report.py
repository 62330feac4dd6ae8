"""Write one benchmark's section of ``docs/benchmarks.md`` without touching the others.

Each benchmark owns the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``;
running one benchmark refreshes its own table and leaves the rest of the page as it was.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Every figure on this page is written by a script in `benchmarks/`; "
    "`nox -s bench` re-runs them all. Each section says the command that produced it.\n"
)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line() -> str:
    """One line describing the interpreter and platform the numbers came from."""
    return (
        f"Python {platform.python_version()} ({sys.implementation.name}) on "
        f"{platform.system()} {platform.machine()}, {_cpu_name()}, {os.cpu_count()} cores"
    )


def command_line(script: str) -> str:
    """The command that reproduces this run, as its section should quote it.

    ``script`` is the path from the project root (``benchmarks/load.py``); the arguments
    are this process's own, less ``--no-write`` (which changes where figures go, not
    what they are).
    """
    return " ".join(["python", script, *(a for a in sys.argv[1:] if a != "--no-write")])


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """Render a GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section called ``name`` in ``docs/benchmarks.md``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}\n"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after.lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
