"""``FallbackSynthesizer``: try backends in order, per segment, without duplicating audio."""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from ._audio import AudioFormat, Synthesizer, TextTiming
from ._exceptions import SynthesisError, SynthesisTimeout
from ._prewarm import prewarm_quietly
from ._request import RequestSynthesizer, SynthesisRequest
from ._resample import PcmResampler, resampling_problem
from ._speakers import SpeakerEntry, current_speaker_log
from ._util import aclosing
from ._validate import check_seconds, check_synthesizer

__all__ = ["FallbackSynthesizer", "FallbackTimeouts"]

logger = logging.getLogger("e2estream")


@dataclass(frozen=True, slots=True)
class FallbackTimeouts:
    """When :class:`FallbackSynthesizer` gives a backend up for a segment or for a while.

    Args:
        first_byte: Seconds a backend has to produce a segment's first audio before the
            segment goes to the next backend. Keep the sum over the backends below the
            pipeline's own bound (:class:`~e2estream.SynthesisTimeouts`, 20 s), or the
            pipeline fails the segment before the last backend had its turn.
        cooldown: Seconds a backend that failed is skipped for; after that it is tried
            again first, with the next real segment (a probe costs nothing extra).

    Raises:
        ValueError: If a value is not a positive, finite number of seconds.
    """

    first_byte: float = 5.0
    cooldown: float = 30.0

    def __post_init__(self) -> None:
        for name in ("first_byte", "cooldown"):
            check_seconds(f"FallbackTimeouts.{name}", getattr(self, name))


class _Backend:
    __slots__ = ("failed_until", "name", "resample_to", "synthesizer")

    def __init__(self, synthesizer: Synthesizer, name: str, output: AudioFormat) -> None:
        self.synthesizer = synthesizer
        self.name = name
        self.failed_until = -math.inf  # skipped until this clock time
        # PCM of another sample rate is converted to the primary's.
        self.resample_to = output if synthesizer.audio_format != output else None


class _NoAudio(Exception):
    """A backend ended (or timed out) before its first audio."""


