"""FallbackSynthesizer: a segment goes to the next backend only if nothing of it was heard."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    AudioFormat,
    ErrorEvent,
    Event,
    FallbackSynthesizer,
    FallbackTimeouts,
    RequestSynthesizer,
    SegmentDoneEvent,
    SegmentEvent,
    SynthesisError,
    SynthesisRequest,
    SynthesisTimeout,
    TextTiming,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import scripted_tokens
from helpers import FORMAT

pytestmark = pytest.mark.anyio
T = TypeVar("T")

REPLY = "One is here. Two FAIL now. Three is fine. Four ends it."


class Voice:
    """A backend whose audio says who spoke (``mark`` bytes) and whose faults are scripted.

    ``fault(text)`` returns None (speak), ``"before"`` (raise before any audio),
    ``"after"`` (raise after the first chunk), ``"hang"`` (never answer), ``"empty"``
    (end with no audio) or ``"timing"`` (a timing, then raise).
    """

    def __init__(
        self,
        mark: bytes,
        fault: Callable[[str], str | None] = lambda text: None,
        *,
        audio_format: AudioFormat = FORMAT,
        delay: float = 0.0,
    ) -> None:
        self.mark = mark
        self.fault = fault
        self.audio_format = audio_format
        self.delay = delay
        self.texts: list[str] = []
        self.open_now = 0

    def audio(self, text: str) -> bytes:
        return self.mark * (2 * len(text))

    async def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        self.texts.append(text)
        self.open_now += 1
        try:
            fault = self.fault(text)
            if self.delay:
                await anyio.sleep(self.delay)
            else:
                await anyio.lowlevel.checkpoint()
            if fault == "before":
                raise SynthesisError(f"{self.mark!r} refused")
            if fault == "hang":
                await anyio.sleep_forever()
            if fault == "empty":
                return
            if fault == "timing":
                yield TextTiming(0, 1, 0.0, 0.1)
                raise SynthesisError("broke after a timing")
            audio = self.audio(text)
            half = len(audio) // 2 // 2 * 2
            yield audio[:half]
            if fault == "after":
                raise SynthesisError(f"{self.mark!r} broke mid-segment")
            await anyio.lowlevel.checkpoint()
            yield audio[half:]
        finally:
            self.open_now -= 1


def fails(marker: str, how: str) -> Callable[[str], str | None]:
    return lambda text: how if marker in text else None


async def run(source: object, tts: object) -> list[Event]:
    async with stream_reply(source, tts, max_ahead=None) as events:  # type: ignore[arg-type]
        return [event async for event in events]


async def pieces(text: str) -> AsyncIterator[str]:
    for word in text.split(" "):
        await anyio.lowlevel.checkpoint()
        yield word + " "


def by_segment(events: list[Event]) -> dict[int, tuple[str, bytes, SegmentDoneEvent]]:
    """Each segment's text, audio and done event."""
    texts = {e.segment.index: e.segment.speech_text for e in events if isinstance(e, SegmentEvent)}
    audio: dict[int, bytes] = {}
    for event in events:
        if isinstance(event, AudioEvent):
            audio[event.segment_index] = audio.get(event.segment_index, b"") + event.data
    return {
        e.segment_index: (texts[e.segment_index], audio.get(e.segment_index, b""), e)
        for e in events
        if isinstance(e, SegmentDoneEvent)
    }


@pytest.mark.parametrize("how", ["before", "empty", "timing"])
async def test_a_segment_that_fails_before_its_first_audio_is_spoken_by_the_next(
    how: str,
) -> None:
    primary, secondary = Voice(b"P", fails("FAIL", how)), Voice(b"S")
    tts = FallbackSynthesizer([primary, secondary], names=["primary", "secondary"])
    events = await run(pieces(REPLY), tts)
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    segments = by_segment(events)
    assert len(segments) == 4
    for text, audio, done in segments.values():
        # The first segment went to the primary; "FAIL" failed there and went on; the
        # primary is now cooling down (30 s), so the rest went to the secondary.
        speaker = "primary" if text.startswith("One") else "secondary"
        assert done.spoken_by == speaker and not done.failed
        voice = primary if speaker == "primary" else secondary
        assert audio == voice.audio(text)
        assert done.timings == ()  # the failed backend's timing is not passed on
    assert secondary.texts == [t for t, _, _ in segments.values() if not t.startswith("One")]
    assert primary.open_now == secondary.open_now == 0


