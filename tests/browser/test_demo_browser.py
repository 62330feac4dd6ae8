"""The browser demo in a real browser: Debian's Chromium, headless, driven by Playwright.

Run by ``nox -s browser`` (the plain test run leaves this folder out: it needs Playwright
and a Chromium). No browser is downloaded: Playwright starts the system's
``/usr/bin/chromium``. Without it the test fails under CI (``CI`` set) and is skipped
elsewhere, saying why.

What it checks, with the page's own record of what it received and scheduled (times on
the page's clock; audio positions on the AudioContext's clock, never wall-clock
thresholds here):

* the first audio was scheduled for playback before the last token arrived;
* every segment's audio arrived in order, whole, and was scheduled gap-free;
* Interrupt silences the output within 100 ms (an AnalyserNode on the output, read every
  few ms on the AudioContext clock), and the spoken text shown is a prefix of the reply.

A screenshot of each run is saved in ``.artifacts/`` at the top of the repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi_servers import serve_app
from e2estream._demo import REPLIES
from e2estream._demo_web import WebDemoConfig, create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
]
SHORT_REPLY = (
    "The first sentence is short. The second one is a little longer than the first. "
    "And the third one ends the reply."
)
#: Peak amplitude above which the page's meter counts the output as sound (app.js LOUD).
LOUD = 1e-3


def unavailable(reason: str) -> None:
    """Fail under CI, where the browser must be there; skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright; no browser download)")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    pytest.importorskip("espeakng_loader")
    config = WebDemoConfig(voice="espeak", tokens_per_second=30, first_token_delay=0.3)
    with serve_app(create_app(config), "uvicorn-asyncio") as url:
        yield url


@pytest.fixture
def page(browser: Any, demo_url: str) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo_url)
    page.wait_for_selector("#speak:not([disabled])")
    yield page
    page.close()
    assert not errors, errors


def speak(page: Any, text: str) -> None:
    page.select_option("#language", "en")  # fills in that language's built-in reply
    page.fill("#text", text)
    page.click("#speak")


def record(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.e2estreamDemo.record")
    return result


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_reply_plays_while_it_is_written_in_order_and_gap_free(page: Any) -> None:
    speak(page, SHORT_REPLY)
    page.wait_for_function("window.e2estreamDemo.record.done !== null", timeout=60_000)
    # Until the last chunk has played, so the timeline and the meter are complete.
    page.wait_for_function(
        "(() => { const p = window.e2estreamDemo.player; return p.now() > p.playAt + 0.3; })()",
        timeout=60_000,
    )
    screenshot(page, "demo-reply.png")
    r = record(page)
    assert r["text"] == SHORT_REPLY and not r["done"]["interrupted"]

    audio = r["audio"]
    assert audio and not any(chunk["dropped"] for chunk in audio)
    last_token = r["tokens"][-1]["t"]
    assert audio[0]["scheduledAt"] < last_token, "the first audio waited for the whole reply"

    # In order and whole: segment by segment, each chunk where the previous one ended.
    segment_of = [chunk["segment_index"] for chunk in audio]
    assert segment_of == sorted(segment_of)
    assert sorted(set(segment_of)) == [segment["index"] for segment in r["segments"]]
    offset, reply_time = 0, 0.0
    for previous, chunk in zip([None, *audio[:-1]], audio, strict=True):
        if previous is not None and chunk["segment_index"] != previous["segment_index"]:
            offset = 0
        assert chunk["offset"] == offset and chunk["size"] == chunk["announced"]
        assert chunk["reply_time"] == pytest.approx(reply_time, abs=1e-6)
        offset += chunk["size"]
        reply_time += chunk["duration"]
        # Gap-free: each chunk starts exactly where the previous one ends.
        if previous is not None:
            assert chunk["stall"] == 0
            end_of_previous = previous["start"] + previous["duration"]
            assert chunk["start"] == pytest.approx(end_of_previous, abs=1e-9)
    assert len(r["segmentsDone"]) == len(r["segments"]) == 3
    assert max(sample["peak"] for sample in r["meter"]) > 10 * LOUD  # it was heard


def test_interrupt_silences_the_output_and_shows_what_was_heard(page: Any) -> None:
    reply = REPLIES["en"]
    speak(page, reply)
    page.wait_for_function(
        "(() => { const p = window.e2estreamDemo.player;"
        " return p.chunks.length > 0 && p.played(p.now()) > 1.0; })()",
        timeout=60_000,
    )
    page.click("#interrupt")
    page.wait_for_selector("#spoken-line:not([hidden])", timeout=30_000)
    page.wait_for_function(
        "(() => { const r = window.e2estreamDemo.record;"
        " return window.e2estreamDemo.player.now() > r.interrupt.at + 0.6; })()",
        timeout=30_000,
    )
    screenshot(page, "demo-interrupt.png")
    r = record(page)
    interrupt = r["interrupt"]
    at = interrupt["at"]
    # Audio was still to come, so silence is the stop's doing, not the reply's end.
    assert interrupt["scheduledUntil"] - at > 0.3
    before = [sample["peak"] for sample in r["meter"] if sample["at"] <= at]
    after = [sample for sample in r["meter"] if at < sample["at"] <= at + 0.6]
    assert max(before) > 10 * LOUD  # the meter heard the reply playing
    assert len(after) >= 20  # and kept listening after the interrupt
    last_sound = max((s["at"] for s in after if s["peak"] > LOUD), default=at)
    assert last_sound - at <= 0.1, f"still sounding {last_sound - at:.3f} s after Interrupt"
    # Audio the server had in flight when it heard the interrupt is never played.
    assert all(chunk["start"] is None for chunk in r["audio"] if chunk["dropped"])

    done = r["done"]
    assert done["interrupted"]
    shown = page.inner_text("#spoken")
    assert shown == done["spoken"]["text"] == r["spoken"]
    assert shown and reply.startswith(shown) and len(shown) < len(reply)
    assert done["spoken"]["played"] == pytest.approx(interrupt["played"])
    assert interrupt["played"] > 1.0
