"""Audio batching: fewer, larger audio events, the same audio, and never a stall more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import anyio
import pytest
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from e2estream import (
    AudioBatching,
    AudioEvent,
    AudioFormat,
    DoneEvent,
    Event,
    StallEvent,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

T = TypeVar("T")
FORMAT = AudioFormat(sample_rate=8000)  # 16 000 bytes per second
SENTENCES = [
    "One short sentence. ",
    "Then a second, somewhat longer sentence follows it. ",
    "A third. ",
    "And the fourth sentence is the longest of them all, by some way. ",
    "Five. ",
]


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


@dataclass
class JitteryTTS:
    """A TTS whose chunks come after scripted delays, some slower than real time.

    Each segment's audio is its own bytes (so that a test can tell them apart), cut into
    chunks of scripted sizes.
    """

    delays: list[float]  # seconds before each chunk, cycled
    sizes: list[int]  # frames per chunk, cycled
    audio_format: AudioFormat = FORMAT
    calls: int = field(default=0)
    finished: dict[str, float] = field(default_factory=dict)  # when each text's audio ended

    def audio_for(self, text: str) -> bytes:
        frames = len(text) * 8000 // 15  # 15 characters per second, 8 kHz
        pattern = text.encode("utf-8") or b"."
        return (pattern * (2 * frames // len(pattern) + 1))[: 2 * frames]

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        audio = self.audio_for(text)
        position, chunk = 0, self.calls
        self.calls += 1
        while position < len(audio):
            await anyio.sleep(self.delays[chunk % len(self.delays)])
            size = 2 * self.sizes[chunk % len(self.sizes)]
            yield audio[position : position + size]
            position += size
            chunk += 1
        self.finished[text] = anyio.current_time()


@dataclass
class Heard:
    tokens: list[str]
    audio: dict[int, bytes]
    audio_events: int
    stall_events: int
    done: DoneEvent


async def hear(
    tts: JitteryTTS,
    batching: AudioBatching | None,
    *,
    max_buffered_bytes: int = 1 << 20,
    tokens_per_second: float = 40.0,
) -> Heard:
    tokens: list[str] = []
    audio: dict[int, bytes] = {}
    counts = {AudioEvent: 0, StallEvent: 0}
    done: DoneEvent | None = None
    source = scripted_tokens("".join(SENTENCES), tokens_per_second=tokens_per_second)
    async with stream_reply(
        source, tts, audio_batching=batching, max_buffered_bytes=max_buffered_bytes
    ) as events:
        async for event in events:
            _note(event, tokens, audio, counts)
            if isinstance(event, DoneEvent):
                done = event
    assert done is not None
    return Heard(tokens, audio, counts[AudioEvent], counts[StallEvent], done)


def _note(
    event: Event, tokens: list[str], audio: dict[int, bytes], counts: dict[type, int]
) -> None:
    if isinstance(event, TokenEvent):
        tokens.append(event.text)
    elif isinstance(event, AudioEvent):
        audio[event.segment_index] = audio.get(event.segment_index, b"") + event.data
        counts[AudioEvent] += 1
    elif isinstance(event, StallEvent):
        counts[StallEvent] += 1


@settings(max_examples=60, deadline=None)
@given(
    # A run of chunks faster than real time (a chunk is 5 to 200 ms of audio), which
    # builds up the listener's queue, then a pause that may drain it mid-segment; cycled.
    fast_delay=st.sampled_from([0.0, 0.01, 0.03]),
    fast_run=st.integers(1, 40),
    pause=st.sampled_from([0.0, 0.3, 1.6, 3.5]),
    sizes=st.lists(st.integers(40, 1600), min_size=1, max_size=6),
    seconds=st.sampled_from([0.05, 0.25, 0.5, 1.0]),
    min_ahead=st.sampled_from([1.0, 2.0]),
    budget=st.sampled_from([64, 2000, 4000, 1 << 20]),
)
def test_batching_changes_how_audio_is_cut_and_nothing_the_listener_hears(
    fast_delay: float,
    fast_run: int,
    pause: float,
    sizes: list[int],
    seconds: float,
    min_ahead: float,
    budget: int,
) -> None:
    # The same scripted world twice, in simulated time: chunk by chunk, then batched.
    delays = [fast_delay] * fast_run + [pause]

    def run(batching: AudioBatching | None) -> tuple[Heard, dict[str, float]]:
        tts = JitteryTTS(delays, sizes)
        heard = simulated(lambda: hear(tts, batching, max_buffered_bytes=budget))
        return heard, tts.finished

    plain, plain_tts = run(None)
    batched, batched_tts = run(AudioBatching(seconds=seconds, min_ahead=min_ahead))
    assert batched.tokens == plain.tokens
    assert batched.audio == plain.audio  # every byte, in every segment
    # The TTS is read just as fast: audio held back never makes it wait.
    assert batched_tts == pytest.approx(plain_tts, abs=1e-3)
    # The modelled listener waits no longer for audio: no stall is added. (Not the
    # number of stalls: where a chunk comes at the very moment the player runs dry,
    # trio's scheduling order decides whether that counts as a stall of no length.)
    plain_metrics, batched_metrics = plain.done.metrics, batched.done.metrics
    assert batched_metrics.stall_time == pytest.approx(plain_metrics.stall_time, abs=1e-6)
    assert batched_metrics.time_to_first_audio == pytest.approx(plain_metrics.time_to_first_audio)
    spoken, plain_spoken = batched.done.spoken, plain.done.spoken
    assert spoken is not None and plain_spoken is not None
    assert spoken.text == plain_spoken.text and spoken.complete == plain_spoken.complete
    assert spoken.played == pytest.approx(plain_spoken.played, abs=1e-6)


def test_held_audio_is_released_before_a_pausing_tts_lets_the_player_run_dry() -> None:
    # Fast 0.1 s chunks (one every 10 ms) build up the listener's queue, then the TTS
    # pauses for 8 s in the middle of a segment: whatever batching held back must reach
    # the listener before it runs out, so it waits exactly as long as without batching.
    delays = [0.01] * 37 + [8.0]  # 3.5 s into the longest segment (its 36th chunk)
    stalls = []
    for batching in (None, AudioBatching()):
        tts = JitteryTTS(delays, [800])
        heard = simulated(partial(hear, tts, batching, tokens_per_second=400.0))
        stalls.append(heard.done.metrics.stall_time)
    assert stalls[0] > 0  # the pause is longer than the queue: the player did run dry
    assert stalls[1] == pytest.approx(stalls[0], abs=1e-6)


def test_a_tts_never_waits_for_audio_that_batching_holds_back() -> None:
    # A budget of 2000 bytes: 80-byte chunks are held back (a batch is at most a
    # sixteenth of the budget, 125 bytes), and a 2000-byte chunk behind one does not
    # fit. The consumer must take the held audio then, or the TTS waits for it.
    finished = []
    for batching in (None, AudioBatching()):
        tts = JitteryTTS([0.01], [40, 1000])
        simulated(partial(hear, tts, batching, max_buffered_bytes=2000))
        finished.append(tts.finished)
    assert finished[1] == pytest.approx(finished[0], abs=1e-9)


def test_a_listener_with_audio_to_spare_gets_it_in_fewer_larger_events() -> None:
    # A TTS three times faster than real time, in chunks of 0.1 s: once the listener
    # has a second queued, the audio goes out in half-second events.
    async def main() -> tuple[Heard, Heard]:
        tts = FakeSynthesizer(ttfb=0.2, realtime_factor=0.3, audio_format=FORMAT)
        source = "".join(SENTENCES)
        results = []
        for batching in (None, AudioBatching()):
            tokens: list[str] = []
            audio: dict[int, bytes] = {}
            counts = {AudioEvent: 0, StallEvent: 0}
            sizes: list[int] = []
            async with stream_reply(
                scripted_tokens(source), tts, audio_batching=batching
            ) as events:
                async for event in events:
                    _note(event, tokens, audio, counts)
                    if isinstance(event, AudioEvent):
                        sizes.append(len(event.data))
                    if isinstance(event, DoneEvent):
                        done = event
            results.append((Heard(tokens, audio, counts[AudioEvent], 0, done), sizes))
        (plain, plain_sizes), (batched, batched_sizes) = results
        assert max(plain_sizes) == 1600  # 0.1 s chunks, each its own event
        assert max(batched_sizes) == 8000  # 0.5 s events once batching applies
        assert plain_sizes[0] == batched_sizes[0] == 1600  # the first audio is not held
        return plain, batched

    plain, batched = simulated(main)
    assert batched.audio == plain.audio
    assert batched.audio_events < plain.audio_events / 2
    assert batched.done.metrics.stall_time == plain.done.metrics.stall_time == 0


def test_compressed_audio_is_never_batched() -> None:
    mp3 = AudioFormat(encoding="mp3")

    async def main() -> list[int]:
        counts = []
        for batching in (None, AudioBatching()):
            tts = JitteryTTS([0.01], [200], audio_format=mp3)
            heard = await hear(tts, batching)
            counts.append(heard.audio_events)
        return counts

    plain, batched = simulated(main)
    assert plain == batched


def test_bad_batching_settings_are_refused_with_their_name() -> None:
    with pytest.raises(ValueError, match=r"AudioBatching\.seconds"):
        AudioBatching(seconds=0)
    with pytest.raises(ValueError, match=r"AudioBatching\.min_ahead"):
        AudioBatching(min_ahead=float("inf"))
    with pytest.raises(ValueError, match="must not exceed min_ahead"):
        AudioBatching(seconds=2.0, min_ahead=1.0)
    with pytest.raises(TypeError, match=r"AudioBatching\.seconds"):
        AudioBatching(seconds="0.5")  # type: ignore[arg-type]

    async def main() -> None:
        tts = FakeSynthesizer()
        with pytest.raises(TypeError, match="audio_batching must be an AudioBatching"):
            async with stream_reply(["Hi."], tts, audio_batching=0.5):  # type: ignore[arg-type]
                pass

    simulated(main)
