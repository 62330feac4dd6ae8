"""stream_reply: the DESIGN.md invariants, end to end, on asyncio and trio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    SegmentDoneEvent,
    SegmentEvent,
    TokenEvent,
    stream_reply,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens
from helpers import ScriptedSynthesizer, TrackedSource, expected_audio, split_at

pytestmark = pytest.mark.anyio

# Replies built from words, sentence punctuation and whitespace, so that they really
# contain several segments; plus arbitrary unicode now and then.
words = st.sampled_from(
    ["Hello", "world", "Dr.", "3.14", "ok", "z. B.", "Überall", "日本語", "e.g.", "no", "—"]
)
separators = st.sampled_from([" ", " ", ". ", "! ", "? ", "\n\n", ", ", "… ", "。"])
replies = st.one_of(
    st.lists(st.tuples(words, separators), max_size=25).map(
        lambda parts: "".join(w + s for w, s in parts)
    ),
    st.text(max_size=60),
)


async def run(source: object, tts: object, **options: object) -> list[Event]:
    async with stream_reply(source, tts, **options) as events:  # type: ignore[arg-type]
        return [event async for event in events]


def check_reply(events: list[Event], reply: str) -> None:
    """Invariant 1: nothing lost, nothing duplicated, everything in order."""
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert "".join(t.text for t in tokens) == reply
    assert [t.offset for t in tokens] == [
        sum(len(t.text) for t in tokens[:i]) for i in range(len(tokens))
    ]

    segments = [e.segment for e in events if isinstance(e, SegmentEvent)]
    assert [s.index for s in segments] == list(range(len(segments)))
    position = 0
    for segment in segments:
        assert reply[position : segment.start].strip() == ""
        assert segment.text and segment.text == reply[segment.start : segment.end].strip()
        position = segment.end
    assert reply[position:].strip() == ""
    assert "".join("".join(s.text.split()) for s in segments) == "".join(reply.split())

    # Audio: strictly in segment order, exactly the segment's bytes, framed by its
    # SegmentEvent before and its SegmentDoneEvent after.
    audio_order = [e.segment_index for e in events if isinstance(e, AudioEvent)]
    assert audio_order == sorted(audio_order)
    for segment in segments:
        seg_event = next(
            i for i, e in enumerate(events) if isinstance(e, SegmentEvent) and e.segment is segment
        )
        done_events = [
            i
            for i, e in enumerate(events)
            if isinstance(e, SegmentDoneEvent) and e.segment_index == segment.index
        ]
        assert len(done_events) == 1
        audio = [
            (i, e)
            for i, e in enumerate(events)
            if isinstance(e, AudioEvent) and e.segment_index == segment.index
        ]
        assert all(seg_event < i < done_events[0] for i, _ in audio)
        spoken = segment.speech_text
        assert b"".join(e.data for _, e in audio) == (
            expected_audio(spoken) if spoken.strip() else b""
        )

    done = events[-1]
    assert isinstance(done, DoneEvent) and done.text == reply
    assert sum(isinstance(e, DoneEvent) for e in events) == 1
    assert done.metrics.tokens == len(tokens) and done.metrics.segments == len(segments)


@given(reply=replies, cuts=st.lists(st.integers(0, 200), max_size=30), delays=st.integers(0, 5))
async def test_nothing_lost_or_duplicated(reply: str, cuts: list[int], delays: int) -> None:
    tts = ScriptedSynthesizer(delays=lambda text, index: (len(text) * 7 + index) % (delays + 1))
    events = await run(split_at(reply, cuts), tts)
    check_reply(events, reply)
    assert tts.open_now == 0


@given(reply=replies, cuts_a=st.lists(st.integers(0, 200)), cuts_b=st.lists(st.integers(0, 200)))
async def test_segments_do_not_depend_on_tokenization(
    reply: str, cuts_a: list[int], cuts_b: list[int]
) -> None:
    def segments(events: list[Event]) -> list[object]:
        return [e.segment for e in events if isinstance(e, SegmentEvent)]

    first = await run(split_at(reply, cuts_a), ScriptedSynthesizer())
    second = await run(split_at(reply, cuts_b), ScriptedSynthesizer())
    assert segments(first) == segments(second)


@given(reply=replies.filter(str.strip), cuts=st.lists(st.integers(0, 200), max_size=20))
async def test_tokens_are_not_delayed_by_a_stuck_tts(reply: str, cuts: list[int]) -> None:
    # The TTS never produces a byte: every token must still come through.
    tts = ScriptedSynthesizer(gate=anyio.Event())
    tokens = split_at(reply, cuts)
    received: list[str] = []
    async with stream_reply(tokens, tts) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                received.append(event.text)
                if len(received) == len(tokens):
                    break
            assert not isinstance(event, AudioEvent)
    assert received == tokens
    assert tts.open_now == 0


async def test_slow_consumer_holds_back_the_llm() -> None:
    source = TrackedSource(["word "] * 5000)
    async with stream_reply(source, ScriptedSynthesizer(), max_buffered_events=8) as events:
        await events.__anext__()
        for _ in range(500):
            await anyio.lowlevel.checkpoint()
        # Bounded: the LLM is read only as far as the event buffer allows.
        assert source.pulled <= 1 + 8 + 2
    assert source.closed


@given(stop_after=st.integers(0, 60), max_concurrency=st.integers(1, 3))
async def test_leaving_early_closes_everything(stop_after: int, max_concurrency: int) -> None:
    source = TrackedSource([f"Sentence number {i}. " for i in range(20)])
    tts = ScriptedSynthesizer(delays=lambda text, index: index % 4)
    seen = 0
    async with stream_reply(source, tts, max_concurrency=max_concurrency) as events:
        async for _ in events:
            seen += 1
            if seen > stop_after:
                break
    assert source.closed
    assert tts.open_now == 0 and tts.closed == len(tts.opened)
    assert tts.peak_open <= max_concurrency


async def test_client_disconnect_mid_reply_closes_everything() -> None:
    """A host's send fails (the WebSocket closed): the exception leaves the block cleanly."""
    source = TrackedSource([f"Part {i}. " for i in range(50)])
    tts = ScriptedSynthesizer()
    with pytest.raises(anyio.BrokenResourceError):
        async with stream_reply(source, tts) as events:
            async for event in events:
                if isinstance(event, AudioEvent):
                    raise anyio.BrokenResourceError  # what a closed transport raises
    assert source.closed and tts.open_now == 0