class FallbackSynthesizer:
    """A :class:`~e2estream.Synthesizer` that tries several backends in order.

    Each segment goes to the first backend that is not cooling down. If that backend
    fails *before its first audio* (it raises, times out, or ends with no audio), the
    segment goes to the next one, so the listener hears it anyway. If it fails *after*
    audio began, the segment is not retried: the listener has already heard part of it,
    and speaking it again would repeat that part. The segment then fails as it would
    without a fallback (an :class:`~e2estream.ErrorEvent`; the reply goes on).

    A backend that failed is skipped for ``timeouts.cooldown`` seconds, then probed with
    the next real segment; it is back in front as soon as it produces audio.

    In :func:`~e2estream.stream_reply`, each segment's
    :class:`~e2estream.SegmentDoneEvent` names the backend that spoke it
    (``spoken_by``).

    Args:
        synthesizers: The backends, most preferred first (at least one). The audio is
            in the first one's :class:`~e2estream.AudioFormat`: 16-bit PCM of another
            sample rate is converted to it (linear interpolation, fine for a fallback
            voice); any other difference (encoding, channels) is refused here, rather
            than heard as noise later.
        names: A name for each backend (for events and logs). Default: each class name,
            numbered when two are the same (``"OpenAISpeech"``, ``"OpenAISpeech#2"``).
        timeouts: Each backend's time to first audio, and the cool-down.

    Raises:
        TypeError: If a backend is not a Synthesizer, or is itself a FallbackSynthesizer
            (list its backends instead).
        ValueError: If there is no backend, a format cannot be converted to the first
            one's, or ``names`` does not give one distinct name per backend.

    Example::

        tts = FallbackSynthesizer([OpenAISpeech(...), EspeakSynthesizer(...)])
        async with stream_reply(llm_stream, tts) as events:
            ...
    """

    def __init__(
        self,
        synthesizers: Sequence[Synthesizer],
        *,
        names: Sequence[str] | None = None,
        timeouts: FallbackTimeouts | None = None,
    ) -> None:
        given: object = synthesizers  # checked, whatever the annotation says
        if not isinstance(given, (list, tuple)):
            raise TypeError(
                f"FallbackSynthesizer takes a list of synthesizers, not a {type(given).__name__}"
            )
        if not synthesizers:
            raise ValueError("FallbackSynthesizer needs at least one synthesizer")
        for synthesizer in synthesizers:
            check_synthesizer(synthesizer)
            if isinstance(synthesizer, FallbackSynthesizer):
                raise TypeError(
                    "a FallbackSynthesizer cannot contain another one: list its backends"
                )
        if timeouts is not None and not isinstance(timeouts, FallbackTimeouts):
            raise TypeError(f"timeouts must be a FallbackTimeouts, not {type(timeouts).__name__}")
        formats = [synthesizer.audio_format for synthesizer in synthesizers]
        for synthesizer, audio_format in zip(synthesizers, formats, strict=True):
            problem = (
                None if audio_format == formats[0] else resampling_problem(audio_format, formats[0])
            )
            if problem is not None:
                raise ValueError(
                    "FallbackSynthesizer's backends must produce audio of one format, so that "
                    f"their segments play as one stream: {type(synthesizers[0]).__name__} "
                    f"produces {formats[0]}, {type(synthesizer).__name__} {audio_format}, and "
                    f"{problem}. Configure them to one format (e.g. pcm_s16le, mono)."
                )
        names = list(names) if names is not None else _default_names(synthesizers)
        if len(names) != len(synthesizers) or len(set(names)) != len(names):
            raise ValueError(
                f"names must give one distinct name per synthesizer, got {names!r} for "
                f"{len(synthesizers)} synthesizers"
            )
        self._format = formats[0]
        self._backends = [
            _Backend(s, n, self._format) for s, n in zip(synthesizers, names, strict=True)
        ]
        self.timeouts = timeouts or FallbackTimeouts()
        # The optional members of the Synthesizer protocol, as the pipeline reads them.
        self.provides_timings = all(
            bool(getattr(s, "provides_timings", False)) for s in synthesizers
        )
        self.compute_bound = bool(getattr(synthesizers[0], "compute_bound", False))

    @property
    def audio_format(self) -> AudioFormat:
        """The format of the audio: the first backend's."""
        return self._format

    @property
    def names(self) -> tuple[str, ...]:
        """The backends' names, most preferred first."""
        return tuple(backend.name for backend in self._backends)

    def cooling_down(self) -> tuple[str, ...]:
        """The names of the backends skipped now because they failed recently."""
        now = anyio.current_time()
        return tuple(b.name for b in self._backends if b.failed_until > now)

    async def prewarm(self) -> None:
        """Prewarm every backend that has a ``prewarm()`` step, concurrently.

        A backend whose prewarm fails is logged and left to its first request.
        """
        async with anyio.create_task_group() as task_group:
            for backend in self._backends:
                task_group.start_soon(prewarm_quietly, backend.synthesizer, backend.name)

    def synthesize(self, text: str) -> AsyncIterator[bytes | TextTiming]:
        """Return the audio of ``text`` from the first backend that produces any."""
        return self._open(text, None)

    def synthesize_request(self, request: SynthesisRequest) -> AsyncIterator[bytes | TextTiming]:
        """Like :meth:`synthesize`, passing the whole request to the backends that take it.

        The pipeline calls this, so backends with ``synthesize_request`` (ElevenLabs'
        previous text) get their context whichever of them speaks.
        """
        return self._open(request.text, request)

    def _open(
        self, text: str, request: SynthesisRequest | None
    ) -> AsyncIterator[bytes | TextTiming]:
        # Recorded now, in call order (segment order), not when the iterator starts.
        log = current_speaker_log.get()
        entry = log.open(text) if log is not None else SpeakerEntry()
        return self._speak(text, request, entry)

    async def _speak(
        self, text: str, request: SynthesisRequest | None, entry: SpeakerEntry
    ) -> AsyncIterator[bytes | TextTiming]:
        failures: list[str] = []
        last_error: BaseException | None = None
        for backend in self._order():
            audio = _start(backend, text, request)
            if backend.resample_to is not None:
                audio = _resampled(
                    audio, PcmResampler(backend.synthesizer.audio_format, backend.resample_to)
                )
            async with aclosing(audio):
                try:
                    first = await self._first_audio(backend, audio)
                except Exception as exc:
                    # Nothing was heard from this backend: the next one may speak it.
                    self._failed(backend)
                    failures.append(f"{backend.name}: {exc}")
                    last_error = exc
                    logger.warning(
                        "%s failed before its first audio (%s); falling back", backend.name, exc
                    )
                    continue
                entry.name = backend.name
                backend.failed_until = -math.inf  # it works (again)
                for item in first:
                    yield item
                try:
                    async for item in audio:
                        yield item
                except Exception:
                    # Audio already went out: retrying would repeat it. Fail the segment.
                    self._failed(backend)
                    raise
                return
        raise SynthesisError(
            f"every backend failed before its first audio: {'; '.join(failures)}"
        ) from last_error

    def _order(self) -> list[_Backend]:
        # Healthy backends in preference order; if all are cooling down, all of them
        # (an attempt may still succeed, and a segment nobody tried is certainly lost).
        now = anyio.current_time()
        healthy = [b for b in self._backends if b.failed_until <= now]
        return healthy or list(self._backends)

    def _failed(self, backend: _Backend) -> None:
        backend.failed_until = anyio.current_time() + self.timeouts.cooldown

    async def _first_audio(
        self, backend: _Backend, audio: AsyncIterator[object]
    ) -> list[bytes | TextTiming]:
        """Read up to the first audio bytes (timings before them are kept with them)."""
        items: list[bytes | TextTiming] = []
        with anyio.move_on_after(self.timeouts.first_byte) as scope:
            async for item in audio:
                if isinstance(item, (bytes, bytearray, memoryview)):
                    if item:
                        items.append(bytes(item))
                        return items
                elif isinstance(item, TextTiming):
                    items.append(item)
                else:
                    raise TypeError(
                        f"{type(backend.synthesizer).__name__}.synthesize() yielded a "
                        f"{type(item).__name__}; it must yield bytes (or TextTiming)"
                    )
        if scope.cancelled_caught:
            raise SynthesisTimeout(f"no first audio within {self.timeouts.first_byte:g} s")
        raise _NoAudio("it produced no audio")


