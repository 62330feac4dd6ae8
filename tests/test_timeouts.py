"""The pipeline bounds any synthesizer's time to first audio and its stalls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import TypeVar

import anyio
import pytest
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ErrorEvent,
    Event,
    SegmentDoneEvent,
    SynthesisTimeout,
    SynthesisTimeouts,
    Synthesizer,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer

T = TypeVar("T")
SENTENCES = ["The first sentence hangs forever. ", "The second one is fine. ", "So is this."]


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


class Misbehaving:
    """Hangs before any audio on 'hangs', stalls after one chunk on 'stalls'."""

    audio_format = AudioFormat("pcm_s16le", 8000, 1)

    def __init__(self) -> None:
        self.fake = FakeSynthesizer(ttfb=0.1, audio_format=self.audio_format)
        self.closed = 0

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        try:
            if "hangs" in text:
                await anyio.sleep_forever()
            async with aclosing(self.fake.synthesize(text)) as chunks:
                async for chunk in chunks:
                    if isinstance(chunk, bytes):
                        yield chunk
                    if "stalls" in text:
                        await anyio.sleep_forever()
        finally:
            self.closed += 1


async def collect(
    tts: Synthesizer, sentences: list[str], timeouts: SynthesisTimeouts
) -> list[Event]:
    async with stream_reply(sentences, tts, timeouts=timeouts, max_ahead=None) as events:
        return [event async for event in events]


def check(events: list[Event], failed: int, tts: Misbehaving, kind: str) -> None:
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [e.segment_index for e in errors] == [failed]
    assert isinstance(errors[0].error, SynthesisTimeout)
    assert kind in str(errors[0].error)
    done = [e for e in events if isinstance(e, SegmentDoneEvent)]
    assert [d.segment_index for d in done] == [0, 1, 2]
    assert [d.failed for d in done] == [i == failed for i in range(3)]
    # The later segments were still spoken, and the reply ended.
    assert {e.segment_index for e in events if isinstance(e, AudioEvent)} >= {1, 2} - {failed}
    assert isinstance(events[-1], DoneEvent)
    assert tts.closed == 3  # every iterator closed, the hung one included


def test_a_synthesizer_that_never_yields_times_out_and_the_reply_goes_on() -> None:
    tts = Misbehaving()
    events = simulated(lambda: collect(tts, SENTENCES, SynthesisTimeouts(first_byte=5.0)))
    check(events, 0, tts, "no first audio within 5 s")


def test_a_synthesizer_that_stalls_mid_segment_times_out() -> None:
    tts = Misbehaving()
    sentences = ["A first one that is fine. ", "This one stalls after a chunk. ", "The end."]
    events = simulated(lambda: collect(tts, sentences, SynthesisTimeouts(stall=2.0)))
    check(events, 1, tts, "no audio for 2 s")
    stalled_audio = [e for e in events if isinstance(e, AudioEvent) and e.segment_index == 1]
    assert len(stalled_audio) == 1  # the audio it gave before stalling is kept


def test_a_slow_consumer_is_not_a_stall() -> None:
    tts = FakeSynthesizer(ttfb=0.1, realtime_factor=0.1)

    async def main() -> list[Event]:
        timeouts = SynthesisTimeouts(first_byte=1.0, stall=0.5)
        async with stream_reply(
            SENTENCES, tts, timeouts=timeouts, max_buffered_bytes=4096, max_ahead=None
        ) as events:
            seen = []
            async for event in events:
                seen.append(event)
                await anyio.sleep(1.0)  # far slower than the stall bound
        return seen

    events = simulated(main)
    assert not [e for e in events if isinstance(e, ErrorEvent)]


@pytest.mark.anyio
async def test_timeouts_on_both_backends() -> None:
    tts = Misbehaving()
    events = await collect(tts, SENTENCES, SynthesisTimeouts(first_byte=0.2))
    check(events, 0, tts, "no first audio within 0.2 s")


def test_timeouts_are_validated() -> None:
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match=r"SynthesisTimeouts\.first_byte must be a positive"):
            SynthesisTimeouts(first_byte=bad)
    with pytest.raises(TypeError, match=r"SynthesisTimeouts\.stall must be seconds or None"):
        SynthesisTimeouts(stall="3")  # type: ignore[arg-type]
    assert SynthesisTimeouts(first_byte=None, stall=None).deadline(5.0, started=True) == float(
        "inf"
    )


class _Gaps:
    """Yields one chunk after each gap, then hangs; records when it was closed."""

    audio_format = AudioFormat("pcm_s16le", 8000, 1)

    def __init__(self, gaps: list[float]) -> None:
        self.gaps = gaps
        self.last_audio = 0.0
        self.closed_at = 0.0

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        try:
            for gap in self.gaps:
                await anyio.sleep(gap)
                self.last_audio = anyio.current_time()
                yield b"\0\0" * 80
            await anyio.sleep_forever()
        finally:
            self.closed_at = anyio.current_time()


@given(
    gaps=st.lists(st.floats(0.0, 0.99), min_size=1, max_size=40),
    stall=st.sampled_from([0.5, 1.0, 3.0]),
)
@settings(max_examples=60, deadline=None)
def test_a_stall_is_detected_after_stall_seconds_and_before_one_and_a_half(
    gaps: list[float], stall: float
) -> None:
    # Audio that keeps coming (every gap under the bound) never times out, however the
    # lazily re-armed timer falls; the stall after the last chunk is cut within 1.5x.
    tts = _Gaps([gap * stall for gap in gaps])

    async def main() -> list[Event]:
        return await collect(tts, ["One sentence."], SynthesisTimeouts(stall=stall))

    events = simulated(main)
    audio = [e for e in events if isinstance(e, AudioEvent)]
    assert sum(len(e.data) for e in audio) == 160 * len(gaps)  # no chunk was cut off
    errors = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and isinstance(errors[0], SynthesisTimeout)
    waited = tts.closed_at - tts.last_audio
    assert stall - 1e-9 <= waited <= 1.5 * stall + 1e-9
