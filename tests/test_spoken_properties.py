"""Properties of the spoken transcript, for any reply, tokenization and playback point."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import DoneEvent, Segment, SegmentEvent, SpokenText, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens
from helpers import split_at

T = TypeVar("T")
CPS = 15.0  # the fake TTS's speaking rate

WORDS = st.sampled_from(
    ["the", "museum", "opens", "at", "nine", "Dr.", "Smith", "3.50", "e.g.", "café", "(ok)"]
)
#: Words the normalizer rewrites: the speech text then differs from the display text.
MARKUP = st.sampled_from(["**bold**", "[link](https://example.com/a)", "_it_", "#tag"])
ENDINGS = st.sampled_from([".", "!", "?", ",", ""])


@st.composite
def replies(draw: st.DrawFn, markup: bool = False) -> str:
    sentences = []
    words_of = st.one_of(WORDS, MARKUP) if markup else WORDS
    for _ in range(draw(st.integers(1, 5))):
        words = draw(st.lists(words_of, min_size=1, max_size=9))
        sentences.append(" ".join(words) + draw(ENDINGS))
    return " ".join(sentences)


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


def transcripts(
    reply: str, cuts: list[int], played: list[float], *, timings: bool
) -> tuple[list[SpokenText], list[Segment], DoneEvent]:
    """Stream ``reply`` whole, then ask what was heard at each playback point."""
    tts = FakeSynthesizer(ttfb=0.05, chars_per_second=CPS, timings=timings)

    async def main() -> tuple[list[SpokenText], list[Segment], DoneEvent]:
        tokens = scripted_tokens(reply, tokens=split_at(reply, cuts), tokens_per_second=50)
        async with stream_reply(tokens, tts) as events:
            seen = [event async for event in events]
            spoken = [events.spoken(p) for p in played]
        segments = [e.segment for e in seen if isinstance(e, SegmentEvent)]
        done = seen[-1]
        assert isinstance(done, DoneEvent)
        return spoken, segments, done

    return simulated(main)


def at_word_boundary(text: str, end: int) -> bool:
    return end in (0, len(text)) or text[end - 1].isspace() or text[end].isspace()


@given(
    replies(markup=True),
    st.lists(st.integers(0, 400), max_size=30),
    st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=8),
    st.booleans(),
)
def test_spoken_text_is_a_monotone_word_boundary_prefix(
    reply: str, cuts: list[int], played: list[float], timings: bool
) -> None:
    played = sorted(played)
    spoken, _, done = transcripts(reply, cuts, [0.0, *played, 1e6], timings=timings)
    for heard in spoken:
        assert reply[: heard.end].rstrip() == heard.text
        assert at_word_boundary(reply, heard.end)
        assert heard.exact or not timings  # timings make every cut exact
    ends = [heard.end for heard in spoken]
    assert ends == sorted(ends)  # more playback never un-hears a word
    assert spoken[0].text == "" and spoken[0].segment_index is None
    assert spoken[-1].text == reply.rstrip() and spoken[-1].complete
    assert done.spoken == spoken[-1] or (done.spoken is not None and done.spoken.complete)


@given(
    replies(),
    st.lists(st.integers(0, 400), max_size=30),
    st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=8),
)
def test_with_exact_timings_the_cut_follows_the_last_word_started(
    reply: str, cuts: list[int], played: list[float]
) -> None:
    spoken, segments, _ = transcripts(reply, cuts, played, timings=True)
    # Where each word of the reply starts in the audio timeline, from the fake's own rate:
    # segment after segment, each word at its offset in the segment's text.
    starts: list[tuple[float, int]] = []  # (seconds, reply offset just past the word)
    timeline = 0.0
    for segment in segments:
        base = reply.index(segment.text, segment.start)
        for word in re.finditer(r"\S+", segment.text):
            starts.append((timeline + word.start() / CPS, base + word.end()))
        timeline += round(len(segment.speech_text) / CPS * 24000) / 24000
    for point, heard in zip(played, spoken, strict=True):
        expected = max((end for start, end in starts if start < point - 1e-9), default=0)
        near = [start for start, _ in starts if abs(start - point) < 1e-6]
        if not near:  # a point exactly on a word's first sample is a tie; skip it
            assert heard.end in (expected, segments_end(segments, expected, reply))
            assert reply[: heard.end].rstrip() == reply[:expected].rstrip()


def segments_end(segments: list[Segment], offset: int, reply: str) -> int:
    """The end of the segment whose last word ends at ``offset`` (a whole segment heard)."""
    for segment in segments:
        if reply[: segment.end].rstrip() == reply[:offset].rstrip():
            return segment.end
    return offset
