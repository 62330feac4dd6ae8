"""EspeakSynthesizer against the real eSpeak NG library shipped by espeakng-loader.

eSpeak runs hundreds of times faster than real time, so these tests speak real text and
stay fast. Timing claims ("the event loop keeps running") are proved by counting event
loop rounds while the engine is provably busy, never by wall-clock thresholds;
``fail_after`` only turns a deadlock into a failure instead of a hang.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
import threading
from array import array
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ProgressiveSynthesizer,
    Segment,
    SynthesisError,
    Synthesizer,
    TextTiming,
    stream_reply,
)
from e2estream.backends import EspeakSynthesizer
from e2estream.backends import _espeak_binding as binding
from e2estream.backends import _espeak_engine as espeak_engine
from e2estream.backends.espeak import EspeakVoice
from e2estream.testing import scripted_tokens

pytestmark = pytest.mark.anyio

SAMPLE_RATE = EspeakSynthesizer.native_sample_rate()
#: Bytes per callback: ``_BUFFER_MS`` of 16-bit mono audio (eSpeak rounds up a sample).
BUFFER_BYTES = (espeak_engine.BUFFER_MS * SAMPLE_RATE // 1000 + 1) * 2
ENGLISH = "The quick brown fox jumps over the lazy dog, and then it runs away into the woods."
GERMAN = "Der schnelle braune Fuchs springt über den faulen Hund und läuft dann in den Wald."
#: About 160 s of speech at 175 words per minute: far more than one call may buffer.
VERY_LONG = " ".join(f"This is sentence number {i} of a very long reply." for i in range(50))
TIMEOUT = 20  # a safety net against deadlocks, not a performance assertion


async def speak(tts: EspeakSynthesizer, text: str) -> list[bytes]:
    """The audio chunks of ``text`` (the word timings among them left out)."""
    return [item async for item in tts.synthesize(text) if isinstance(item, bytes)]


async def speak_with_timings(
    tts: EspeakSynthesizer, text: str
) -> tuple[list[tuple[float, TextTiming]], float]:
    """Each timing with the seconds of audio yielded before it, and the total seconds."""
    timings: list[tuple[float, TextTiming]] = []
    audio = 0
    async for item in tts.synthesize(text):
        if isinstance(item, TextTiming):
            timings.append((audio / 2 / SAMPLE_RATE, item))
        else:
            audio += len(item)
    return timings, audio / 2 / SAMPLE_RATE


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / SAMPLE_RATE


def rms(pcm: bytes) -> float:
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@pytest.fixture
def engine() -> espeak_engine.Engine:
    return espeak_engine.get_engine()


@pytest.fixture
def job_log(engine: espeak_engine.Engine) -> Iterator[espeak_engine.JobLog]:
    """What the engine did during the test (its watch() seam)."""
    with engine.watch() as log:
        yield log


@pytest.fixture
def jobs(job_log: espeak_engine.JobLog) -> list[espeak_engine.Job]:
    """Every job submitted to the engine during the test, in submission order."""
    return job_log.jobs


async def engine_idle(engine: espeak_engine.Engine) -> None:
    """Wait (off the event loop) until the engine has run everything queued so far."""
    await anyio.to_thread.run_sync(engine.call, lambda: None)


@contextmanager
def engine_held(engine: espeak_engine.Engine) -> Iterator[threading.Event]:
    """Keep the engine thread busy until the yielded event is set (or the block ends)."""
    gate = threading.Event()

    def hold() -> None:
        gate.wait()

    engine.submit(hold)
    try:
        yield gate
    finally:
        gate.set()


# --- speech --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "identifier"),
    [("en", ENGLISH, "gmw/en"), ("de", GERMAN, "gmw/de")],
)
async def test_speaks_non_silent_pcm_of_plausible_duration(
    language: str, text: str, identifier: str
) -> None:
    tts = EspeakSynthesizer(language=language)
    assert tts.voice.identifier == identifier
    assert tts.audio_format == AudioFormat("pcm_s16le", SAMPLE_RATE, 1)
    chunks = await speak(tts, text)
    assert chunks
    assert all(chunk and len(chunk) % 2 == 0 for chunk in chunks)
    pcm = b"".join(chunks)
    words = len(text.split())
    expected = words / (175 / 60)  # eSpeak's default rate is 175 words per minute
    assert expected / 2 < seconds(pcm) < expected * 2
    assert rms(pcm) > 500  # speech, not silence (full scale is 32767)


async def test_long_sentence_streams_in_many_callback_sized_chunks() -> None:
    chunks = await speak(EspeakSynthesizer(), ENGLISH)
    assert len(chunks) > 10
    # One chunk per eSpeak callback buffer, not one blob at the end.
    assert max(map(len, chunks)) <= BUFFER_BYTES


async def test_chunks_flow_while_espeak_is_still_synthesizing(
    jobs: list[espeak_engine.Job],
) -> None:
    # With room for a single chunk, eSpeak must wait for the consumer after each one:
    # the whole text can only come through if chunks are handed over mid-synthesis.
    tts = EspeakSynthesizer(max_buffered_seconds=0.01)
    received = 0
    with anyio.fail_after(TIMEOUT):
        async for chunk in tts.synthesize(ENGLISH):
            if isinstance(chunk, TextTiming):
                continue
            received += len(chunk)
            if received == len(chunk):
                (job,) = jobs
                assert job.started
                assert not job.done  # eSpeak is paused inside espeak_Synth
    assert received / 2 / SAMPLE_RATE > 2.5
    assert jobs[0].done


async def test_empty_text_yields_nothing(jobs: list[espeak_engine.Job]) -> None:
    tts = EspeakSynthesizer()
    assert await speak(tts, "") == []
    assert await speak(tts, " \n\t ") == []
    assert jobs == []  # not even a trip to the engine


async def test_nul_characters_do_not_cut_the_text_short() -> None:
    tts = EspeakSynthesizer()
    whole = seconds(b"".join(await speak(tts, "One two three four five six seven eight.")))
    with_nul = seconds(b"".join(await speak(tts, "One two three four\0 five six seven eight.")))
    assert with_nul > whole * 0.8


async def test_rate_and_pitch_reach_espeak(engine: espeak_engine.Engine) -> None:
    slow = seconds(b"".join(await speak(EspeakSynthesizer(rate=100), ENGLISH)))
    fast = seconds(b"".join(await speak(EspeakSynthesizer(rate=350, pitch=80), ENGLISH)))
    assert fast < slow / 2
    rate, pitch = await anyio.to_thread.run_sync(
        engine.call,
        lambda: (
            engine.lib.espeak_GetParameter(binding.RATE, 1),
            engine.lib.espeak_GetParameter(binding.PITCH, 1),
        ),
    )
    assert (rate, pitch) == (350, 80)


async def test_variant_speaks() -> None:
    tts = EspeakSynthesizer(voice="en+f3")
    assert tts.variant is not None
    assert tts.variant.short_name == "f3"
    assert repr(tts) == "EspeakSynthesizer(voice='gmw/en+f3', rate=175, pitch=50)"
    german = EspeakSynthesizer.for_language("de", variant="m2")
    assert german.variant is not None
    assert german.variant.short_name == "m2"
    assert rms(b"".join(await speak(tts, "Hello there."))) > 500


# --- word timings ------------------------------------------------------------------------

#: Non-ASCII in and before the words: offsets must count characters, not UTF-8 bytes.
NON_ASCII = "Müller café naïve: the señor’s crème brûlée costs more in Zürich."
#: Outside the BMP (one code point, two UTF-16 units), combining marks, CRLF, a tab.
CODE_POINTS = "Look \U0001d4d0 here. Cafe\u0301 ole\u0301!\r\nNew line\tand tab."


def assert_timings_fit(text: str, timings: list[tuple[float, TextTiming]], total: float) -> None:
    """Ordered, whole words, monotone times, each given before (or with) its audio."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    spans = [(timing.char_start, timing.char_end) for _, timing in timings]
    assert set(spans) <= set(words)  # every timing slices exactly one word out
    assert spans == sorted(set(spans))  # in text order, at most one per word
    starts = [timing.start for _, timing in timings]
    assert starts == sorted(starts)
    assert all(0 <= start < total for start in starts)
    # eSpeak reports whole milliseconds; the audio it counts is the audio delivered.
    assert all(timing.start >= before - 0.002 for before, timing in timings)
    assert all(timing.end is None for _, timing in timings)


