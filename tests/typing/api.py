"""Type-check-only: the public API as a user writes it. Checked by mypy, never run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import httpx2

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
from e2estream.backends import ElevenLabsSpeech, HTTPTimeouts, OpenAISpeech, RetryPolicy
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


async def http_backends(client: httpx2.AsyncClient, old_client: httpx.AsyncClient) -> None:
    # A client of either package; the settings objects instead of loose keywords.
    tts: Synthesizer = OpenAISpeech(
        client=client,
        timeouts=HTTPTimeouts(first_byte=5.0, total=None),
        retry=RetryPolicy(max_retries=0),
    )
    eleven = ElevenLabsSpeech("voice", client=old_client)
    speakers: list[Synthesizer] = [tts, eleven]
    bounds: list[float | None] = [eleven.timeouts.first_byte, eleven.retry.delay(0)]
    async with stream_reply(scripted_tokens("Hi."), speakers[1]) as events:
        async for event in events:
            print(event, bounds)
