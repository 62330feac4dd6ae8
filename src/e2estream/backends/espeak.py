"""``EspeakSynthesizer``: real speech with no server and no API key, through eSpeak NG.

eSpeak NG's shared library and voice data come from the ``espeakng-loader`` package
(``pip install "e2estream[espeak]"``). The library is driven with :mod:`ctypes`
(``_espeak_binding``) from one engine thread (``_espeak_engine``); this module is the
public synthesizer. The event loop never calls eSpeak and never blocks on it: a
``synthesize`` call that finds no audio ready waits in a worker thread of anyio's pool
(on a condition variable, not on eSpeak), so the same code runs on asyncio and on trio.

eSpeak reports where each word starts in its audio; ``synthesize`` yields those as
:class:`~e2estream.TextTiming` objects among the audio bytes (see ``_espeak_words``).
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from typing import ClassVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._audio import AudioFormat, TextTiming
from ._espeak_binding import EspeakVoice
from ._espeak_engine import EngineInfo, Job, get_engine

__all__ = ["EspeakSynthesizer", "EspeakVoice"]

#: Words per minute eSpeak NG accepts (``espeakRATE_MINIMUM``/``espeakRATE_MAXIMUM``);
#: 175 is its default.
RATE_RANGE = (80, 450)
#: Base pitch, 0-100; 50 is the voice's normal pitch.
PITCH_RANGE = (0, 100)

#: Seconds of audio one ``synthesize`` call may hold before eSpeak waits for its consumer,
#: by default. The engine is shared by the whole process and serves one call at a time,
#: so a consumer that reads slowly would hold up every other caller if eSpeak stopped at
#: each chunk. 30 s exceeds what a default segment (400 characters, about 25 s at 175
#: wpm) produces, so in a pipeline the engine never waits for a listener; only much
#: longer texts are throttled to their consumer's pace.
DEFAULT_MAX_BUFFERED_SECONDS = 30.0


def _normalize_tag(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def _check_int(name: str, value: object, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


class EspeakSynthesizer:
    """A :class:`~e2estream.Synthesizer` speaking with the embedded eSpeak NG engine.

    No server, no API key, no network: eSpeak NG's library and voices come from the
    ``espeakng-loader`` package (``pip install "e2estream[espeak]"``). It produces
    16-bit mono PCM at eSpeak's native rate (22050 Hz), streamed in chunks of about
    100 ms as eSpeak produces them, hundreds of times faster than real time.

    Choose the voice by language (``language="de"``: the voice eSpeak ranks best for
    that language; ``"de-AT"`` falls back to ``"de"``) or name one (``voice="en-US"``,
    ``voice="gmw/en-US"``, ``voice="English (America)"``). eSpeak's voice variants
    (``variant="f3"``, or ``voice="en+f3"``) change the speaker's character.

    All instances share one eSpeak engine, run in one background thread, one synthesis
    at a time in the order the ``synthesize`` calls started; the event loop never
    blocks on it. The first instance in a process loads eSpeak (about 50 ms, blocking);
    use ``await EspeakSynthesizer.create(...)`` to load it without blocking the loop.

    Args:
        language: Language code (BCP 47 style, any case, ``-`` or ``_``). Default
            ``"en"`` when ``voice`` is not given either.
        voice: An eSpeak voice name, identifier or short identifier, optionally with a
            ``+variant`` suffix. Mutually exclusive with ``language``.
        variant: A voice variant (``"f3"``, ``"m2"``, ``"female3"``, ``"klatt"``...).
        rate: Speaking rate in words per minute, 80-450 (eSpeak's default is 175).
        pitch: Base pitch, 0-100 (50 is the voice's normal pitch).
        max_buffered_seconds: Seconds of audio one :meth:`synthesize` call may hold
            before eSpeak waits for its consumer (30 s by default, more than a segment
            makes, so eSpeak is never held up by a listener in a pipeline). The engine
            serves one call at a time, so a small bound makes every caller wait for the
            slowest reader.

    Word timings: eSpeak reports where each word starts in its audio, so
    :meth:`synthesize` yields a :class:`~e2estream.TextTiming` per word among the audio
    bytes (:attr:`provides_timings`), and the spoken transcript of an interrupted reply
    is cut from eSpeak's own word positions instead of estimated. eSpeak runs on this
    machine's CPU (:attr:`compute_bound`).

    Raises:
        ImportError: If ``espeakng-loader`` is not installed.
        RuntimeError: If eSpeak NG's library or data cannot be loaded.
        ValueError: For an unknown language, voice or variant, both ``language`` and
            ``voice``, a rate or pitch out of range, or a ``max_buffered_seconds`` that
            is not positive and finite.
        TypeError: For options of the wrong type.

    Example::

        tts = EspeakSynthesizer(language="de", rate=190)
        async for item in tts.synthesize("Guten Tag!"):
            if isinstance(item, bytes):
                player.write(item)  # 16-bit mono PCM at tts.audio_format.sample_rate
            else:
                print(item)  # TextTiming(char_start=0, char_end=5, start=0.0, ...)

    """

    #: :meth:`synthesize` yields a :class:`~e2estream.TextTiming` per word with the audio.
    provides_timings: ClassVar[bool] = True
    #: eSpeak synthesizes on this machine's CPU: two segments at once only slow each other.
    compute_bound: ClassVar[bool] = True

    def __init__(
        self,
        language: str | None = None,
        *,
        voice: str | None = None,
        variant: str | None = None,
        rate: int = 175,
        pitch: int = 50,
        max_buffered_seconds: float = DEFAULT_MAX_BUFFERED_SECONDS,
    ) -> None:
        if language is not None and not isinstance(language, str):
            raise TypeError(f"language must be a str, not {type(language).__name__}")
        if voice is not None and not isinstance(voice, str):
            raise TypeError(f"voice must be a str, not {type(voice).__name__}")
        if variant is not None and not isinstance(variant, str):
            raise TypeError(f"variant must be a str, not {type(variant).__name__}")
        if language is not None and voice is not None:
            raise ValueError("pass language or voice, not both")
        self._rate = _check_int("rate", rate, RATE_RANGE)
        self._pitch = _check_int("pitch", pitch, PITCH_RANGE)
        if isinstance(max_buffered_seconds, bool) or not isinstance(
            max_buffered_seconds, (int, float)
        ):
            raise TypeError(
                f"max_buffered_seconds must be a number, not {type(max_buffered_seconds).__name__}"
            )
        if not (math.isfinite(max_buffered_seconds) and max_buffered_seconds > 0):
            raise ValueError(
                "max_buffered_seconds must be a positive, finite number of seconds, "
                f"got {max_buffered_seconds!r}"
            )
        self._max_buffered_seconds = float(max_buffered_seconds)
        info = get_engine().info
        if voice is not None:
            voice_name, _, suffix = voice.partition("+")
            if suffix:
                if variant is not None:
                    raise ValueError(f"voice {voice!r} already names a variant; drop variant=")
                variant = suffix
            self._voice = _find_voice(info, voice_name)
        else:
            if language is None:
                language = "en"
            self._voice = _voice_for_language(info, language)
        self._variant = None if variant is None else _find_variant(info, variant)
        self._espeak_name = self._voice.identifier
        if self._variant is not None:
            self._espeak_name += "+" + self._variant.short_name
        self._language = (
            _normalize_tag(language)
            if language is not None
            else (self._voice.languages[0] if self._voice.languages else "")
        )
        self._audio_format = AudioFormat("pcm_s16le", info.sample_rate, 1)

    @classmethod
    def for_language(
        cls, language: str, *, variant: str | None = None, rate: int = 175, pitch: int = 50
    ) -> EspeakSynthesizer:
        """Return a synthesizer speaking ``language``, e.g. the segmenter's language.

        Args:
            language: Language code, such as ``IncrementalSegmenter.language``.
            variant: A voice variant (``"f3"``...), or None for the voice's own.
            rate: Words per minute, 80-450.
            pitch: Base pitch, 0-100.

        Raises:
            ValueError: If eSpeak NG has no voice for ``language``, or an option is
                out of range.

        Example::

            segmenter = IncrementalSegmenter("de")
            tts = EspeakSynthesizer.for_language(segmenter.language)

        """
        return cls(language, variant=variant, rate=rate, pitch=pitch)

    @classmethod
    async def create(
        cls,
        language: str | None = None,
        *,
        voice: str | None = None,
        variant: str | None = None,
        rate: int = 175,
        pitch: int = 50,
        max_buffered_seconds: float = DEFAULT_MAX_BUFFERED_SECONDS,
    ) -> EspeakSynthesizer:
        """Like the constructor, but loads eSpeak NG without blocking the event loop.

        Takes the same arguments and raises the same exceptions as the constructor.
        """
        await anyio.to_thread.run_sync(get_engine)
        return cls(
            language,
            voice=voice,
            variant=variant,
            rate=rate,
            pitch=pitch,
            max_buffered_seconds=max_buffered_seconds,
        )

    @staticmethod
    def native_sample_rate() -> int:
        """Return eSpeak NG's output sample rate (22050 Hz) without synthesizing.

        Loads eSpeak NG on first use (blocking, about 50 ms).
        """
        return get_engine().info.sample_rate

    @staticmethod
    def available_voices() -> tuple[EspeakVoice, ...]:
        """Return eSpeak NG's voices (not variants), in eSpeak's order."""
        return get_engine().info.voices

    @staticmethod
    def available_variants() -> tuple[EspeakVoice, ...]:
        """Return eSpeak NG's voice variants (``f3``, ``m2``, ``klatt``, ...)."""
        return get_engine().info.variants

    @staticmethod
    def available_languages() -> tuple[str, ...]:
        """Return the language tags some voice speaks, sorted (``"de"``, ``"en-us"``...)."""
        return tuple(sorted(get_engine().info.by_language))

    @property
    def audio_format(self) -> AudioFormat:
        """16-bit little-endian mono PCM at eSpeak's native rate."""
        return self._audio_format

    @property
    def voice(self) -> EspeakVoice:
        """The voice in use."""
        return self._voice

    @property
    def variant(self) -> EspeakVoice | None:
        """The voice variant in use, if any."""
        return self._variant

    @property
    def language(self) -> str:
        """The language code asked for, or the voice's main language."""
        return self._language

    @property
    def rate(self) -> int:
        """Speaking rate in words per minute."""
        return self._rate

    @property
    def pitch(self) -> int:
        """Base pitch, 0-100."""
        return self._pitch

    def __repr__(self) -> str:
        return (
            f"EspeakSynthesizer(voice={self._espeak_name!r}, rate={self._rate}, "
            f"pitch={self._pitch})"
        )

    async def synthesize(self, text: str) -> AsyncGenerator[bytes | TextTiming, None]:
        """Yield 16-bit PCM for ``text`` as eSpeak NG produces it, with word timings.

        The audio comes in chunks of about 100 ms. Before the chunk in which a word
        starts, a :class:`~e2estream.TextTiming` says where: ``char_start``/``char_end``
        slice the word (a run of non-whitespace characters, punctuation included) out of
        ``text``, ``start`` is seconds from the start of this call's audio, ``end`` is
        None. Timings come in text order with non-decreasing starts, at most one per
        word; a word eSpeak reads without a word event of its own gets none.

        Text with nothing to speak (empty or whitespace) yields nothing. Closing the
        iterator early stops the synthesis at eSpeak's next buffer.

        Args:
            text: Plain text (not SSML) in the synthesizer's language.

        Yields:
            Non-empty, frame-aligned chunks of ``pcm_s16le`` audio, and
            :class:`~e2estream.TextTiming` objects.

        Raises:
            TypeError: If ``text`` is not a str.
            SynthesisError: If eSpeak NG fails.

        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        await anyio.lowlevel.checkpoint()
        # eSpeak reads up to the first NUL, so one inside the text would cut it short.
        # One character for one keeps every offset eSpeak reports valid in ``text``.
        text = text.replace("\0", " ")
        if not text.strip():
            return
        limit = int(self._max_buffered_seconds * self._audio_format.sample_rate) * 2
        job = Job(text, self._espeak_name, self._rate, self._pitch, limit)
        get_engine().speak(job)
        try:
            while True:
                item = job.take()
                if item is None:
                    # The wait happens in a pool thread. Abandoning it on cancellation is
                    # safe: it takes nothing, and cancel() below wakes it up at once.
                    await anyio.to_thread.run_sync(job.wait, abandon_on_cancel=True)
                    continue
                if not item:
                    return
                yield item
                await anyio.lowlevel.checkpoint()  # every __anext__ is a checkpoint
        finally:
            job.cancel()


def _find_voice(info: EngineInfo, name: str) -> EspeakVoice:
    wanted = name.strip().lower()
    for attribute in ("identifier", "short_name", "name"):
        for voice in info.voices:
            if str(getattr(voice, attribute)).lower() == wanted:
                return voice
    hint = ""
    if wanted in info.by_language or wanted.split("-")[0] in info.by_language:
        hint = f"; to pick a voice by language, use language={name!r}"
    raise ValueError(
        f"eSpeak NG has no voice {name!r}{hint}. Voices are named by identifier "
        "('gmw/en-US'), short identifier ('en-US') or name ('English (America)'); "
        "EspeakSynthesizer.available_voices() lists them"
    )


def _find_variant(info: EngineInfo, name: str) -> EspeakVoice:
    wanted = name.strip().lower()
    for attribute in ("short_name", "name"):
        for variant in info.variants:
            if str(getattr(variant, attribute)).lower() == wanted:
                return variant
    examples = ", ".join(sorted(v.short_name for v in info.variants)[:12])
    raise ValueError(
        f"eSpeak NG has no voice variant {name!r}; some that exist: {examples}, ... "
        "(EspeakSynthesizer.available_variants() lists them all)"
    )


def _voice_for_language(info: EngineInfo, language: str) -> EspeakVoice:
    tag = _normalize_tag(language)
    if not tag:
        raise ValueError("language must not be empty")
    parts = tag.split("-")
    # "de-AT" -> "de-at", then "de"; "zh-Hans-CN" -> ..., "zh".
    for end in range(len(parts), 0, -1):
        voice = info.by_language.get("-".join(parts[:end]))
        if voice is not None:
            return voice
    primaries = sorted({known.split("-")[0] for known in info.by_language})
    raise ValueError(
        f"eSpeak NG has no voice for language {language!r}; languages it speaks: "
        + ", ".join(primaries)
    )
