"""Streaming-input backends (one connection per reply) through stream_reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    ProgressiveSynthesizer,
    SegmentDoneEvent,
    SegmentEnd,
    SegmentEvent,
    StreamingSynthesizer,
    SynthesisTimeout,
    SynthesisTimeouts,
    TextTiming,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeStreamingSynthesizer, scripted_tokens

T = TypeVar("T")

REPLY = (
    "The museum opens at nine. Tickets cost twelve euros at the door. "
    "Guided tours start every hour from the main hall. "
    "The cafe on the roof closes at six in the evening."
)


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


async def collect(tts: Any, text: str = REPLY, **options: Any) -> list[Event]:
    async with stream_reply(scripted_tokens(text), tts, **options) as events:
        return [event async for event in events]


def audio_by_segment(events: list[Event]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for event in events:
        if isinstance(event, AudioEvent):
            sizes[event.segment_index] = sizes.get(event.segment_index, 0) + len(event.data)
    return sizes


def test_fake_service_satisfies_the_protocol() -> None:
    assert isinstance(FakeStreamingSynthesizer(), StreamingSynthesizer)


@pytest.mark.anyio
async def test_reply_over_one_connection(anyio_backend: str) -> None:
    tts = FakeStreamingSynthesizer(ttfb=0.01, realtime_factor=0, chars_per_second=200)
    events = await collect(tts)
    segments = [event.segment for event in events if isinstance(event, SegmentEvent)]
    done = [event for event in events if isinstance(event, SegmentDoneEvent)]
    # One connection; each segment sent once as a unit ending with a space; then the end.
    assert tts.statistics.connections == 1
    assert tts.statistics.sent == [segment.speech_text + " " for segment in segments]
    assert tts.statistics.log[-2:] == ["end", "close"]
    assert tts.statistics.open_connections == 0
    assert [event.segment_index for event in done] == [segment.index for segment in segments]
    assert not any(event.failed for event in done)
    # Each segment's audio is exactly as long as the service makes it, in segment order.
    frame_bytes = 2 * tts.audio_format.sample_rate
    sizes = audio_by_segment(events)
    for segment in segments:
        expected = round(tts.audio_duration(segment.speech_text) * tts.audio_format.sample_rate)
        assert sizes[segment.index] == expected * 2
    order = [event.segment_index for event in events if isinstance(event, AudioEvent)]
    assert order == sorted(order)
    assert isinstance(events[-1], DoneEvent)
    assert events[-1].metrics.audio_bytes == sum(sizes.values())
    assert frame_bytes > 0


@given(
    sentences=st.lists(
        st.sampled_from(
            [
                "Hi.",
                "Dr. Smith is here.",
                "It costs 3.50 euros!",
                "Why not?",
                "Fine, thanks.",
                "See https://example.org now.",
                "z. B. heute.",
                "Ok",
            ]
        ),
        min_size=1,
        max_size=7,
    ),
    timings=st.booleans(),
    chunk=st.sampled_from([0.02, 0.1, 0.37]),
)
def test_streaming_invariants(sentences: list[str], timings: bool, chunk: float) -> None:
    """Whatever the text, every segment is sent once and its audio delivered once, in order."""
    text = " ".join(sentences)
    tts = FakeStreamingSynthesizer(timings=timings, chunk_duration=chunk)

    events = simulated(lambda: collect(tts, text))

    tokens = "".join(event.text for event in events if isinstance(event, TokenEvent))
    assert tokens == text
    segments = [event.segment for event in events if isinstance(event, SegmentEvent)]
    assert tts.statistics.sent == [
        segment.speech_text + " " for segment in segments if segment.speech_text.strip()
    ]
    last: dict[int, int] = {}
    current = -1
    for event in events:
        if isinstance(event, AudioEvent):
            assert event.segment_index >= current
            current = event.segment_index
            assert event.offset == last.get(event.segment_index, 0)  # no gap, no repeat
            last[event.segment_index] = event.offset + len(event.data)
            for timing in event.timings:
                assert timing.char_end <= len(segments[event.segment_index].speech_text)
    assert not [event for event in events if isinstance(event, ErrorEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.spoken is not None
    assert done.spoken.complete
    assert tts.statistics.open_connections == 0


def test_interrupt_sends_the_cancel_message_and_the_transcript_is_exact() -> None:
    tts = FakeStreamingSynthesizer(timings=True, chars_per_second=15)

    async def main() -> tuple[list[str], Any, int]:
        async with stream_reply(scripted_tokens(REPLY), tts) as reply:
            async for event in reply:
                if isinstance(event, AudioEvent) and event.segment_index == 1:
                    assert event.reply_time is not None
                    spoken = await reply.interrupt(played=event.reply_time + 0.5)
                    return list(tts.statistics.log), spoken, tts.statistics.open_connections
        raise AssertionError("segment 1 never played")

    log, spoken, still_open = simulated(main)
    assert "cancel" in log and log[-1] == "close"
    assert log.index("cancel") < log.index("close")
    assert still_open == 0  # closed before interrupt() returned
    assert spoken.exact and spoken.segment_index == 1
    assert REPLY.startswith(spoken.text) and 0 < len(spoken.text) < len(REPLY)
    # Half a second into segment 1 at 15 chars/s: the words that started by then.
    first = REPLY.index("Tickets")
    heard = REPLY[first : spoken.end]
    assert heard.split() == REPLY[first:].split()[: len(heard.split())]
    assert 1 <= len(heard.split()) <= 3


def test_a_refused_connection_is_retried_before_any_audio() -> None:
    tts = FakeStreamingSynthesizer(fail_connects=2)
    events = simulated(lambda: collect(tts))
    assert tts.statistics.connections == 1
    assert tts.statistics.log.count("connect") == 3
    assert not [event for event in events if isinstance(event, ErrorEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.spoken is not None and done.spoken.complete


def test_a_service_that_stays_down_fails_every_segment_with_an_event() -> None:
    tts = FakeStreamingSynthesizer(fail_connects=100)
    events = simulated(lambda: collect(tts))
    segments = [event.segment for event in events if isinstance(event, SegmentEvent)]
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    done = [event for event in events if isinstance(event, SegmentDoneEvent)]
    assert [event.segment_index for event in errors] == [segment.index for segment in segments]
    assert all(event.failed for event in done)
    assert "connection refused" in str(errors[0].error)
    assert not [event for event in events if isinstance(event, AudioEvent)]
    # A broken service is not hammered: the first segment's attempts, then no more.
    assert tts.statistics.log.count("connect") == 3


def test_a_dropped_connection_fails_only_the_segment_that_was_heard() -> None:
    """The segment cut mid-audio fails; the later ones go out again on a new connection."""
    tts = FakeStreamingSynthesizer(
        drop_when=lambda text: text.startswith("Tickets"), drop_after_chunks=3
    )
    events = simulated(lambda: collect(tts))
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert [event.segment_index for event in errors] == [1]
    assert "dropped" in str(errors[0].error)
    sizes = audio_by_segment(events)
    assert set(sizes) == {0, 1, 2, 3}
    sent = tts.statistics.sent
    assert sum(text.startswith("Tickets") for text in sent) == 1  # never heard twice
    assert tts.statistics.connections == 2
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.metrics.errors == 1


def test_an_idle_close_between_sentences_is_reopened_for_the_next() -> None:
    async def slow_llm() -> AsyncIterator[str]:
        yield "First sentence here. "
        await anyio.sleep(30)  # the LLM thinks longer than the service waits
        yield "Second sentence here."

    tts = FakeStreamingSynthesizer(idle_timeout=5)

    async def main() -> list[Event]:
        async with stream_reply(slow_llm(), tts) as events:
            return [event async for event in events]

    events = simulated(main)
    assert not [event for event in events if isinstance(event, ErrorEvent)]
    assert set(audio_by_segment(events)) == {0, 1}
    assert "idle close" in tts.statistics.log
    assert tts.statistics.connections == 2


class SilentService:
    """Accepts text and never answers (a wedged streaming server)."""

    audio_format = FakeStreamingSynthesizer().audio_format

    def __init__(self) -> None:
        self.connections = 0

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[SilentService]:
        self.connections += 1
        yield self

    async def send_segment(self, text: str) -> None:
        await anyio.lowlevel.checkpoint()

    async def end_input(self) -> None:
        await anyio.lowlevel.checkpoint()

    async def cancel(self) -> None:
        await anyio.lowlevel.checkpoint()

    async def receive(self) -> AsyncIterator[bytes | TextTiming | SegmentEnd]:
        await anyio.sleep_forever()
        yield b""  # pragma: no cover


def test_a_wedged_service_times_out_and_the_reply_ends() -> None:
    service = SilentService()

    async def main() -> list[Event]:
        return await collect(service, "One. Two.", timeouts=SynthesisTimeouts(first_byte=2))

    events = simulated(main)
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert errors and all(isinstance(event.error, SynthesisTimeout) for event in errors)
    assert {event.segment_index for event in errors} == {0, 1}
    assert isinstance(events[-1], DoneEvent)


class EndsWithoutAudio(SilentService):
    """Answers each segment with its end, and no audio."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = anyio.Event()

    async def send_segment(self, text: str) -> None:
        await anyio.lowlevel.checkpoint()
        self.sent.set()

    async def receive(self) -> AsyncIterator[bytes | TextTiming | SegmentEnd]:
        await self.sent.wait()
        yield SegmentEnd()
        await anyio.sleep_forever()


