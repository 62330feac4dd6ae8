"""Barge-in: ReplyStream.interrupt() stops audio at once and says what was heard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import pytest
import trio.testing

from e2estream import (
    AudioEvent,
    DoneEvent,
    Event,
    ReplyStream,
    SegmentDoneEvent,
    SegmentEvent,
    SpokenText,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens

T = TypeVar("T")

REPLY = (
    "The museum opens at nine. Tickets cost twelve euros at the door. "
    "Guided tours start every hour from the main hall. "
    "The cafe on the roof closes at six in the evening."
)


SENTENCES = [sentence + " " for sentence in REPLY.split(". ")]


class SlowLLM:
    """Ten words a second, for as long as it is read; records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False
        self.words = 0

    def __aiter__(self) -> SlowLLM:
        return self

    async def __anext__(self) -> str:
        if self.closed:
            raise StopAsyncIteration
        await anyio.sleep(0.1)
        self.words += 1
        return "word. " if self.words % 6 == 0 else "word "

    async def aclose(self) -> None:
        self.closed = True


def simulated(main: Callable[[], Awaitable[T]]) -> T:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(main, backend="trio", backend_options={"clock": clock})


@dataclass
class Run:
    before: list[Event] = field(default_factory=list)  # events before interrupt() returned
    after: list[Event] = field(default_factory=list)  # events after it returned
    spoken: SpokenText | None = None
    open_streams_at_return: int = -1
    reply_text: str = ""


async def interrupt_when(
    when: Callable[[Event, ReplyStream], bool],
    tts: FakeSynthesizer,
    *,
    played: Callable[[ReplyStream], float | None] = lambda reply: None,
    cancel_llm: bool = True,
    text: str = REPLY,
    source: Any = None,
    wait_before: float = 0.0,
) -> Run:
    run = Run()
    llm = source if source is not None else scripted_tokens(text, tokens_per_second=40)
    async with stream_reply(llm, tts) as reply:
        async for event in reply:
            (run.after if run.spoken is not None else run.before).append(event)
            if run.spoken is None and when(event, reply):
                await anyio.sleep(wait_before)
                run.spoken = await reply.interrupt(played(reply), cancel_llm=cancel_llm)
                run.open_streams_at_return = tts.statistics.open_streams
        run.reply_text = reply.text
    return run


def audio_events(events: list[Event]) -> list[AudioEvent]:
    return [e for e in events if isinstance(e, AudioEvent)]


def check_interrupted(run: Run) -> DoneEvent:
    assert run.spoken is not None
    assert run.open_streams_at_return == 0  # every synthesizer iterator closed
    assert not audio_events(run.after)
    assert not [e for e in run.after if isinstance(e, (SegmentEvent, SegmentDoneEvent))]
    done = run.after[-1]
    assert isinstance(done, DoneEvent)
    assert done.interrupted
    assert done.spoken == run.spoken
    assert run.reply_text.startswith(run.spoken.text)
    return done


def test_interrupt_during_the_first_segments_time_to_first_byte() -> None:
    tts = FakeSynthesizer(ttfb=0.5)

    async def main() -> Run:
        # 0.2 s after the first segment went to the TTS: its request waits for a byte.
        return await interrupt_when(lambda e, r: isinstance(e, SegmentEvent), tts, wait_before=0.2)

    run = simulated(main)
    check_interrupted(run)
    assert run.spoken is not None and run.spoken.text == ""
    assert run.spoken.segment_index is None
    assert not audio_events(run.before)
    assert tts.statistics.closed_early == 1


