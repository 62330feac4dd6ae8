"""ProgressiveSynthesizer: ordered, streamed, bounded, closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import AudioChunk, AudioFormat, ProgressiveSynthesizer, Segment, TextTiming
from helpers import ScriptedSynthesizer, TrackedSource, expected_audio

pytestmark = pytest.mark.anyio

# Segment texts are never blank (the segmenter guarantees it).
segment_texts = st.lists(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip),
    min_size=1,
    max_size=8,
)


def as_segments(texts: list[str]) -> list[Segment]:
    out, offset = [], 0
    for index, text in enumerate(texts):
        out.append(Segment(index, offset, offset + len(text), text))
        offset += len(text)
    return out


async def collect(progressive: ProgressiveSynthesizer, items: object) -> list[AudioChunk]:
    async with progressive.stream(items) as chunks:  # type: ignore[arg-type]
        return [chunk async for chunk in chunks]


@given(
    texts=segment_texts,
    delays=st.lists(st.integers(0, 6), min_size=1, max_size=40),
    max_concurrency=st.integers(1, 4),
    budget=st.integers(1, 64),
)
async def test_audio_in_segment_order_exactly_once(
    texts: list[str], delays: list[int], max_concurrency: int, budget: int
) -> None:
    # Each (text, chunk) pair waits a different number of checkpoints, so later
    # segments often finish before earlier ones.
    def delay(text: str, index: int) -> int:
        return delays[(hash(text) + index) % len(delays)]

    tts = ScriptedSynthesizer(delays=delay)
    progressive = ProgressiveSynthesizer(
        tts, max_concurrency=max_concurrency, max_buffered_bytes=budget
    )
    segments = as_segments(texts)
    chunks = await collect(progressive, segments)

    order = [c.segment.index for c in chunks]
    assert order == sorted(order)
    for segment in segments:
        mine = [c for c in chunks if c.segment.index == segment.index]
        assert b"".join(c.data for c in mine) == expected_audio(segment.text)
        assert [c.final for c in mine].count(True) == 1
        assert mine[-1].final and mine[-1].data == b"" and mine[-1].error is None
        offsets = [c.offset for c in mine]
        assert offsets == sorted(offsets)
    assert tts.peak_open <= max_concurrency
    assert tts.open_now == 0


@given(texts=segment_texts, fail_index=st.integers(0, 7), after=st.integers(0, 3))
async def test_failed_segment_reports_error_and_the_rest_goes_on(
    texts: list[str], fail_index: int, after: int
) -> None:
    segments = as_segments(texts)
    failing = segments[fail_index % len(segments)]
    tts = ScriptedSynthesizer(fail=lambda text: text == failing.text, fail_after_chunks=after)
    chunks = await collect(ProgressiveSynthesizer(tts), segments)
    finals = [c for c in chunks if c.final]
    assert [c.segment.index for c in finals] == [s.index for s in segments]
    for final in finals:
        if final.segment.text == failing.text:
            assert isinstance(final.error, RuntimeError)
        else:
            assert final.error is None
            audio = b"".join(c.data for c in chunks if c.segment.index == final.segment.index)
            assert audio == expected_audio(final.segment.text)


async def test_head_segment_streams_before_its_request_completes() -> None:
    release_rest = anyio.Event()

    class SlowTail(ScriptedSynthesizer):
        async def synthesize(self, text: str):  # type: ignore[no-untyped-def]
            yield b"ab"
            await release_rest.wait()
            yield b"cd"

    progressive = ProgressiveSynthesizer(SlowTail())
    async with progressive.stream([Segment(0, 0, 5, "Hello")]) as chunks:
        first = await chunks.__anext__()
        assert first.data == b"ab"  # arrived while the request is still open
        release_rest.set()
        rest = [c async for c in chunks]
    assert [c.data for c in rest] == [b"cd", b""]


@given(
    budget=st.integers(1, 200),
    chunk_size=st.integers(1, 32),
    max_concurrency=st.integers(1, 4),
    patience=st.integers(0, 30),
)
async def test_slow_consumer_bounds_buffered_audio(
    budget: int, chunk_size: int, max_concurrency: int, patience: int
) -> None:
    texts = [f"segment number {i} " * 4 for i in range(12)]
    tts = ScriptedSynthesizer(chunk_size=chunk_size)
    progressive = ProgressiveSynthesizer(
        tts, max_concurrency=max_concurrency, max_buffered_bytes=budget
    )
    consumed = 0
    worst = 0
    async with progressive.stream(as_segments(texts)) as chunks:
        async for chunk in chunks:
            consumed += len(chunk.data)
            for _ in range(patience):  # a slow consumer: producers run as far as they can
                await anyio.lowlevel.checkpoint()
            worst = max(worst, tts.bytes_yielded - consumed)
    # One addition to a buffer is at most a chunk plus the partial frame carried over
    # (2-byte frames here). Behind the head at most `budget` (or one addition, if that
    # is larger), in the head as much again, plus per request in flight one chunk in
    # hand and a partial frame.
    addition = chunk_size + 1
    allowance = max(budget, addition)
    assert worst <= 2 * allowance + max_concurrency * addition
    assert consumed == sum(len(expected_audio(t)) for t in texts)


async def test_text_deltas_are_segmented_on_the_fly() -> None:
    tts = ScriptedSynthesizer()
    chunks = await collect(ProgressiveSynthesizer(tts), ["Hello there. ", "How are", " you?"])
    assert tts.opened == ["Hello there.", "How are you?"]
    assert [c.segment.text for c in chunks if c.final] == ["Hello there.", "How are you?"]


async def test_segments_without_speech_get_a_final_chunk_and_no_request() -> None:
    tts = ScriptedSynthesizer()
    segments = [Segment(0, 0, 3, "Hi.", speech=""), Segment(1, 3, 6, "Yo.")]
    chunks = await collect(ProgressiveSynthesizer(tts), segments)
    assert tts.opened == ["Yo."]
    assert [(c.segment.index, c.final) for c in chunks if not c.data] == [(0, True), (1, True)]


@given(stop_after=st.integers(0, 12), max_concurrency=st.integers(1, 3))
async def test_leaving_early_closes_everything(stop_after: int, max_concurrency: int) -> None:
    tts = ScriptedSynthesizer(chunk_size=2, delays=lambda text, index: index % 3)
    source = TrackedSource([f"Sentence {i}. " for i in range(10)])
    progressive = ProgressiveSynthesizer(tts, max_concurrency=max_concurrency)
    seen = 0
    async with progressive.stream(source) as chunks:
        async for _ in chunks:
            seen += 1
            if seen > stop_after:
                break
    assert tts.open_now == 0
    assert tts.closed == len(tts.opened)
    assert source.closed


async def test_cancellation_from_outside_closes_everything() -> None:
    gate = anyio.Event()  # never set: every request hangs before its first byte
    tts = ScriptedSynthesizer(gate=gate)
    source = TrackedSource(["One. ", "Two. ", "Three. "])
    with anyio.move_on_after(0.05) as scope:
        async with ProgressiveSynthesizer(tts).stream(source) as chunks:
            async for _ in chunks:
                pass
    assert scope.cancelled_caught
    assert tts.opened and tts.open_now == 0
    assert source.closed


@given(cancel_after=st.integers(-1, 12), max_concurrency=st.integers(1, 3))
async def test_cancel_at_any_point_ends_the_stream_with_everything_closed(
    cancel_after: int, max_concurrency: int
) -> None:
    # -1: cancelled as the block is entered, before the synthesis task has even run.
    tts = ScriptedSynthesizer(chunk_size=2, delays=lambda text, index: index % 3)
    source = TrackedSource([f"Sentence {i}. " for i in range(10)])
    progressive = ProgressiveSynthesizer(tts, max_concurrency=max_concurrency)
    seen = 0
    async with progressive.stream(source) as chunks:
        if cancel_after < 0:
            await chunks.cancel()
            assert tts.opened == []  # no request was ever made
        async for _ in chunks:
            seen += 1
            if seen > cancel_after >= 0:
                await chunks.cancel()
                # When cancel() returns, every request and the source are closed.
                assert tts.open_now == 0 and source.closed
        # The stream ended (no exception); cancelling again is harmless.
        await chunks.cancel()
        with pytest.raises(StopAsyncIteration):
            await chunks.__anext__()
    assert seen <= max(cancel_after, 0) + 1
    assert tts.open_now == 0 and tts.closed == len(tts.opened)
    assert source.closed
    await chunks.cancel()  # after the block too


async def test_taking_audio_after_the_block_exited_is_refused() -> None:
    tts = ScriptedSynthesizer()
    async with ProgressiveSynthesizer(tts).stream(["One. Two."]) as chunks:
        await chunks.__anext__()
    with pytest.raises(anyio.ClosedResourceError, match="block has exited"):
        await chunks.__anext__()


async def test_source_error_is_raised_after_completed_segments() -> None:
    tts = ScriptedSynthesizer()
    source = TrackedSource(["The first one. ", "The second one. ", "Third", " four"], fail_at=3)
    finals: list[str] = []
    with pytest.raises(KeyError, match="broke"):
        async with ProgressiveSynthesizer(tts).stream(source) as chunks:
            async for chunk in chunks:
                if chunk.final:
                    finals.append(chunk.segment.text)
    assert finals == ["The first one.", "The second one."]
    assert tts.open_now == 0


async def test_exception_in_body_comes_out_unwrapped() -> None:
    tts = ScriptedSynthesizer()
    with pytest.raises(ZeroDivisionError):
        async with ProgressiveSynthesizer(tts).stream(["Hello. ", "World. "]) as chunks:
            async for _ in chunks:
                1 / 0  # noqa: B018
    assert tts.open_now == 0


async def test_odd_byte_chunks_are_realigned_to_frames() -> None:
    class Ragged(ScriptedSynthesizer):
        async def synthesize(self, text: str):  # type: ignore[no-untyped-def]
            for piece in (b"a", b"bcd", b"e", b"fg", b"h", b"i"):
                yield piece

    chunks = await collect(ProgressiveSynthesizer(Ragged()), [Segment(0, 0, 2, "Hi")])
    # 16-bit frames: bytes wait for their frame's other half; a dangling last byte is
    # completed with silence. (Audio queued before the consumer takes it comes as one
    # chunk, so the boundaries depend on scheduling; every chunk is whole frames.)
    assert b"".join(c.data for c in chunks) == b"abcdefghi\0"
    assert all(len(c.data) % 2 == 0 for c in chunks)
    assert [c.final for c in chunks][-1] and not chunks[-1].data


async def test_wrong_items_and_arguments_are_rejected() -> None:
    tts = ScriptedSynthesizer()
    with pytest.raises(TypeError, match="single str"):
        async with ProgressiveSynthesizer(tts).stream("Hello."):
            pass
    with pytest.raises(TypeError, match="got a int"):
        await collect(ProgressiveSynthesizer(tts), [1, 2])
    with pytest.raises(ValueError, match="max_concurrency"):
        ProgressiveSynthesizer(tts, max_concurrency=0)
    with pytest.raises(TypeError, match="not a Synthesizer"):
        ProgressiveSynthesizer(object())  # type: ignore[arg-type]

    class YieldsText(ScriptedSynthesizer):
        async def synthesize(self, text: str):  # type: ignore[no-untyped-def]
            yield text

    chunks = await collect(ProgressiveSynthesizer(YieldsText()), [Segment(0, 0, 2, "Hi")])
    assert isinstance(chunks[-1].error, TypeError)
    assert "must yield bytes" in str(chunks[-1].error)


def test_a_request_synthesizer_gets_each_segment_with_its_context() -> None:
    from e2estream import RequestSynthesizer, SynthesisRequest
    from e2estream.testing import FakeSynthesizer

    class Contextual:
        def __init__(self) -> None:
            self.fake = FakeSynthesizer(ttfb=0, realtime_factor=0)
            self.requests: list[SynthesisRequest] = []

        @property
        def audio_format(self) -> AudioFormat:
            return self.fake.audio_format

        def synthesize_request(
            self, request: SynthesisRequest
        ) -> AsyncIterator[bytes | TextTiming]:
            self.requests.append(request)
            return self.fake.synthesize(request.text)

    backend = Contextual()
    assert isinstance(backend, RequestSynthesizer)

    async def main() -> None:
        async with ProgressiveSynthesizer(backend).stream(sentences) as chunks:
            async for _ in chunks:
                pass

    sentences = ["The first sentence is here. ", "The second one follows. ", "The end."]
    anyio.run(main)
    texts = [sentence.strip() for sentence in sentences]
    assert [r.text for r in backend.requests] == texts
    assert [r.previous_text for r in backend.requests] == [None, *texts[:2]]
    assert [r.segment.index for r in backend.requests] == [0, 1, 2]