def sliced(text: str, timings: list[tuple[float, TextTiming]]) -> list[str]:
    return [text[timing.char_start : timing.char_end] for _, timing in timings]


def test_declares_timings_and_compute_bound() -> None:
    assert EspeakSynthesizer.provides_timings is True
    assert EspeakSynthesizer.compute_bound is True


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", ENGLISH), ("de", GERMAN), ("en", NON_ASCII), ("en", CODE_POINTS)],
)
async def test_word_timings_cover_each_word_in_order(language: str, text: str) -> None:
    timings, total = await speak_with_timings(EspeakSynthesizer(language=language), text)
    assert_timings_fit(text, timings, total)
    assert sliced(text, timings) == text.split()
    # Speech at 175 words per minute: the words are spread over the whole audio.
    starts = [timing.start for _, timing in timings]
    assert starts[0] < 0.1
    assert starts[-1] > total / 2
    assert min(b - a for a, b in itertools.pairwise(starts)) > 0.03


async def test_word_times_follow_the_speaking_rate() -> None:
    slow, _ = await speak_with_timings(EspeakSynthesizer(rate=100), ENGLISH)
    fast, _ = await speak_with_timings(EspeakSynthesizer(rate=300), ENGLISH)
    assert [t.char_start for _, t in slow] == [t.char_start for _, t in fast]
    assert fast[-1][1].start < slow[-1][1].start / 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # A number read as five words: one timing, then the next word's own.
        ("I paid 1234 dollars.", ["I", "paid", "1234", "dollars."]),
        # eSpeak reports the word after an expanded abbreviation at the space before it.
        ("etc. done now", ["etc.", "done", "now"]),
        # ... and the second word of a symbol's name ("grinning face") at the space after.
        ("I like \U0001f600 a lot", ["I", "like", "\U0001f600", "a", "lot"]),
        ("   Leading spaces here.", ["Leading", "spaces", "here."]),
    ],
)
async def test_words_espeak_reads_unusually_get_one_timing_each(
    text: str, words: list[str]
) -> None:
    timings, total = await speak_with_timings(EspeakSynthesizer(), text)
    assert_timings_fit(text, timings, total)
    assert sliced(text, timings) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # eSpeak NG 1.52 reports "is" at the "t" of "it" at the end of a clause...
        ("Here it is. Then more.", ["Here", "it", "Then", "more."]),
        # ... and speaks "the" after a preposition as part of it, with no event.
        ("Go with the flow.", ["Go", "with", "flow."]),
    ],
)
async def test_a_word_without_its_own_event_gets_no_timing_rather_than_a_wrong_one(
    text: str, words: list[str]
) -> None:
    timings, total = await speak_with_timings(EspeakSynthesizer(), text)
    assert_timings_fit(text, timings, total)
    assert sliced(text, timings) == words