def test_interrupt_mid_segment_with_exact_timings_cuts_after_the_last_word_started() -> None:
    tts = FakeSynthesizer(ttfb=0.1, chars_per_second=15, timings=True)

    async def main() -> Run:
        return await interrupt_when(
            lambda e, r: isinstance(e, AudioEvent) and e.segment_index == 1 and e.offset > 0,
            tts,
            played=lambda reply: 2.5,
        )

    run = simulated(main)
    check_interrupted(run)
    assert run.spoken is not None and run.spoken.exact
    # 2.5 s of 15 chars/s speech: 37.5 characters; the words of the reply starting
    # before that point are heard.
    first = "The museum opens at nine."
    heard_in_second = 2.5 - len(first) / 15
    second = "Tickets cost twelve euros at the door."
    words = [w for i, w in enumerate(second.split()) if second.index(w) / 15 < heard_in_second]
    assert run.spoken.text == first + " " + " ".join(words)
    assert run.spoken.segment_index == 1


def test_interrupt_between_segments_hears_the_finished_segments() -> None:
    tts = FakeSynthesizer(ttfb=0.2)

    async def main() -> Run:
        return await interrupt_when(
            lambda e, r: isinstance(e, SegmentDoneEvent) and e.segment_index == 0, tts
        )

    run = simulated(main)
    check_interrupted(run)
    assert run.spoken is not None
    assert run.spoken.text == "The museum opens at nine."
    assert run.spoken.exact  # a cut between segments needs no estimate
    assert run.spoken.segment_index == 0


def test_interrupt_after_the_llm_finished() -> None:
    tts = FakeSynthesizer(ttfb=0.2, realtime_factor=0.9)

    async def main() -> Run:
        return await interrupt_when(
            lambda e, r: isinstance(e, AudioEvent) and r.text == REPLY and e.segment_index >= 2,
            tts,
        )

    run = simulated(main)
    done = check_interrupted(run)
    assert done.text == REPLY
    assert run.spoken is not None and 0 < run.spoken.end < len(REPLY)


def test_interrupt_from_another_task_while_the_consumer_is_slow() -> None:
    tts = FakeSynthesizer(ttfb=0.1)
    source = SlowLLM()

    async def main() -> tuple[list[Event], SpokenText, int]:
        seen: list[Event] = []
        async with stream_reply(source, tts, max_buffered_events=2) as reply:
            result: list[SpokenText] = []

            async def barge_in() -> None:
                await anyio.sleep(1.0)
                result.append(await reply.interrupt(played=0.6))

            async with anyio.create_task_group() as group:
                group.start_soon(barge_in)
                async for event in reply:
                    seen.append(event)
                    await anyio.sleep(0.3)  # a slow WebSocket
            open_streams = tts.statistics.open_streams
        return seen, result[0], open_streams

    seen, spoken, open_streams = simulated(main)
    done = seen[-1]
    assert isinstance(done, DoneEvent) and done.interrupted and done.spoken == spoken
    assert open_streams == 0
    assert source.closed  # cancel_llm=True closed the LLM stream
    assert spoken.played == 0.6
    assert not spoken.complete


def test_interrupt_can_read_the_llm_to_the_end_without_speaking() -> None:
    tts = FakeSynthesizer(ttfb=0.1)

    async def main() -> Run:
        return await interrupt_when(
            lambda e, r: isinstance(e, AudioEvent), tts, cancel_llm=False, played=lambda r: 0.0
        )

    run = simulated(main)
    done = check_interrupted(run)
    assert done.text == REPLY  # the whole reply, for the history
    assert [e for e in run.after if isinstance(e, TokenEvent)]  # tokens kept coming
    assert run.spoken is not None and run.spoken.text == ""
    # No request was opened after the interruption.
    assert len(tts.statistics.texts) <= 2


def test_interrupt_twice_and_after_the_end_are_safe() -> None:
    tts = FakeSynthesizer(ttfb=0.1)

    async def main() -> tuple[SpokenText, SpokenText, SpokenText, DoneEvent]:
        async with stream_reply(scripted_tokens(REPLY), tts) as reply:
            async for event in reply:
                if isinstance(event, SegmentDoneEvent):
                    first = await reply.interrupt(played=1.0)
                    second = await reply.interrupt(played=0.0)  # the first one stands
                if isinstance(event, DoneEvent):
                    done = event
            after = await reply.interrupt(played=0.5)  # after the end: the same answer
        return first, second, after, done

    first, second, after, done = simulated(main)
    assert first == second == after == done.spoken
    assert first.played == 1.0


