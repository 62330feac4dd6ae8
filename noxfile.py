"""Development tasks. `nox` runs tests, lint, typecheck, package, browser and the Python report.

Also: `nox -s demo`, `nox -s demo-web` (the browser demo), `nox -s bench`, `nox -s docs`
(the site, built with --strict).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = [
    "tests",
    "http_httpx_only",
    "http_httpx2_only",
    "lint",
    "typecheck",
    "package",
    "browser",
    "pythons",
]
# Test the interpreters that are installed; never fetch one behind the user's back (a
# missing one is reported by the "pythons" session instead, and fails the run in CI).
nox.options.download_python = "never"
# nox's default: a missing interpreter is an error when CI is set, a skip otherwise.

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")
IN_CI = bool(os.environ.get("CI"))

#: Python version -> the interpreter its tests passed on, in this nox run.
TESTED: dict[str, str] = {}


def expose_pyenv_interpreters() -> list[str]:
    """Put pyenv's 3.10-3.13 on PATH, so that every installed one is tested.

    pyenv's shims only run the versions PYENV_VERSION (or `pyenv global`) selects, so
    without this nox would not find the others and would skip them.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    newest: dict[str, tuple[int, Path]] = {}
    for path in versions.glob("3.*") if versions.is_dir() else ():
        match = re.fullmatch(r"(3\.\d+)\.(\d+)", path.name)
        if match and match[1] in PYTHONS and (path / "bin").is_dir():
            patch = int(match[2])
            if match[1] not in newest or patch > newest[match[1]][0]:
                newest[match[1]] = (patch, path / "bin")
    bins = [str(bin_dir) for _, bin_dir in newest.values()]
    if bins:
        os.environ["PATH"] = os.pathsep.join([*bins, os.environ.get("PATH", "")])
    return sorted(newest)


expose_pyenv_interpreters()


def runs(command: str) -> bool:
    """True if ``command`` is an interpreter that starts (a pyenv shim may not)."""
    path = shutil.which(command)
    return (
        path is not None and subprocess.run([path, "-c", ""], capture_output=True).returncode == 0
    )