WORDS = ["alpha", "Straße", "naïve", "river", "mountain", "blue", "façade", "quickly", "über"]


@given(
    st.lists(
        st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", ", ", ". ", "\n", "  "])),
        min_size=1,
        max_size=12,
    )
)
async def test_timings_fit_any_text(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + separator for word, separator in parts)
    timings, total = await speak_with_timings(EspeakSynthesizer(), text)
    assert_timings_fit(text, timings, total)
    assert sliced(text, timings) == [word + sep.strip() for word, sep in parts]


async def test_timings_reach_audio_chunks_in_progressive_synthesizer() -> None:
    text = "Timings travel together with audio they start in."
    segments = [Segment(0, 0, 12, "Hello there."), Segment(1, 13, 13 + len(text), text)]
    found: dict[int, list[str]] = {0: [], 1: []}
    with anyio.fail_after(TIMEOUT):
        async with ProgressiveSynthesizer(EspeakSynthesizer()).stream(segments) as chunks:
            async for chunk in chunks:
                for timing in chunk.timings:
                    speech = chunk.segment.speech_text
                    found[chunk.segment.index].append(speech[timing.char_start : timing.char_end])
                    # Never late: a timing comes with or before the audio it starts in
                    # (the pipeline may hand several over at once, ahead of their audio).
                    assert chunk.start_time is not None
                    assert chunk.start_time - 0.002 <= timing.start
    assert found == {0: ["Hello", "there."], 1: text.split()}