def test_interrupt_after_a_complete_reply_changes_nothing() -> None:
    tts = FakeSynthesizer(ttfb=0.1)

    async def main() -> tuple[DoneEvent, SpokenText]:
        async with stream_reply(scripted_tokens(REPLY), tts) as reply:
            events = [event async for event in reply]
            spoken = await reply.interrupt()
        assert isinstance(events[-1], DoneEvent)
        return events[-1], spoken

    done, spoken = simulated(main)
    assert not done.interrupted
    assert done.spoken is not None and done.spoken.complete and done.spoken.text == REPLY
    assert spoken == done.spoken


@pytest.mark.anyio
async def test_interrupt_rejects_a_bad_played_value() -> None:
    async with stream_reply(["Hello there."], FakeSynthesizer(ttfb=0)) as reply:
        for bad in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="played must be a finite number"):
                await reply.interrupt(bad)
            with pytest.raises(ValueError, match="played must be a finite number"):
                reply.spoken(bad)
        with pytest.raises(ValueError, match="played must be a finite number"):
            reply.report_played(-0.5)
        events = [event async for event in reply]
    assert isinstance(events[-1], DoneEvent) and not events[-1].interrupted


@pytest.mark.anyio
async def test_interrupt_closes_every_request_on_both_backends() -> None:
    tts = FakeSynthesizer(ttfb=0.01, realtime_factor=1.0, chunk_duration=0.02)
    async with stream_reply(SENTENCES, tts, max_concurrency=3) as reply:
        async for event in reply:
            if isinstance(event, AudioEvent):
                spoken = await reply.interrupt()
                assert tts.statistics.open_streams == 0
                assert tts.statistics.closed_early >= 1
                break
        rest = [event async for event in reply]
    assert not audio_events(rest)
    assert isinstance(rest[-1], DoneEvent) and rest[-1].spoken == spoken


def test_interrupt_while_a_paced_segment_waits_for_its_turn() -> None:
    # With pacing, the next segment is queued before its synthesis may start; the
    # consumer waiting on it must still see the stream end.
    tts = FakeSynthesizer(ttfb=0.1, realtime_factor=0.1)

    async def main() -> tuple[list[Event], SpokenText]:
        seen: list[Event] = []
        spoken: list[SpokenText] = []
        async with (
            stream_reply(scripted_tokens(REPLY * 3), tts, max_ahead=1.0) as reply,
            anyio.create_task_group() as group,
        ):

            async def barge_in() -> None:
                await anyio.sleep(8.0)  # well into the reply, with segments held back
                spoken.append(await reply.interrupt())

            group.start_soon(barge_in)
            with anyio.fail_after(60):
                async for event in reply:
                    seen.append(event)
        return seen, spoken[0]

    seen, spoken = simulated(main)
    done = seen[-1]
    assert isinstance(done, DoneEvent) and done.interrupted and done.spoken == spoken
    assert tts.statistics.open_streams == 0


def test_the_reply_announces_its_audio_format_before_any_audio() -> None:
    from e2estream import AudioFormat

    tts = FakeSynthesizer(audio_format=AudioFormat("pcm_s16le", 16000, 1))

    async def main() -> tuple[AudioFormat, int]:
        async with stream_reply(scripted_tokens(REPLY), tts) as reply:
            announced = reply.audio_format  # before the first event
            rates = {
                event.format.sample_rate async for event in reply if isinstance(event, AudioEvent)
            }
        return announced, rates.pop()

    announced, rate = simulated(main)
    assert announced == AudioFormat("pcm_s16le", 16000, 1) and rate == 16000
