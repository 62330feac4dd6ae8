"""Which segmenter a stream uses: a given instance serves one stream at a time, reset.

``stream_reply(segmenter=...)`` takes an instance or a factory. An instance is reset as
a stream takes it (an interrupted reply's text must not leak into the next one) and is
refused, with a clear error, while another stream is using it; a factory makes a fresh
segmenter per stream, so streams can run side by side.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from e2estream import IncrementalSegmenter, SegmentEvent, TokenEvent, stream_reply
from e2estream.testing import FakeSynthesizer

pytestmark = pytest.mark.anyio

TTS = FakeSynthesizer(ttfb=0, realtime_factor=0)


async def _first_token_then_wait(first: str, release: anyio.Event) -> AsyncIterator[str]:
    yield first
    await release.wait()


async def _segment_texts(
    reply: str, segmenter: IncrementalSegmenter | Callable[[], IncrementalSegmenter]
) -> list[str]:
    async with stream_reply([reply], TTS, segmenter=segmenter) as events:
        return [event.segment.text async for event in events if isinstance(event, SegmentEvent)]


async def test_an_instance_in_use_is_refused_by_a_second_stream(anyio_backend: str) -> None:
    segmenter = IncrementalSegmenter("en")
    release = anyio.Event()
    async with stream_reply(
        _first_token_then_wait("Hello", release), TTS, segmenter=segmenter
    ) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                break
        with pytest.raises(RuntimeError, match="already segmenting another stream"):
            await _segment_texts("Another reply.", segmenter)
        release.set()
    # Free again once the first stream has ended, and reset: its "Hello" is gone.
    assert await _segment_texts("The next reply.", segmenter) == ["The next reply."]


async def test_an_interrupted_replys_text_never_reaches_the_next_one(anyio_backend: str) -> None:
    segmenter = IncrementalSegmenter("en", min_chars=0, first_clause_chars=None)
    release = anyio.Event()
    async with stream_reply(
        _first_token_then_wait("An unfinished sentence and", release), TTS, segmenter=segmenter
    ) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                break  # interrupted: the segmenter still holds the unfinished sentence
    assert await _segment_texts("A new reply. Two.", segmenter) == ["A new reply.", "Two."]


async def test_a_factory_serves_streams_side_by_side(anyio_backend: str) -> None:
    factory = functools.partial(IncrementalSegmenter, "de", min_chars=0)
    results: dict[str, list[str]] = {}

    async def one(name: str) -> None:
        results[name] = await _segment_texts(f"{name} kommt am 3. Oktober. Gut.", factory)

    async with anyio.create_task_group() as task_group:
        for name in ("Anna", "Bernd", "Cem"):
            task_group.start_soon(one, name)
    assert results == {
        name: [f"{name} kommt am 3. Oktober.", "Gut."] for name in ("Anna", "Bernd", "Cem")
    }