def install_group(session: nox.Session, *groups: str) -> None:
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on both anyio backends (asyncio and trio)."""
    session.notify("pythons")  # report which Pythons were tested, whatever happens here
    session.install("-e", ".[espeak,piper]")
    install_group(session, "test")
    session.run("pytest", *session.posargs)
    version = session.run(
        "python", "-c", "import platform; print(platform.python_version())", silent=True
    )
    TESTED[str(session.python)] = str(version).strip()


@nox.session(python=False)
def pythons(session: nox.Session) -> None:
    """Report which of Python 3.10-3.13 were tested; in CI, fail if one was not."""
    untested = [python for python in PYTHONS if python not in TESTED]
    lines = [f"  Python {python}: tested ({TESTED[python]})" for python in TESTED]
    for python in untested:
        if runs(f"python{python}"):
            lines.append(f"  Python {python}: NOT TESTED (its tests session failed or was not run)")
        else:
            lines.append(f"  Python {python}: MISSING (no python{python} found)")
    session.log("Python versions:\n" + "\n".join(sorted(lines)))
    if not untested:
        return
    problem = f"Python {', '.join(untested)} not tested (see above)"
    if IN_CI:
        session.error(problem)
    session.warn(
        f"{problem}. To test a missing version, install it (`uv python install 3.X`, "
        "`pyenv install 3.X`, your distribution's python3.X): nox finds it on PATH and "
        "pyenv's versions by itself."
    )


# The HTTP tests, run with one client package only: the backends take a client of either
# (and make their own of whichever is installed, httpx2 first); token_source reads both
# kinds of response. A case of the absent package is skipped, and the absence is asserted.
# Without the SDK tests (test_sources_live.py): openai and anthropic require httpx2.
HTTP_TESTS = [
    "tests/faults",
    "tests/test_backend_http.py",
    "tests/test_backend_openai.py",
    "tests/test_backend_elevenlabs.py",
    "tests/test_sources_decoders.py",
]
HTTP_TEST_DEPS = [
    "pytest>=8.3",
    "hypothesis>=6.100",
    "trio>=0.26",
    "pytest-timeout>=2.3",
    "uvicorn>=0.30",
    "starlette>=0.37",
]
ABSENT = "import importlib.util, sys; sys.exit(importlib.util.find_spec({!r}) is not None)"


def install_with_http_client(session: nox.Session, package: str) -> None:
    """Install e2estream with its run-time dependencies, ``package`` as the HTTP client."""
    session.install("--no-deps", "-e", ".")
    runtime = PYPROJECT["project"]["dependencies"]
    # httpx2's requirement is the run-time one, httpx's the test group's.
    known = [*runtime, *PYPROJECT["dependency-groups"]["test"]]
    client = next(dep for dep in known if re.match(rf"{package}\b", dep))
    others = [dep for dep in runtime if not dep.startswith("httpx")]
    session.install(*others, client, *HTTP_TEST_DEPS)
    absent = "httpx2" if package == "httpx" else "httpx"
    session.run("python", "-c", ABSENT.format(absent))


@nox.session(python="3.11")
def http_httpx_only(session: nox.Session) -> None:
    """The HTTP tests with httpx installed and httpx2 not (a host with the old client)."""
    install_with_http_client(session, "httpx")
    session.run("pytest", *HTTP_TESTS, *session.posargs)


@nox.session(python="3.11")
def http_httpx2_only(session: nox.Session) -> None:
    """The HTTP tests with httpx2, the run-time dependency, and no httpx."""
    install_with_http_client(session, "httpx2")
    session.run("pytest", *HTTP_TESTS, *session.posargs)


@nox.session(python="3.11")
def thorough(session: nox.Session) -> None:
    """The segmenter's differential fuzz at 100,000 examples (about 17 minutes)."""
    session.install("-e", ".")
    install_group(session, "test")
    session.env["HYPOTHESIS_PROFILE"] = "thorough"
    session.run(
        "pytest", "tests/test_segmenter_differential.py", "--timeout=3600", *session.posargs
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the tests."""
    session.install("-e", ".[espeak,piper]")
    # browser: Playwright's types, for the browser test mypy checks too.
    install_group(session, "test", "typecheck", "browser")
    session.run("mypy")


@nox.session(python="3.11")
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel, install the wheel in a fresh venv and run it."""
    session.install("build[uv]")
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp)
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(dist))
        sdists, wheels = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            session.error(f"expected one sdist and one wheel, built {sorted(dist.iterdir())}")
        session.install(str(wheels[0]))
        # From another directory, so that `import e2estream` cannot find the sources.
        session.chdir(tmp)
        session.run("python", "-m", "e2estream", "--version")
        session.run(
            "python",
            "-c",
            "import e2estream, e2estream.backends, importlib.metadata as m; "
            "assert 'site-packages' in e2estream.__file__, e2estream.__file__; "
            "assert m.version('e2estream') == e2estream.__version__; "
            "assert m.metadata('e2estream')['License-Expression'] == 'MIT'",
        )
        session.run(
            "python", "-m", "e2estream", "demo", "--tts", "fake", "--no-wav",
            "--tokens-per-second", "1000", "--text", "Installed from the wheel. It works.",
        )  # fmt: skip


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material, mkdocstrings) with --strict."""
    session.install("-e", ".")
    install_group(session, "docs")
    site = Path(session.create_tmp()) / "site"
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(site),
        env={"NO_MKDOCS_2_WARNING": "1"},  # the theme's end-of-life notice, not a problem here
    )  # fmt: skip
    session.log(f"Site built in {site}")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Stream a built-in reply through the whole pipeline and speak it (eSpeak NG)."""
    session.install("-e", ".[espeak]")
    session.run("python", "-m", "e2estream", "demo", *session.posargs)


@nox.session(name="demo-web", python="3.11")
def demo_web(session: nox.Session) -> None:
    """Serve the browser demo on http://127.0.0.1:8000/ until Ctrl-C (eSpeak NG)."""
    session.install("-e", ".[espeak,demo]")
    session.run("python", "-m", "e2estream", "demo", "--web", *session.posargs)


#: The browser the "browser" session drives: Debian's (Playwright downloads none).
CHROMIUM = Path("/usr/bin/chromium")


@nox.session(python="3.11")
def browser(session: nox.Session) -> None:
    """The browser demo in headless Chromium, driven by Playwright (tests/browser)."""
    if not CHROMIUM.is_file():
        problem = f"no Chromium at {CHROMIUM}: sudo apt-get install -y chromium"
        if IN_CI:
            session.error(problem)  # .ci/run installs it: missing there is a failure
        session.skip(problem)
    session.install("-e", ".[espeak,demo]")
    install_group(session, "test", "browser")
    session.run("pytest", "tests/browser", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run the benchmarks and refresh docs/benchmarks.md."""
    session.install("-e", ".[espeak,piper]")
    install_group(session, "test", "bench")
    session.run("python", "benchmarks/latency.py", *session.posargs)
    session.run("python", "benchmarks/segmentation.py")
    session.run("python", "benchmarks/interrupt.py")
    session.run("python", "benchmarks/streaming_input.py")
    session.run("python", "benchmarks/first_segment.py")
    session.run("python", "benchmarks/espeak_timings.py")
    session.run("python", "benchmarks/piper_latency.py")
    session.run("python", "benchmarks/reply_startup.py")
    session.run("python", "benchmarks/load.py")
    session.run("python", "benchmarks/load_batching.py")
    session.run("python", "benchmarks/scaling.py")