async def test_cancelled_from_outside_closes_everything() -> None:
    source = TrackedSource([f"Part {i}. " for i in range(50)])
    tts = ScriptedSynthesizer(gate=anyio.Event())
    with anyio.CancelScope() as scope:
        async with stream_reply(source, tts) as events:
            async for event in events:
                if isinstance(event, SegmentEvent) and event.segment.index == 3:
                    scope.cancel()
    assert scope.cancelled_caught
    assert source.closed and tts.open_now == 0


@given(
    reply=replies.filter(lambda r: len(r.split()) > 2),
    pick=st.integers(0, 100),
    after=st.integers(0, 2),
)
async def test_failed_segment_becomes_an_error_event(reply: str, pick: int, after: int) -> None:
    probe = await run([reply], ScriptedSynthesizer())
    texts = [e.segment.speech_text for e in probe if isinstance(e, SegmentEvent)]
    failing = texts[pick % len(texts)]
    tts = ScriptedSynthesizer(fail=lambda text: text == failing, fail_after_chunks=after)
    events = await run([reply], tts)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    failed_indexes = [i for i, t in enumerate(texts) if t == failing]
    assert [e.segment_index for e in errors] == failed_indexes
    assert all(isinstance(e.error, RuntimeError) for e in errors)
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == reply
    done = [e for e in events if isinstance(e, SegmentDoneEvent)]
    assert [d.failed for d in done] == [t == failing for t in texts]
    for index, text in enumerate(texts):
        if text != failing:
            audio = b"".join(
                e.data for e in events if isinstance(e, AudioEvent) and e.segment_index == index
            )
            assert audio == expected_audio(text)
    final = events[-1]
    assert isinstance(final, DoneEvent) and final.metrics.errors == len(failed_indexes)


async def test_failing_token_source_raises_after_earlier_events() -> None:
    source = TrackedSource(["One. ", "Two. ", "Three. "], fail_at=2)
    tts = ScriptedSynthesizer()
    seen: list[Event] = []
    with pytest.raises(KeyError, match="broke"):
        async with stream_reply(source, tts) as events:
            async for event in events:
                seen.append(event)
    assert [e.text for e in seen if isinstance(e, TokenEvent)] == ["One. ", "Two. "]
    assert tts.open_now == 0 and source.closed


async def test_events_serialize_to_json() -> None:
    events = await run(["Hello there. ", "Bye."], ScriptedSynthesizer(fail=lambda t: t == "Bye."))
    kinds = set()
    for event in events:
        encoded = json.loads(json.dumps(event.to_dict()))
        assert encoded["type"] == event.type
        kinds.add(event.type)
    assert kinds == {"token", "segment", "audio", "segment_done", "error", "done"}


async def test_bad_arguments_fail_fast() -> None:
    with pytest.raises(TypeError, match="token_source"):
        async with stream_reply(42, ScriptedSynthesizer()):
            pass
    with pytest.raises(TypeError, match="not a Synthesizer"):
        async with stream_reply(["x"], "tts"):  # type: ignore[arg-type]
            pass