# --- the event loop is never blocked -----------------------------------------------------


async def test_event_loop_keeps_ticking_while_the_engine_is_busy(
    engine: espeak_engine.Engine,
) -> None:
    chunks: list[bytes] = []
    tts = EspeakSynthesizer()

    async def consume() -> None:
        chunks.extend(await speak(tts, ENGLISH))

    ticks = 0
    with anyio.fail_after(TIMEOUT), engine_held(engine) as gate:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(consume)
            for _ in range(200):
                await anyio.lowlevel.checkpoint()
                ticks += 1
            # 200 rounds of the loop ran while synthesize() waited for a busy engine.
            assert chunks == []
            gate.set()
    assert ticks == 200
    assert seconds(b"".join(chunks)) > 2


async def test_event_loop_keeps_ticking_while_espeak_is_mid_synthesis(
    jobs: list[espeak_engine.Job],
) -> None:
    tts = EspeakSynthesizer(max_buffered_seconds=0.01)
    ticks_while_speaking = 0
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as task_group:
            stop = anyio.Event()

            async def ticker() -> None:
                nonlocal ticks_while_speaking
                while not stop.is_set():
                    await anyio.lowlevel.checkpoint()
                    if jobs and jobs[0].started and not jobs[0].done:
                        ticks_while_speaking += 1

            task_group.start_soon(ticker)
            chunks = await speak(tts, ENGLISH)
            stop.set()
    assert len(chunks) > 10
    assert ticks_while_speaking >= len(chunks) - 1


# --- early close, cancellation, errors ---------------------------------------------------


async def test_early_close_aborts_synthesis_and_later_calls_work(
    engine: espeak_engine.Engine, jobs: list[espeak_engine.Job]
) -> None:
    tts = EspeakSynthesizer(max_buffered_seconds=5.0)
    limit = 5.0 * SAMPLE_RATE * 2
    with anyio.fail_after(TIMEOUT):
        audio = tts.synthesize(VERY_LONG)
        for _ in range(3):
            await audio.__anext__()
        await audio.aclose()
        await engine_idle(engine)
    (job,) = jobs
    assert job.cancelled
    assert job.done
    # It stopped at the hand-off bound (5 s) instead of speaking 160 s of text.
    assert job.produced <= limit + 2 * BUFFER_BYTES
    with anyio.fail_after(TIMEOUT):
        assert seconds(b"".join(await speak(tts, "Still working."))) > 0.5


async def test_break_out_of_async_for_aborts(
    engine: espeak_engine.Engine, jobs: list[espeak_engine.Job]
) -> None:
    tts = EspeakSynthesizer()
    with anyio.fail_after(TIMEOUT):
        audio = tts.synthesize(VERY_LONG)
        try:
            async for _ in audio:
                break
        finally:
            await audio.aclose()
        await engine_idle(engine)
    assert jobs[0].cancelled
    assert jobs[0].done


async def test_cancellation_mid_stream_stops_synthesis(
    engine: espeak_engine.Engine, jobs: list[espeak_engine.Job]
) -> None:
    tts = EspeakSynthesizer()
    received = 0
    with anyio.CancelScope() as scope:
        async for chunk in tts.synthesize(VERY_LONG):
            if isinstance(chunk, TextTiming):
                continue
            received += len(chunk)
            if received > 10 * BUFFER_BYTES:
                scope.cancel()
    assert scope.cancelled_caught
    with anyio.fail_after(TIMEOUT):
        await engine_idle(engine)
    assert jobs[0].cancelled
    assert jobs[0].done
    assert seconds(b"".join(await speak(tts, "Hello again."))) > 0.3


async def test_cancelled_while_queued_is_skipped_and_leaves_no_waiter(
    engine: espeak_engine.Engine, jobs: list[espeak_engine.Job]
) -> None:
    tts = EspeakSynthesizer()
    with anyio.fail_after(TIMEOUT), engine_held(engine) as gate:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(speak, tts, ENGLISH)
            while not jobs:  # submitted: now waiting for the held engine in a pool thread
                await anyio.lowlevel.checkpoint()
            task_group.cancel_scope.cancel()
        gate.set()
        await engine_idle(engine)
    (job,) = jobs
    assert job.cancelled
    assert not job.started  # the engine skipped it
    # The abandoned pool-thread wait returned: it was woken by the cancellation.
    with anyio.fail_after(TIMEOUT):
        await anyio.to_thread.run_sync(job.wait)


