"""e2estream.testing: the fakes users build their own tests on."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import anyio
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import SynthesisError, TextTiming
from e2estream.testing import FakeSynthesizer, scripted_tokens, split_like_llm

T = TypeVar("T")


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


@given(st.text())
def test_split_like_llm_pieces_concatenate_to_the_text(text: str) -> None:
    pieces = split_like_llm(text)
    assert "".join(pieces) == text
    assert all(pieces)


def test_split_like_llm_keeps_leading_spaces_with_words() -> None:
    assert split_like_llm("Hello, world! 12345") == ["Hello", ",", " world", "!", " 123", "45"]
    with pytest.raises(TypeError, match="takes a str"):
        split_like_llm(b"bytes")  # type: ignore[arg-type]


def test_scripted_tokens_follow_their_schedule_exactly() -> None:
    async def main() -> list[tuple[str, float]]:
        start = anyio.current_time()
        return [
            (token, anyio.current_time() - start)
            async for token in scripted_tokens(
                "One two three.", tokens_per_second=10, first_token_delay=0.5
            )
        ]

    timed = simulated(main)
    assert [t for t, _ in timed] == ["One", " two", " three", "."]
    assert [round(at, 9) for _, at in timed] == [0.5, 0.6, 0.7, 0.8]


def test_scripted_tokens_validate_arguments() -> None:
    async def first(**options: object) -> None:
        async for _ in scripted_tokens("x", **options):  # type: ignore[arg-type]
            break

    cases: list[tuple[dict[str, object], str]] = [
        ({"tokens_per_second": 0}, "tokens_per_second"),
        ({"first_token_delay": -1}, "first_token_delay"),
        ({"jitter": 1.5}, "jitter"),
        ({"tokens": ["y"]}, "concatenate"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            anyio.run(partial(first, **options))


def test_fake_synthesizer_timing_and_duration() -> None:
    tts = FakeSynthesizer(ttfb=0.2, realtime_factor=0.5, chars_per_second=10, chunk_duration=0.1)
    text = "x" * 25  # 2.5 s of audio: 25 chunks

    async def main() -> list[tuple[int, float]]:
        start = anyio.current_time()
        return [
            (len(c), anyio.current_time() - start)
            async for c in tts.synthesize(text)
            if isinstance(c, bytes)
        ]

    chunks = simulated(main)
    assert len(chunks) == 25
    assert sum(n for n, _ in chunks) == 2.5 * 24000 * 2
    assert chunks[0][1] == pytest.approx(0.2)
    assert chunks[-1][1] == pytest.approx(0.2 + 24 * 0.1 * 0.5)
    assert tts.statistics.texts == [text]
    assert tts.statistics.open_streams == 0


def test_fake_synthesizer_failures_and_early_close() -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0, fail_when=lambda t: "bad" in t)

    async def main() -> int:
        received = 0
        with pytest.raises(SynthesisError, match="scripted failure"):
            async for _ in tts.synthesize("bad text"):
                received += 1
        stream = tts.synthesize("a long good text, many chunks")
        async for _ in stream:
            break
        await stream.aclose()
        return received

    assert anyio.run(main) == 0
    assert tts.statistics.failures == 1
    assert tts.statistics.closed_early == 1
    assert tts.statistics.open_streams == 0


def test_fake_synthesizer_validates_arguments() -> None:
    with pytest.raises(ValueError, match="negative"):
        FakeSynthesizer(ttfb=-1)
    with pytest.raises(ValueError, match="positive"):
        FakeSynthesizer(chars_per_second=0)
    with pytest.raises(ValueError, match="pcm_s16le"):
        from e2estream import AudioFormat

        FakeSynthesizer(audio_format=AudioFormat("mp3"))
    assert math.isclose(FakeSynthesizer().audio_duration("x" * 15), 1.0)


def test_fake_synthesizer_word_timings_come_before_the_chunk_they_start_in() -> None:
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0, chars_per_second=10, timings=True)
    text = "one two three four five"  # 2.3 s of audio, words 0.4 s apart

    async def main() -> list[bytes | TextTiming]:
        return [item async for item in tts.synthesize(text)]

    items = simulated(main)
    assert tts.provides_timings
    timings = [item for item in items if isinstance(item, TextTiming)]
    assert [text[t.char_start : t.char_end] for t in timings] == text.split()
    assert [t.start for t in timings] == pytest.approx([0.0, 0.4, 0.8, 1.4, 1.9])
    audio_before = 0.0
    for item in items:
        if isinstance(item, TextTiming):
            # Announced before any audio past its start, and inside the chunk that follows.
            assert audio_before - 1e-9 <= item.start < audio_before + tts.chunk_duration + 1e-9
        else:
            audio_before += len(item) / (24000 * 2)
