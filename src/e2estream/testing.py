"""Fakes with deterministic, controllable timing, for your own tests and benchmarks.

* :func:`scripted_tokens` plays a text back like a streaming LLM: split as a tokenizer
  would, after a first-token delay, at a fixed rate.
* :class:`FakeSynthesizer` is a TTS whose time to first byte and speed you set, and
  whose PCM lasts as long as speaking the text would.
* :class:`FakeStreamingSynthesizer` is the same as a streaming-input service: one
  connection per reply, segments in, audio, timings and segment ends out.

All delays go through anyio's clock, so under trio's ``MockClock(autojump_threshold=0)``
seconds of simulated latency take microseconds and timings are exact::

    import trio.testing

    clock = trio.testing.MockClock(autojump_threshold=0)
    anyio.run(main, backend="trio", backend_options={"clock": clock})
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from random import Random

import anyio
import anyio.lowlevel

from ._audio import AudioFormat, TextTiming
from ._exceptions import SynthesisError
from ._fake_streaming import FakeStreamingStatistics as FakeStreamingStatistics
from ._fake_streaming import FakeStreamingSynthesizer as FakeStreamingSynthesizer

__all__ = [
    "FakeStreamingStatistics",
    "FakeStreamingSynthesizer",
    "FakeSynthesizer",
    "FakeTTSStatistics",
    "scripted_tokens",
    "split_like_llm",
]

# Roughly the pre-tokenizer of GPT-style BPE tokenizers: a word with its leading space,
# runs of digits, runs of punctuation, whitespace. Long words are split further below.
_PRETOKEN = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+| ?_+|\s+(?!\S)|\s+")
_MAX_WORD_PIECE = 5
_WORD = re.compile(r"\S+")


def split_like_llm(text: str) -> list[str]:
    """Split ``text`` into pieces the way an LLM tokenizer tends to.

    Words keep their leading space, numbers come in groups of up to three digits,
    punctuation is separate, and long words are cut into pieces of a few characters.
    The pieces always concatenate back to ``text``.

    Example:
        >>> split_like_llm("Hello, world! It's 2026.")
        ['Hello', ',', ' world', '!', ' It', "'", 's', ' 202', '6', '.']
    """
    if not isinstance(text, str):
        raise TypeError(f"split_like_llm() takes a str, not a {type(text).__name__}")
    pieces: list[str] = []
    for match in _PRETOKEN.finditer(text):
        token = match.group()
        while len(token) > _MAX_WORD_PIECE + 1:
            pieces.append(token[:_MAX_WORD_PIECE])
            token = token[_MAX_WORD_PIECE:]
        pieces.append(token)
    return pieces


async def scripted_tokens(
    text: str,
    *,
    tokens_per_second: float = 40.0,
    first_token_delay: float = 0.3,
    jitter: float = 0.0,
    seed: int = 0,
    tokens: list[str] | None = None,
) -> AsyncIterator[str]:
    """Yield ``text`` as a streaming LLM would: token by token, in (simulated) real time.

    Token ``i`` is yielded at ``first_token_delay + i / tokens_per_second`` seconds after
    the first ``__anext__`` (on a fixed schedule, so slow consumers do not add drift).

    Args:
        text: The reply to play back.
        tokens_per_second: The LLM's speed; ``math.inf`` for no delay between tokens.
        first_token_delay: Seconds before the first token (the LLM's time to first token).
        jitter: Fraction of the inter-token interval by which each token may arrive
            early or late (0 = perfectly regular), drawn from a seeded generator.
        seed: Seed for the jitter, for reproducible runs.
        tokens: The exact pieces to yield instead of :func:`split_like_llm` of ``text``;
            they must concatenate to ``text``.

    Raises:
        ValueError: For a non-positive rate, a negative delay, jitter outside [0, 1), or
            ``tokens`` that do not concatenate to ``text``.
    """
    if not tokens_per_second > 0:
        raise ValueError(f"tokens_per_second must be positive, got {tokens_per_second}")
    if first_token_delay < 0:
        raise ValueError(f"first_token_delay must not be negative, got {first_token_delay}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    pieces = split_like_llm(text) if tokens is None else list(tokens)
    if "".join(pieces) != text:
        raise ValueError("tokens must concatenate to text")
    interval = 0.0 if math.isinf(tokens_per_second) else 1.0 / tokens_per_second
    rng = Random(seed)
    start = anyio.current_time()
    for i, piece in enumerate(pieces):
        due = first_token_delay + i * interval
        if jitter and i:
            due += rng.uniform(-jitter, jitter) * interval
        if due > 0:
            await anyio.sleep_until(start + due)
        else:
            await anyio.lowlevel.checkpoint()
        yield piece


@dataclass
class FakeTTSStatistics:
    """What a :class:`FakeSynthesizer` has been asked to do (for assertions in tests).

    Attributes:
        texts: The text of every ``synthesize`` call, in call order.
        open_streams: Iterators started and not yet finished or closed.
        peak_open_streams: The most iterators ever open at once.
        closed_early: Iterators closed before they yielded all their audio.
        failures: Calls that raised a (scripted) error.
    """

    texts: list[str] = field(default_factory=list)
    open_streams: int = 0
    peak_open_streams: int = 0
    closed_early: int = 0
    failures: int = 0


class FakeSynthesizer:
    """A TTS with controllable timing, producing PCM that lasts as long as the speech.

    The audio of ``text`` lasts ``len(text) / chars_per_second`` seconds (a quiet
    220 Hz tone). It arrives in chunks of ``chunk_duration`` seconds of audio: the first
    after ``ttfb`` seconds, each next one ``chunk_duration * realtime_factor`` seconds
    later, so a request takes about ``ttfb + duration * realtime_factor`` in all.

    Args:
        ttfb: Time to first byte, seconds.
        realtime_factor: Seconds of work per second of audio (0.2 = five times faster
            than real time; 0 = instant).
        chars_per_second: Speaking rate that sets the audio duration.
        chunk_duration: Seconds of audio per chunk.
        audio_format: The PCM format to produce (``pcm_s16le`` only).
        fail_when: A predicate on the text; when true, the request fails.
        fail_after_chunks: With ``fail_when``: fail after this many chunks (0 = before
            any audio).
        timings: Also yield a :class:`~e2estream.TextTiming` for every word, before
            the chunk in which the word starts (the speech runs at ``chars_per_second``,
            so a word starts at ``char_start / chars_per_second``). The instance then has
            ``provides_timings = True``, like a backend with word timings.
        compute_bound: Declare ``compute_bound = True``, like a local engine (the
            pipeline then starts a segment only after the previous one produced audio).

    Raises:
        ValueError: For negative timings, a non-positive rate or chunk duration, or a
            format other than ``pcm_s16le``.
    """

    def __init__(
        self,
        *,
        ttfb: float = 0.15,
        realtime_factor: float = 0.3,
        chars_per_second: float = 15.0,
        chunk_duration: float = 0.1,
        audio_format: AudioFormat | None = None,
        fail_when: Callable[[str], bool] | None = None,
        fail_after_chunks: int = 0,
        timings: bool = False,
        compute_bound: bool = False,
    ) -> None:
        if ttfb < 0 or realtime_factor < 0:
            raise ValueError("ttfb and realtime_factor must not be negative")
        if chars_per_second <= 0 or chunk_duration <= 0:
            raise ValueError("chars_per_second and chunk_duration must be positive")
        if fail_after_chunks < 0:
            raise ValueError("fail_after_chunks must not be negative")
        audio_format = audio_format or AudioFormat()
        if audio_format.encoding != "pcm_s16le":
            raise ValueError("FakeSynthesizer produces pcm_s16le only")
        self.ttfb = ttfb
        self.realtime_factor = realtime_factor
        self.chars_per_second = chars_per_second
        self.chunk_duration = chunk_duration
        self.fail_when = fail_when
        self.fail_after_chunks = fail_after_chunks
        self.provides_timings = timings
        self.compute_bound = compute_bound
        self._format = audio_format
        self.statistics = FakeTTSStatistics()
        frame = audio_format.frame_size or 2
        self._chunk_frames = max(1, round(chunk_duration * audio_format.sample_rate))
        self._tone = _tone(audio_format, self._chunk_frames)
        self._frame = frame

    @property
    def audio_format(self) -> AudioFormat:
        """The PCM format of the audio produced."""
        return self._format

    def audio_duration(self, text: str) -> float:
        """Seconds of audio this synthesizer produces for ``text``."""
        return len(text) / self.chars_per_second

    def word_timings(self, text: str) -> list[TextTiming]:
        """Return the exact timing of every word of ``text`` in this synthesizer's audio."""
        cps = self.chars_per_second
        return [
            TextTiming(match.start(), match.end(), match.start() / cps, match.end() / cps)
            for match in _WORD.finditer(text)
        ]

    async def synthesize(self, text: str) -> AsyncGenerator[bytes | TextTiming, None]:
        """Yield the audio for ``text`` on the configured schedule."""
        stats = self.statistics
        stats.texts.append(text)
        stats.open_streams += 1
        stats.peak_open_streams = max(stats.peak_open_streams, stats.open_streams)
        total_frames = max(1, round(self.audio_duration(text) * self._format.sample_rate))
        fails = self.fail_when is not None and self.fail_when(text)
        rate = self._format.sample_rate
        words = self.word_timings(text) if self.provides_timings else []
        next_word = 0
        sent_frames = 0
        finished = False
        try:
            start = anyio.current_time()
            chunk_index = 0
            while sent_frames < total_frames:
                if fails and chunk_index == self.fail_after_chunks:
                    stats.failures += 1
                    raise SynthesisError(f"scripted failure for {text[:30]!r}")
                due = self.ttfb + chunk_index * self.chunk_duration * self.realtime_factor
                if due > 0:
                    await anyio.sleep_until(start + due)
                else:
                    await anyio.lowlevel.checkpoint()
                frames = min(self._chunk_frames, total_frames - sent_frames)
                while next_word < len(words) and words[next_word].start * rate < (
                    sent_frames + frames
                ):
                    yield words[next_word]
                    next_word += 1
                sent_frames += frames
                chunk_index += 1
                yield self._tone[: frames * self._frame]
            finished = True
        finally:
            stats.open_streams -= 1
            if not finished and not fails:
                stats.closed_early += 1


def _tone(audio_format: AudioFormat, frames: int) -> bytes:
    """Return a quiet 220 Hz tone of ``frames`` frames (computed once, sliced per chunk)."""
    samples = bytearray()
    for i in range(frames):
        value = int(3000 * math.sin(2 * math.pi * 220 * i / audio_format.sample_rate))
        samples += value.to_bytes(2, "little", signed=True) * audio_format.channels
    return bytes(samples)