async def test_espeak_failure_raises_synthesis_error_and_engine_recovers(
    engine: espeak_engine.Engine,
) -> None:
    def unloadable_voice(job: espeak_engine.Job) -> None:
        job.voice = "no/such-voice"  # past the constructor's checks: eSpeak itself fails

    with (
        engine.watch(before_run=unloadable_voice),
        anyio.fail_after(TIMEOUT),
        pytest.raises(SynthesisError, match="no/such-voice"),
    ):
        await speak(EspeakSynthesizer(), "Hello.")
    with anyio.fail_after(TIMEOUT):
        assert seconds(b"".join(await speak(EspeakSynthesizer(), "Hello."))) > 0.3


# --- concurrency -------------------------------------------------------------------------


async def test_concurrent_calls_are_serialized_and_each_gets_its_own_audio(
    engine: espeak_engine.Engine, job_log: espeak_engine.JobLog
) -> None:
    jobs = job_log.jobs
    slow_german = EspeakSynthesizer(language="de", rate=110)
    fast_english = EspeakSynthesizer(language="en", rate=330, pitch=70)
    # Alone first, for reference. eSpeak's output is not bit-exact between runs (its
    # wave generator carries state), so durations are compared, with a tolerance.
    alone = {
        "de": seconds(b"".join(await speak(slow_german, GERMAN))),
        "en": seconds(b"".join(await speak(fast_english, ENGLISH))),
    }
    assert alone["de"] > 2 * alone["en"]
    jobs.clear()
    job_log.runs.clear()
    together: dict[str, float] = {}

    async def run(key: str, tts: EspeakSynthesizer, text: str) -> None:
        together[key] = seconds(b"".join(await speak(tts, text)))

    with anyio.fail_after(TIMEOUT), engine_held(engine) as gate:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run, "de", slow_german, GERMAN)
            task_group.start_soon(run, "en", fast_english, ENGLISH)
            while len(jobs) < 2:  # both calls are waiting for the engine at once
                await anyio.lowlevel.checkpoint()
            gate.set()

    first, second = jobs
    assert [(event, job) for event, job, _ in job_log.runs] == [
        ("start", first),
        ("end", first),
        ("start", second),
        ("end", second),
    ]
    assert {thread for _, _, thread in job_log.runs} == {engine.thread.ident}
    for key in ("de", "en"):
        assert together[key] == pytest.approx(alone[key], rel=0.05)


async def test_works_inside_progressive_synthesizer() -> None:
    tts = EspeakSynthesizer()
    segments = [
        Segment(0, 0, 12, "Hello there."),
        Segment(1, 13, 40, "This is the second segment."),
    ]
    per_segment: dict[int, int] = {0: 0, 1: 0}
    finals = []
    with anyio.fail_after(TIMEOUT):
        async with ProgressiveSynthesizer(tts).stream(segments) as chunks:
            async for chunk in chunks:
                per_segment[chunk.segment.index] += len(chunk.data)
                if chunk.final:
                    assert chunk.error is None
                    finals.append(chunk.segment.index)
    assert finals == [0, 1]
    assert all(size > SAMPLE_RATE for size in per_segment.values())  # > 0.5 s each


async def test_speaks_a_streamed_reply_end_to_end() -> None:
    reply = "Guten Tag! Das ist eine Antwort in zwei Sätzen."
    audio = 0
    async with stream_reply(
        scripted_tokens(reply, tokens_per_second=math.inf, first_token_delay=0),
        EspeakSynthesizer.for_language("de"),
        language="de",
    ) as events:
        with anyio.fail_after(TIMEOUT):
            async for event in events:
                if isinstance(event, AudioEvent):
                    audio += len(event.data)
                elif isinstance(event, DoneEvent):
                    assert event.text == reply
                    assert event.metrics.errors == 0
                    assert event.metrics.segments == 2
    assert audio / 2 / SAMPLE_RATE > 2


# --- construction and options ------------------------------------------------------------


