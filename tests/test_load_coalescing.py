"""Audio a lagging consumer has not taken yet comes as one chunk: same bytes, fewer events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import AudioEvent, Event, SegmentDoneEvent, SegmentEvent, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens
from helpers import FORMAT, ScriptedSynthesizer, expected_audio, split_at

pytestmark = pytest.mark.anyio

replies = st.lists(
    st.tuples(
        st.sampled_from(["Hello", "world", "ok", "Überall", "日本語", "no"]),
        st.sampled_from([" ", ". ", "! ", ", ", "\n\n"]),
    ),
    min_size=1,
    max_size=15,
).map(lambda parts: "".join(w + s for w, s in parts))


async def tokens(pieces: list[str]) -> AsyncIterator[str]:
    for piece in pieces:
        await anyio.lowlevel.checkpoint()
        yield piece


async def consume(reply: str, tts: ScriptedSynthesizer, pauses: list[int]) -> list[Event]:
    """Read every event, passing ``pauses[i]`` checkpoints after event ``i`` (a laggard)."""
    events: list[Event] = []
    async with stream_reply(tokens(split_at(reply, [3, 7, 11])), tts, max_ahead=None) as stream:
        async for event in stream:
            events.append(event)
            for _ in range(pauses[len(events) % len(pauses)] if pauses else 0):
                await anyio.lowlevel.checkpoint()
    return events


def audio_by_segment(events: list[Event]) -> dict[int, bytes]:
    """Each segment's audio, checking that chunks are whole frames laid end to end."""
    audio: dict[int, bytes] = {}
    reply_bytes = 0
    frame = FORMAT.frame_size or 1
    for event in events:
        if isinstance(event, AudioEvent):
            so_far = audio.get(event.segment_index, b"")
            assert event.offset == len(so_far)
            assert len(event.data) % frame == 0
            assert event.reply_time == FORMAT.duration(reply_bytes)
            audio[event.segment_index] = so_far + event.data
            reply_bytes += len(event.data)
        elif isinstance(event, SegmentDoneEvent):
            assert event.audio_bytes == len(audio.get(event.segment_index, b""))
    return audio


@given(
    reply=replies,
    chunk_size=st.integers(1, 9),
    tts_delays=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    pauses=st.lists(st.integers(0, 12), max_size=8),
)
async def test_a_lagging_consumer_gets_the_same_audio_as_a_prompt_one(
    reply: str, chunk_size: int, tts_delays: list[int], pauses: list[int]
) -> None:
    def delays(text: str, index: int) -> int:
        return tts_delays[index % len(tts_delays)]

    laggard = await consume(
        reply, ScriptedSynthesizer(chunk_size=chunk_size, delays=delays), pauses
    )
    prompt = await consume(reply, ScriptedSynthesizer(chunk_size=chunk_size, delays=delays), [])
    segments = {e.segment.index: e.segment for e in laggard if isinstance(e, SegmentEvent)}
    expected = {i: expected_audio(s.speech_text) for i, s in segments.items()}
    assert audio_by_segment(laggard) == expected
    assert audio_by_segment(prompt) == expected


def test_queued_chunks_are_handed_over_as_one() -> None:
    # A consumer that is away for 1 s finds about 1 s / (0.1 s * 0.3) chunks made for the
    # head segment: beyond the events buffered for it, it gets them in a few pieces.
    budget = 1 << 20  # pieces of up to 64 KB: 13 chunks of 4800 bytes

    async def main() -> tuple[int, int, bool]:
        tts = FakeSynthesizer(ttfb=0.1, realtime_factor=0.3, chunk_duration=0.1)
        text = "This sentence takes a few seconds to speak aloud."
        source = scripted_tokens(text, tokens_per_second=1000, first_token_delay=0)
        audio: list[AudioEvent] = []
        async with stream_reply(
            source, tts, max_ahead=None, max_buffered_events=2, max_buffered_bytes=budget
        ) as stream:
            async for event in stream:
                if isinstance(event, AudioEvent):
                    audio.append(event)
                    if len(audio) == 1:
                        await anyio.sleep(1.0)
        reference = b"".join([c async for c in tts.synthesize(text) if isinstance(c, bytes)])
        produced = round(tts.audio_duration(text) / 0.1)
        return len(audio), produced, b"".join(e.data for e in audio) == reference

    clock = trio.testing.MockClock(autojump_threshold=0)
    events, produced, same = anyio.run(main, backend="trio", backend_options={"clock": clock})
    assert same
    assert produced >= 30
    # The first, two buffered, one in hand, then the ~29 chunks left in pieces of 13.
    assert events <= 8