async def test_a_segment_that_fails_after_audio_began_is_not_repeated() -> None:
    primary, secondary = Voice(b"P", fails("FAIL", "after")), Voice(b"S")
    events = await run(pieces(REPLY), FallbackSynthesizer([primary, secondary]))
    segments = by_segment(events)
    text, audio, done = segments[1]
    assert "FAIL" in text and done.failed
    assert audio == primary.audio(text)[: len(audio)] and 0 < len(audio) < len(primary.audio(text))
    assert done.spoken_by == "Voice"  # it spoke the part that was heard
    assert text not in secondary.texts  # never retried: it would repeat the heard part
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [e.segment_index for e in errors] == [1]
    assert "mid-segment" in str(errors[0].error)
    # The primary is cooling down: the next segments went to the secondary.
    assert [segments[i][2].spoken_by for i in (0, 2, 3)] == ["Voice", "Voice#2", "Voice#2"]


async def test_when_every_backend_fails_the_segment_fails_and_names_them_all() -> None:
    tts = FallbackSynthesizer(
        [Voice(b"P", fails("FAIL", "before")), Voice(b"S", fails("FAIL", "empty"))],
        names=["primary", "secondary"],
    )
    events = await run(pieces(REPLY), tts)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [e.segment_index for e in errors] == [1]
    message = str(errors[0].error)
    assert isinstance(errors[0].error, SynthesisError)
    assert "primary: b'P' refused" in message and "secondary: it produced no audio" in message
    segments = by_segment(events)
    assert segments[1][2].failed and segments[1][2].spoken_by is None
    assert [segments[i][2].failed for i in (0, 2, 3)] == [False, False, False]


