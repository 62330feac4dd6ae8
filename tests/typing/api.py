"""Type-check-only: the public API as a user writes it. Checked by mypy, never run."""

from __future__ import annotations

from collections.abc import AsyncIterator

from e2estream import (
    AudioChunk,
    AudioEvent,
    AudioFormat,
    DoneEvent,
    Event,
    IncrementalSegmenter,
    ProgressiveSynthesizer,
    Segment,
    Synthesizer,
    TokenEvent,
    merge_events,
    stream_reply,
    token_source,
)
from e2estream.testing import FakeSynthesizer, scripted_tokens


class MyTTS:
    audio_format = AudioFormat("pcm_s16le", 24000, 1)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        yield text.encode()


async def user_code() -> None:
    tts: Synthesizer = MyTTS()
    fake: Synthesizer = FakeSynthesizer(ttfb=0.1)
    segmenter = IncrementalSegmenter("de")
    segments: list[Segment] = segmenter.push("Hallo. ") + segmenter.flush()
    async with stream_reply(scripted_tokens("Hi there."), tts) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                offset: int = event.offset
            elif isinstance(event, AudioEvent):
                data: bytes = event.data
            elif isinstance(event, DoneEvent):
                ttfa: float | None = event.metrics.time_to_first_audio
    progressive = ProgressiveSynthesizer(fake, max_concurrency=3)
    async with progressive.stream(token_source(["a", "b"])) as chunks:
        async for chunk in chunks:
            typed: AudioChunk = chunk
    async with progressive.stream(segments) as chunks:
        pass
    async with merge_events(token_source(["x"]), token_source(["y"])) as merged:
        async for item in merged:
            text: str = item
    any_event: Event = TokenEvent("x", 0)
    del offset, data, ttfa, typed, text, any_event