def test_a_segment_ended_without_audio_is_an_error() -> None:
    events = simulated(lambda: collect(EndsWithoutAudio(), "One."))
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert [event.segment_index for event in errors] == [0]
    assert "produced no audio" in str(errors[0].error)


class WrongItems(SilentService):
    async def receive(self) -> AsyncIterator[Any]:
        await anyio.lowlevel.checkpoint()
        yield "not audio"


def test_a_backend_yielding_the_wrong_type_gets_a_clear_error() -> None:
    events = simulated(lambda: collect(WrongItems(), "One."))
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert errors and "must yield bytes, TextTiming or SegmentEnd" in str(errors[0].error)


def test_progressive_synthesizer_takes_a_streaming_backend() -> None:
    tts = FakeStreamingSynthesizer(realtime_factor=0)

    async def main() -> list[int]:
        order = []
        async with ProgressiveSynthesizer(tts).stream(["One two. ", "Three four."]) as chunks:
            async for chunk in chunks:
                if chunk.final:
                    order.append(chunk.segment.index)
        return order

    assert simulated(main) == [0, 1]
    assert tts.statistics.log[0] == "connect" and tts.statistics.log[-1] == "close"


def test_leaving_early_closes_the_connection() -> None:
    tts = FakeStreamingSynthesizer()

    async def main() -> None:
        async with stream_reply(scripted_tokens(REPLY), tts) as events:
            async for event in events:
                if isinstance(event, AudioEvent):
                    break

    simulated(main)
    assert tts.statistics.open_connections == 0
    assert "cancel" in tts.statistics.log