def test_satisfies_the_synthesizer_protocol() -> None:
    tts = EspeakSynthesizer()
    synthesizer: Synthesizer = tts  # checked statically by mypy
    assert isinstance(synthesizer, Synthesizer)
    assert tts.language == "en"
    assert (tts.rate, tts.pitch) == (175, 50)
    assert repr(tts) == "EspeakSynthesizer(voice='gmw/en', rate=175, pitch=50)"


def test_native_sample_rate() -> None:
    assert EspeakSynthesizer.native_sample_rate() == 22050
    assert EspeakSynthesizer(language="fr").audio_format.sample_rate == 22050


@pytest.mark.parametrize(
    ("language", "identifier"),
    [
        ("en", "gmw/en"),
        ("EN_us", "gmw/en-US"),
        ("en-US", "gmw/en-US"),
        ("de", "gmw/de"),
        ("de-AT", "gmw/de"),
        ("fr", "roa/fr"),
        ("fr-CA", "roa/fr"),
        ("es", "roa/es"),
        ("pt-BR", "roa/pt-BR"),
        ("zh", "sit/cmn"),
        ("zh-Hans-CN", "sit/cmn"),
        ("no", "gmq/nb"),
    ],
)
def test_voice_from_language(language: str, identifier: str) -> None:
    assert EspeakSynthesizer(language=language).voice.identifier == identifier
    assert EspeakSynthesizer.for_language(language).voice.identifier == identifier


@pytest.mark.parametrize(
    ("voice", "identifier", "variant"),
    [
        ("en-us", "gmw/en-US", None),
        ("gmw/en-US", "gmw/en-US", None),
        ("English (America)", "gmw/en-US", None),
        ("de", "gmw/de", None),
        ("en+f3", "gmw/en", "f3"),
        ("en+female3", "gmw/en", "f3"),
    ],
)
def test_explicit_voice(voice: str, identifier: str, variant: str | None) -> None:
    tts = EspeakSynthesizer(voice=voice)
    assert tts.voice.identifier == identifier
    assert (tts.variant.short_name if tts.variant else None) == variant


def test_listings() -> None:
    voices = EspeakSynthesizer.available_voices()
    assert EspeakVoice("German", "gmw/de", ("de",)) in voices
    assert "f3" in {variant.short_name for variant in EspeakSynthesizer.available_variants()}
    assert {"de", "en", "en-us", "fr", "es"} <= set(EspeakSynthesizer.available_languages())


async def test_create_loads_without_blocking() -> None:
    tts = await EspeakSynthesizer.create("de", rate=200)
    assert tts.voice.identifier == "gmw/de"
    assert tts.rate == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 79}, "rate must be between 80 and 450"),
        ({"rate": 451}, "rate must be between 80 and 450"),
        ({"pitch": -1}, "pitch must be between 0 and 100"),
        ({"pitch": 101}, "pitch must be between 0 and 100"),
        ({"language": "xx"}, "no voice for language 'xx'"),
        ({"language": ""}, "language must not be empty"),
        ({"voice": "nobody"}, "no voice 'nobody'"),
        ({"voice": "zh"}, "use language='zh'"),
        ({"variant": "nobody"}, "no voice variant 'nobody'"),
        ({"voice": "en+nobody"}, "no voice variant 'nobody'"),
        ({"voice": "en+f3", "variant": "f2"}, "already names a variant"),
        ({"language": "en", "voice": "en"}, "not both"),
        ({"max_buffered_seconds": 0}, "max_buffered_seconds must be a positive, finite"),
        ({"max_buffered_seconds": float("inf")}, "max_buffered_seconds must be a positive"),
    ],
)
def test_bad_options_raise_value_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EspeakSynthesizer(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": "fast"},
        {"rate": True},
        {"pitch": 5.5},
        {"language": 1},
        {"voice": b"en"},
        {"max_buffered_seconds": "1"},
    ],
)
def test_options_of_the_wrong_type_raise_type_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        EspeakSynthesizer(**kwargs)  # type: ignore[arg-type]


async def test_non_str_text_raises_type_error() -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        await speak(EspeakSynthesizer(), b"hello")  # type: ignore[arg-type]


def test_missing_espeakng_loader_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(ImportError, match=r'pip install "e2estream\[espeak\]"'):
        espeak_engine.Engine()