def run_on_trio(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


def test_a_backend_that_hangs_is_given_up_after_its_first_byte_timeout() -> None:
    async def main() -> tuple[list[Event], float]:
        primary = Voice(b"P", fails("FAIL", "hang"))
        tts = FallbackSynthesizer(
            [primary, Voice(b"S")], timeouts=FallbackTimeouts(first_byte=2.0, cooldown=100.0)
        )
        started = anyio.current_time()
        events = await run(pieces("Two FAIL now."), tts)
        assert primary.open_now == 0  # the hanging request was closed
        return events, anyio.current_time() - started

    events, elapsed = run_on_trio(main)
    ((text, audio, done),) = by_segment(events).values()
    assert done.spoken_by == "Voice#2" and audio == b"S" * (2 * len(text))
    assert elapsed == pytest.approx(2.0)  # exactly the primary's first-byte bound


def test_a_failed_backend_cools_down_then_is_probed_with_a_real_segment() -> None:
    # A sentence every 4 s; the primary refuses the first one only, and cools down 10 s.
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
    tokens = [f"{name} is sentence number {i} here. " for i, name in enumerate(names)]
    reply = "".join(tokens)

    async def main() -> list[Event]:
        calls = 0

        def first_fails(text: str) -> str | None:
            nonlocal calls
            calls += 1
            return "before" if calls == 1 else None

        primary = Voice(b"P", first_fails)
        tts = FallbackSynthesizer(
            [primary, Voice(b"S")],
            names=["primary", "secondary"],
            timeouts=FallbackTimeouts(cooldown=10.0),
        )
        source = scripted_tokens(reply, tokens_per_second=0.25, first_token_delay=0, tokens=tokens)
        events = await run(source, tts)
        assert [text.split()[0] for text in primary.texts] == ["Alpha", "Delta", "Echo", "Foxtrot"]
        return events

    events = run_on_trio(main)
    speakers = [done.spoken_by for _, _, done in by_segment(events).values()]
    # Each sentence is complete when the next token comes: Alpha at 4 s fails on the
    # primary (cooling down until 14 s); Bravo (8 s) and Charlie (12 s) skip it; Delta
    # (16 s) probes it, and it speaks again.
    assert speakers == ["secondary", "secondary", "secondary", "primary", "primary", "primary"]


@given(faults=st.lists(st.sampled_from([None, "before", "after", "empty"]), min_size=1, max_size=6))
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_spoken_by_names_the_backend_whose_audio_was_delivered(
    faults: list[str | None],
) -> None:
    # Two replies at once through one shared FallbackSynthesizer, the same texts in both:
    # each reply's events name the backend whose audio that reply actually got.
    texts = [f"Sentence {i}." for i in range(len(faults))]
    plan = dict(zip(texts, faults, strict=True))
    calls: dict[str, int] = {}

    def fault(text: str) -> str | None:
        calls[text] = calls.get(text, 0) + 1
        return plan[text] if calls[text] == 1 else None  # only the first reply's call fails

    voices = [Voice(b"P", fault), Voice(b"S", fault), Voice(b"T")]
    tts = FallbackSynthesizer(voices, timeouts=FallbackTimeouts(cooldown=1e-9))
    results: list[list[Event]] = []

    async def one() -> None:
        results.append(await run(pieces(" ".join(texts)), tts))

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(one)
        task_group.start_soon(one)
    by_name = dict(zip(tts.names, voices, strict=True))
    for events in results:
        assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == " ".join(texts) + " "
        for text, audio, done in by_segment(events).values():
            if done.spoken_by is None:
                assert not audio and done.failed  # every backend failed before audio
                continue
            # One backend's audio, never a mix: all of it, or (failed after audio began)
            # the part that was heard, with nothing repeated.
            expected = by_name[done.spoken_by].audio(text)
            if done.failed:
                assert audio and expected.startswith(audio) and audio != expected
            else:
                assert audio == expected


async def test_previous_text_goes_to_the_backends_that_accept_it() -> None:
    class Prosody(Voice):
        previous: list[str | None]

        def synthesize_request(
            self, request: SynthesisRequest
        ) -> AsyncIterator[bytes | TextTiming]:
            self.previous.append(request.previous_text)
            return super().synthesize(request.text)

    plain, prosody = Voice(b"P", fails("", "before")), Prosody(b"S")
    prosody.previous = []
    tts = FallbackSynthesizer([plain, prosody])
    assert isinstance(tts, RequestSynthesizer)
    await run(pieces("One. Two."), tts)
    assert prosody.previous == [None, "One."]


async def test_construction_refuses_what_cannot_work() -> None:
    mp3 = AudioFormat("mp3", 24000, 1)
    with pytest.raises(ValueError, match=r"one format.*Voice produces .*8000.*mp3.*16-bit PCM"):
        FallbackSynthesizer([Voice(b"P"), Voice(b"S", audio_format=mp3)])
    stereo = AudioFormat("pcm_s16le", 8000, 2)
    with pytest.raises(ValueError, match="channel counts differ"):
        FallbackSynthesizer([Voice(b"P"), Voice(b"S", audio_format=stereo)])
    with pytest.raises(ValueError, match="at least one"):
        FallbackSynthesizer([])
    with pytest.raises(TypeError, match="list of synthesizers"):
        FallbackSynthesizer(Voice(b"P"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a Synthesizer"):
        FallbackSynthesizer([Voice(b"P"), "tts"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="cannot contain another"):
        FallbackSynthesizer([FallbackSynthesizer([Voice(b"P")])])
    with pytest.raises(ValueError, match="one distinct name"):
        FallbackSynthesizer([Voice(b"P"), Voice(b"S")], names=["a", "a"])
    with pytest.raises(ValueError, match="positive"):
        FallbackTimeouts(first_byte=0)
    with pytest.raises(TypeError, match="FallbackTimeouts"):
        FallbackSynthesizer([Voice(b"P")], timeouts=5.0)  # type: ignore[arg-type]
    assert FallbackSynthesizer([Voice(b"P"), Voice(b"S")]).names == ("Voice", "Voice#2")


async def test_a_single_backend_reports_no_speaker() -> None:
    events = await run(pieces("One. Two."), Voice(b"P"))
    assert [d.spoken_by for _, _, d in by_segment(events).values()] == [None, None]


async def test_fallback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    tts = FallbackSynthesizer([Voice(b"P", fails("FAIL", "before")), Voice(b"S")])
    with caplog.at_level(logging.WARNING, logger="e2estream"):
        await run(pieces(REPLY), tts)
    assert any("Voice failed before its first audio" in r.getMessage() for r in caplog.records)
    assert "Voice" in tts.cooling_down()


def test_a_timeout_error_names_the_bound() -> None:
    async def main() -> list[Event]:
        tts = FallbackSynthesizer(
            [Voice(b"P", fails("", "hang"))], timeouts=FallbackTimeouts(first_byte=1.5)
        )
        return await run(pieces("Hello there."), tts)

    events = run_on_trio(main)
    (error,) = [e for e in events if isinstance(e, ErrorEvent)]
    assert isinstance(error.error.__cause__, SynthesisTimeout)
    assert "no first audio within 1.5 s" in str(error.error)
