"""Development tasks: `nox -s tests lint typecheck`, `nox -s demo`, `nox -s bench`."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = False  # nox turns this on when CI is set

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_group(session: nox.Session, *groups: str) -> None:
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on both anyio backends (asyncio and trio)."""
    session.install("-e", ".[espeak]")
    install_group(session, "test")
    session.run("pytest", *session.posargs)


# The HTTP fault suite, run with one client package only: the backends take a client of
# either (and make their own of whichever is installed); token_source reads both kinds of
# response. Without the SDK tests, whose openai/anthropic require httpx2.
HTTP_TESTS = ["tests/faults"]
HTTP_TEST_DEPS = [
    "pytest>=8.3",
    "hypothesis>=6.100",
    "trio>=0.26",
    "pytest-timeout>=2.3",
    "uvicorn>=0.30",
    "starlette>=0.37",
]
ABSENT = "import importlib.util, sys; sys.exit(importlib.util.find_spec({!r}) is not None)"


@nox.session(python="3.11")
def http_httpx_only(session: nox.Session) -> None:
    """The HTTP fault suite with httpx installed and httpx2 not."""
    session.install("-e", ".")
    session.install(*HTTP_TEST_DEPS)
    session.run("python", "-c", ABSENT.format("httpx2"))
    session.run("pytest", *HTTP_TESTS, *session.posargs)


@nox.session(python="3.11")
def http_httpx2_only(session: nox.Session) -> None:
    """The HTTP fault suite with httpx2 installed and httpx not (e2estream without deps)."""
    session.install("--no-deps", "-e", ".")
    session.install("anyio>=4.4", "typing-extensions>=4.10", "httpx2>=2.12", *HTTP_TEST_DEPS)
    session.run("python", "-c", ABSENT.format("httpx"))
    session.run("pytest", *HTTP_TESTS, *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the tests."""
    session.install("-e", ".[espeak]")
    install_group(session, "test", "typecheck")
    session.run("mypy")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Stream a built-in reply through the whole pipeline and speak it (eSpeak NG)."""
    session.install("-e", ".[espeak]")
    session.run("python", "-m", "e2estream", "demo", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run the benchmarks and refresh docs/benchmarks.md."""
    session.install("-e", ".[espeak]")
    install_group(session, "test", "bench")
    session.run("python", "benchmarks/latency.py", *session.posargs)
    session.run("python", "benchmarks/segmentation.py")