@given(
    count=st.integers(min_value=1, max_value=6),
    refused=st.integers(min_value=0, max_value=4),
    dropped=st.sets(st.integers(min_value=0, max_value=5), max_size=3),
    drop_after=st.integers(min_value=0, max_value=3),
    idle=st.sampled_from([None, 0.5]),
    interrupt_at=st.one_of(st.none(), st.floats(min_value=0.0, max_value=6.0)),
)
def test_faults_never_lose_or_repeat_a_sentence(
    count: int,
    refused: int,
    dropped: set[int],
    drop_after: int,
    idle: float | None,
    interrupt_at: float | None,
) -> None:
    """Whatever breaks, each sentence is heard once, or fails with an event; nothing leaks."""
    sentences = [f"Sentence number {word} is here." for word in "abcdef"[:count]]
    text = " ".join(sentences)
    tts = FakeStreamingSynthesizer(
        timings=True,
        fail_connects=refused,
        drop_when=lambda sent: any(sent.startswith(sentences[i]) for i in dropped if i < count),
        drop_after_chunks=drop_after,
        idle_timeout=idle,
    )

    async def main() -> tuple[list[Event], bool]:
        events: list[Event] = []
        interrupted = False
        async with stream_reply(scripted_tokens(text), tts) as reply:
            async for event in reply:
                events.append(event)
                if (
                    interrupt_at is not None
                    and not interrupted
                    and isinstance(event, AudioEvent)
                    and event.reply_time is not None
                    and event.reply_time >= interrupt_at
                ):
                    await reply.interrupt()
                    interrupted = True
        return events, interrupted

    events, interrupted = simulated(main)

    assert tts.statistics.open_connections == 0
    segments = [event.segment for event in events if isinstance(event, SegmentEvent)]
    done = {event.segment_index: event for event in events if isinstance(event, SegmentDoneEvent)}
    errors = {event.segment_index for event in events if isinstance(event, ErrorEvent)}
    audio: dict[int, int] = {}
    for event in events:
        if isinstance(event, AudioEvent):
            assert event.offset == audio.get(event.segment_index, 0)  # never repeated
            audio[event.segment_index] = event.offset + len(event.data)
    final = events[-1]
    assert isinstance(final, DoneEvent) and final.interrupted == interrupted
    for segment in segments:
        if interrupted and segment.index not in done:
            continue  # cut off by the interruption: reported by DoneEvent.spoken
        assert segment.index in done
        expected = round(tts.audio_duration(segment.speech_text) * 24000) * 2
        if done[segment.index].failed:
            assert segment.index in errors  # a sentence unspoken is always reported
            assert audio.get(segment.index, 0) < expected
        else:
            assert audio.get(segment.index, 0) == expected
    # A sentence is sent again only while none of its audio has been heard.
    for sentence in sentences:
        sends = [sent for sent in tts.statistics.sent if sent.startswith(sentence)]
        assert len(sends) <= 1 + 2  # the first try and at most two reconnects


def test_a_reply_with_nothing_to_speak_opens_and_closes_quietly() -> None:
    tts = FakeStreamingSynthesizer()
    events = simulated(lambda: collect(tts, "```\ncode only\n```"))
    assert not [event for event in events if isinstance(event, (AudioEvent, ErrorEvent))]
    assert tts.statistics.log == ["connect", "close"]
