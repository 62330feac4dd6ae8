"""A fallback voice of another sample rate is converted to the primary's (16-bit PCM)."""

from __future__ import annotations

import itertools
import math
import sys
from array import array
from collections.abc import AsyncIterator

import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    AudioFormat,
    FallbackSynthesizer,
    SegmentDoneEvent,
    SynthesisError,
    stream_reply,
)

pytestmark = pytest.mark.anyio
RATES = [8000, 16000, 22050, 24000, 44100, 48000]


def pcm(samples: list[int]) -> bytes:
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def samples_of(data: bytes) -> list[int]:
    values = array("h")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return list(values)


class Pieces:
    """A backend yielding ``data`` cut at ``cuts``, at its own format."""

    def __init__(
        self, audio_format: AudioFormat, data: bytes = b"", cuts: tuple[int, ...] = ()
    ) -> None:
        self.audio_format = audio_format
        self.data = data
        self.cuts = cuts

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        points = sorted({c % (len(self.data) + 1) for c in self.cuts} | {0, len(self.data)})
        for a, b in itertools.pairwise(points):
            await anyio.lowlevel.checkpoint()
            yield self.data[a:b]


def convert(data: bytes, source: int, target: int, cuts: list[int], channels: int = 1) -> bytes:
    """``data`` at ``source`` Hz as the target-rate FallbackSynthesizer hands it over."""
    primary = Pieces(AudioFormat("pcm_s16le", target, channels))  # speaks nothing: no audio
    backup = Pieces(AudioFormat("pcm_s16le", source, channels), data, tuple(cuts))
    tts = FallbackSynthesizer([primary, backup])

    async def collect() -> bytes:
        out = b""
        try:
            async for item in tts.synthesize("text"):
                assert isinstance(item, bytes)
                out += item
        except SynthesisError:
            pass  # no audio at all (empty input): every backend "failed"
        return out

    return anyio.run(collect)


def test_a_tone_is_the_same_tone_at_the_new_rate() -> None:
    def tone(rate: int, seconds: float) -> list[int]:
        return [
            round(10000 * math.sin(2 * math.pi * 440 * i / rate))
            for i in range(round(rate * seconds))
        ]

    out = samples_of(convert(pcm(tone(16000, 0.5)), 16000, 24000, []))
    expected = tone(24000, 0.5)
    assert len(out) == len(expected)
    # Linear interpolation of a 440 Hz tone at 16 kHz is off by at most
    # A (2 pi f / rate)^2 / 8, about 37 of 10000; the last frame, past the input's end,
    # holds the last sample.
    assert max(abs(a - b) for a, b in zip(out[:-1], expected[:-1], strict=True)) <= 40


@given(
    samples=st.lists(st.integers(-32768, 32767), max_size=300),
    source=st.sampled_from(RATES),
    target=st.sampled_from(RATES),
    cuts=st.lists(st.integers(0, 700), max_size=12),
    channels=st.sampled_from([1, 2]),
)
def test_the_output_does_not_depend_on_how_the_input_was_cut(
    samples: list[int], source: int, target: int, cuts: list[int], channels: int
) -> None:
    samples = samples[: len(samples) - len(samples) % channels]
    data = pcm(samples)
    whole = convert(data, source, target, [], channels)
    assert convert(data, source, target, cuts, channels) == whole
    frames = len(samples) // channels
    assert len(whole) == 2 * channels * math.ceil(frames * target / source)
    if source == target:
        assert whole == data
    if samples:  # a convex mix of neighbours: never outside the input's range
        assert min(samples) <= min(samples_of(whole)) <= max(samples_of(whole)) <= max(samples)


def test_formats_that_cannot_be_converted_are_refused() -> None:
    with pytest.raises(ValueError, match="only 16-bit PCM"):
        FallbackSynthesizer(
            [Pieces(AudioFormat("pcm_s16le", 24000, 1)), Pieces(AudioFormat("pcm_f32le", 16000, 1))]
        )


class Tone:
    """A backend speaking a constant level at its own rate, or refusing everything."""

    def __init__(self, rate: int, level: int, *, fails: bool = False) -> None:
        self.audio_format = AudioFormat("pcm_s16le", rate, 1)
        self.level = level
        self.fails = fails

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await anyio.lowlevel.checkpoint()
        if self.fails:
            raise SynthesisError("down")
        frames = self.audio_format.sample_rate // 10  # 0.1 s, in odd-sized pieces
        data = pcm([self.level] * frames)
        for i in range(0, len(data), 333):
            yield data[i : i + 333]


async def test_a_fallback_of_another_rate_is_heard_at_the_primarys_rate() -> None:
    tts = FallbackSynthesizer([Tone(24000, 0, fails=True), Tone(16000, 1234)])
    assert tts.audio_format == AudioFormat("pcm_s16le", 24000, 1)

    async def words() -> AsyncIterator[str]:
        for word in ["Hello ", "there. ", "Bye."]:
            await anyio.lowlevel.checkpoint()
            yield word

    async with stream_reply(words(), tts, max_ahead=None) as stream:
        events = [event async for event in stream]
    audio = [e for e in events if isinstance(e, AudioEvent)]
    done = [e for e in events if isinstance(e, SegmentDoneEvent)]
    assert [d.spoken_by for d in done] == ["Tone#2", "Tone#2"]
    assert all(e.format == tts.audio_format for e in audio)
    for segment in done:
        data = b"".join(e.data for e in audio if e.segment_index == segment.segment_index)
        assert set(samples_of(data)) == {1234}
        assert len(data) == 2 * 2400  # 0.1 s at 24 kHz, from 0.1 s at 16 kHz
        assert segment.audio_duration == pytest.approx(0.1)