def _start(backend: _Backend, text: str, request: SynthesisRequest | None) -> AsyncIterator[Any]:
    synthesizer = backend.synthesizer
    if request is not None and isinstance(synthesizer, RequestSynthesizer):
        result: object = synthesizer.synthesize_request(request)
    else:
        result = synthesizer.synthesize(text)
    if isinstance(result, AsyncIterator):
        return result
    if inspect.iscoroutine(result):
        result.close()
    return _raising(
        TypeError(
            f"{type(backend.synthesizer).__name__}.synthesize() returned a "
            f"{type(result).__name__}, not an async iterator of bytes"
        )
    )


async def _resampled(audio: AsyncIterator[Any], resampler: PcmResampler) -> AsyncIterator[Any]:
    """``audio`` converted by ``resampler``: timings as they are, no empty pieces."""
    async with aclosing(audio):
        async for item in audio:
            if isinstance(item, (bytes, bytearray, memoryview)):
                item = resampler.feed(bytes(item))
                if not item:
                    continue
            yield item
    rest = resampler.flush()
    if rest:
        yield rest


async def _raising(error: Exception) -> AsyncIterator[object]:
    nothing: tuple[object, ...] = ()
    for item in nothing:  # an async generator that raises at its first step
        yield item
    raise error


def _default_names(synthesizers: Sequence[Synthesizer]) -> list[str]:
    names: list[str] = []
    for synthesizer in synthesizers:
        base = type(synthesizer).__name__
        count = sum(1 for name in names if name == base or name.startswith(base + "#"))
        names.append(base if count == 0 else f"{base}#{count + 1}")
    return names