def test_first_audio_at_the_lower_bound() -> None:
    """Under a mock clock, TTFA is exactly: the token that completes segment 0 + TTS ttfb."""
    reply = "First sentence is here. Then a much longer second sentence follows it. End."
    ttfb, tps, first_delay = 0.2, 20.0, 0.5

    async def main() -> list[Event]:
        tts = FakeSynthesizer(ttfb=ttfb, realtime_factor=0.5)
        tokens = scripted_tokens(reply, tokens_per_second=tps, first_token_delay=first_delay)
        return await run(tokens, tts)

    clock = trio.testing.MockClock(autojump_threshold=0)
    events = anyio.run(main, backend="trio", backend_options={"clock": clock})
    token_events = [e for e in events if isinstance(e, TokenEvent)]
    first_segment = next(e.segment for e in events if isinstance(e, SegmentEvent))
    # The segment is released by the first token after its full stop.
    release = next(i for i, t in enumerate(token_events) if t.offset >= first_segment.end)
    lower_bound = first_delay + release / tps + ttfb
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.metrics.time_to_first_token == pytest.approx(first_delay)
    assert done.metrics.time_to_first_audio == pytest.approx(lower_bound)


def test_idle_flush_speaks_the_words_so_far_when_the_llm_pauses() -> None:
    async def paused_llm() -> AsyncIterator[str]:
        for token in ["Let", " me", " check", " that"]:
            yield token
        await anyio.sleep(3)  # a tool call, say
        for token in [" for", " you.", " Done."]:
            yield token

    async def main() -> tuple[list[tuple[float, str]], list[Event]]:
        start = anyio.current_time()
        timed: list[tuple[float, str]] = []
        async with stream_reply(paused_llm(), ScriptedSynthesizer(), idle_flush=0.5) as events:
            collected = []
            async for event in events:
                collected.append(event)
                if isinstance(event, SegmentEvent):
                    timed.append((anyio.current_time() - start, event.segment.text))
        return timed, collected

    clock = trio.testing.MockClock(autojump_threshold=0)
    timed, events = anyio.run(main, backend="trio", backend_options={"clock": clock})
    # After 0.5 s without tokens the words so far go to the TTS, up to the last word
    # boundary ("that" might continue); the rest follows normally.
    assert timed[0][0] == pytest.approx(0.5)
    assert [text for _, text in timed] == ["Let me check", "that for you.", "Done."]
    check_reply(events, "Let me check that for you. Done.")


def test_idle_flush_is_off_by_default() -> None:
    """Without idle_flush a long pause cuts nothing: the pause is no segment boundary."""

    async def paused_llm() -> AsyncIterator[str]:
        for token in ["Let", " me", " check", " that"]:
            yield token
        await anyio.sleep(30)  # far longer than any idle_flush would wait
        for token in [" for", " you.", " Done."]:
            yield token

    async def main() -> list[Event]:
        async with stream_reply(paused_llm(), ScriptedSynthesizer()) as events:
            return [event async for event in events]

    clock = trio.testing.MockClock(autojump_threshold=0)
    events = anyio.run(main, backend="trio", backend_options={"clock": clock})
    segments = [event.segment.text for event in events if isinstance(event, SegmentEvent)]
    assert segments == ["Let me check that for you.", "Done."]
    check_reply(events, "Let me check that for you. Done.")


async def test_idle_flush_is_validated() -> None:
    with pytest.raises(ValueError, match="idle_flush"):
        async with stream_reply(["x"], ScriptedSynthesizer(), idle_flush=0):
            pass


async def test_idle_flush_passes_token_source_errors_through() -> None:
    source = TrackedSource(["The first one. ", "The second", " one"], fail_at=2)
    tts = ScriptedSynthesizer()
    with pytest.raises(KeyError, match="broke"):
        async with stream_reply(source, tts, idle_flush=10) as events:
            async for _ in events:
                pass
    assert source.closed and tts.open_now == 0


async def test_misuse_gets_errors_that_name_the_problem() -> None:
    tts = ScriptedSynthesizer()
    with pytest.raises(TypeError, match=r"got a 'dict'.*pass \[chunk\]"):
        async with stream_reply({"choices": []}, tts):
            pass
    with pytest.raises(ValueError, match="max_buffered_events must be at least 1"):
        async with stream_reply(["x"], tts, max_buffered_events=0):
            pass
    with pytest.raises(TypeError, match="max_buffered_bytes must be an int"):
        async with stream_reply(["x"], tts, max_buffered_bytes="big"):  # type: ignore[arg-type]
            pass
    with pytest.raises(TypeError, match="use `async with stream_reply"):
        async for _ in stream_reply(["x"], tts):
            pass


class ReturnsList:
    audio_format = FakeSynthesizer().audio_format

    def synthesize(self, text: str) -> list[bytes]:
        return [b"\0\0"]


class ReturnsInsteadOfYielding:
    audio_format = FakeSynthesizer().audio_format

    async def synthesize(self, text: str) -> bytes:
        return b"\0\0"


@pytest.mark.parametrize("tts", [ReturnsList(), ReturnsInsteadOfYielding()])
async def test_a_synthesizer_that_is_not_an_async_generator_is_named(tts: object) -> None:
    events = await run(["Hello there, how are you?"], tts)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert isinstance(errors[0].error, TypeError)
    assert "must return an async iterator of bytes" in str(errors[0].error)
    assert type(tts).__name__ in str(errors[0].error)
