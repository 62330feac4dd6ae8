"""Controllable fakes for the core tests (deterministic on asyncio and trio)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel

from e2estream import AudioFormat, IncrementalSegmenter, Segment
from e2estream.testing import split_like_llm

FORMAT = AudioFormat("pcm_s16le", 8000, 1)


def expected_audio(text: str) -> bytes:
    """The audio :class:`ScriptedSynthesizer` produces for ``text``: recognisable per text."""
    return (text.encode("utf-8") * 3)[: max(2, 2 * len(text))].ljust(2, b"\0")


class ScriptedSynthesizer:
    """A synthesizer whose scheduling is driven by the test, not by a clock.

    Before each chunk it passes ``delays(text, chunk_index)`` checkpoints, so a test can
    make later segments finish first. ``gate`` (if set) holds every request before its
    first byte until the test sets it. Records what was opened and closed.
    """

    def __init__(
        self,
        *,
        chunk_size: int = 3,
        delays: Callable[[str, int], int] | None = None,
        fail: Callable[[str], bool] | None = None,
        fail_after_chunks: int = 0,
        gate: anyio.Event | None = None,
        audio_format: AudioFormat = FORMAT,
    ) -> None:
        self.chunk_size = chunk_size
        self.delays = delays or (lambda text, index: 0)
        self.fail = fail or (lambda text: False)
        self.fail_after_chunks = fail_after_chunks
        self.gate = gate
        self.audio_format = audio_format
        self.opened: list[str] = []
        self.open_now = 0
        self.peak_open = 0
        self.closed = 0
        self.bytes_yielded = 0

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.opened.append(text)
        self.open_now += 1
        self.peak_open = max(self.peak_open, self.open_now)
        try:
            if self.gate is not None:
                await self.gate.wait()
            audio = expected_audio(text)
            chunks = [audio[i : i + self.chunk_size] for i in range(0, len(audio), self.chunk_size)]
            for index, chunk in enumerate(chunks):
                if self.fail(text) and index == self.fail_after_chunks:
                    raise RuntimeError(f"synthesis failed for {text!r}")
                for _ in range(self.delays(text, index)):
                    await anyio.lowlevel.checkpoint()
                self.bytes_yielded += len(chunk)
                yield chunk
            if self.fail(text):  # asked to fail after more chunks than there are
                raise RuntimeError(f"synthesis failed at the end of {text!r}")
        finally:
            self.open_now -= 1
            self.closed += 1


class TrackedSource:
    """An async iterator over ``items`` that records how far it was read and if closed."""

    def __init__(self, items: Sequence[str], *, fail_at: int | None = None) -> None:
        self.items = list(items)
        self.fail_at = fail_at
        self.pulled = 0
        self.closed = False

    def __aiter__(self) -> TrackedSource:
        return self

    async def __anext__(self) -> str:
        await anyio.lowlevel.checkpoint()
        if self.closed or self.pulled >= len(self.items):
            raise StopAsyncIteration
        if self.fail_at is not None and self.pulled == self.fail_at:
            raise KeyError("the LLM stream broke")
        self.pulled += 1
        return self.items[self.pulled - 1]

    async def aclose(self) -> None:
        self.closed = True


def split_at(text: str, cuts: Sequence[int]) -> list[str]:
    """Split ``text`` at the given positions (sorted, deduplicated, non-empty pieces)."""
    points = sorted({c for c in cuts if 0 < c < len(text)})
    pieces, last = [], 0
    for point in points:
        pieces.append(text[last:point])
        last = point
    pieces.append(text[last:])
    return [p for p in pieces if p]


def split_at_cuts(text: str, cuts: Sequence[int]) -> list[str]:
    """Split ``text`` at ``cuts`` taken modulo its length (pieces may be empty)."""
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def run_segmenter(pieces: Sequence[str], language: str, knob: dict[str, Any]) -> list[Segment]:
    """Push ``pieces`` into a fresh segmenter, flush, and return every segment."""
    segmenter = IncrementalSegmenter(language, **knob)
    out: list[Segment] = []
    for piece in pieces:
        out += segmenter.push(piece)
    return out + segmenter.flush()


#: Segmenter settings that make it cut at every sentence end (no length policy).
PLAIN: dict[str, Any] = {"min_chars": 0, "first_clause_chars": None, "max_chars": None}


def run(pieces: Sequence[str], language: str = "en", **knobs: Any) -> list[Segment]:
    """Push ``pieces`` into ``IncrementalSegmenter(language, **knobs)`` and flush."""
    return run_segmenter(pieces, language, knobs)


def segments(text: str, language: str = "en", **knobs: Any) -> list[Segment]:
    """Segments of ``text``, asserting they are the same for three tokenizations."""
    whole = run([text], language, **knobs)
    assert run(list(text), language, **knobs) == whole
    assert run(split_like_llm(text), language, **knobs) == whole
    return whole


def texts(text: str, language: str = "en", **knobs: Any) -> list[str]:
    """The display texts of ``text``'s segments in plain mode (``knobs`` override it)."""
    merged = {**PLAIN, **knobs}
    return [segment.text for segment in segments(text, language, **merged)]
