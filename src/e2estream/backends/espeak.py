"""``EspeakSynthesizer``: real speech with no server and no API key, through eSpeak NG.

eSpeak NG's shared library and voice data come from the ``espeakng-loader`` package
(``pip install "e2estream[espeak]"``); this module drives the library with :mod:`ctypes`.

How it works::

    synthesize(text)  ──job──►  one worker thread owning eSpeak NG (process-wide, FIFO)
         ▲                              │ espeak_Synth() calls our callback with ~100 ms
         │                              ▼ of PCM at a time
         └──── await chunk ◄──── per-call hand-off (thread-safe, bounded in bytes)

eSpeak NG keeps its state (voice, rate, pitch, the synthesis in progress) in C globals
and is not thread-safe, so every call into the library happens in one dedicated daemon
thread, one synthesis at a time, in the order the calls started. The event loop never
calls eSpeak and never blocks on it: a ``synthesize`` call that finds no audio ready
waits in a worker thread of anyio's pool (on a condition variable, not on eSpeak), so
the same code runs on asyncio and on trio.

Closing a ``synthesize`` iterator early (``break``, ``aclose()``, cancellation) marks its
job cancelled: a queued job is skipped, and a running one is aborted at eSpeak's next
callback (the callback returns 1), so the engine is free again within one audio buffer.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import os
import queue
import sys
import threading
from array import array
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._audio import AudioFormat
from .._exceptions import SynthesisError

__all__ = ["EspeakSynthesizer", "EspeakVoice"]

logger = logging.getLogger("e2estream")

T = TypeVar("T")

_INSTALL_HINT = 'pip install "e2estream[espeak]"'

#: Words per minute eSpeak NG accepts (``espeakRATE_MINIMUM``/``espeakRATE_MAXIMUM``);
#: 175 is its default.
RATE_RANGE = (80, 450)
#: Base pitch, 0-100; 50 is the voice's normal pitch.
PITCH_RANGE = (0, 100)

#: Milliseconds of audio per callback, hence per chunk ``synthesize`` yields. eSpeak runs
#: hundreds of times faster than real time, so the size does not delay the first audio;
#: 100 ms (about 4.4 kB) keeps the number of events per second of speech small.
_BUFFER_MS = 100

#: Seconds of audio one ``synthesize`` call may hold before eSpeak waits for its consumer.
#: The engine is shared by the whole process and serves one call at a time, so a consumer
#: that reads slowly would hold up every other caller if eSpeak stopped at each chunk.
#: 30 s exceeds what a default segment (400 characters, about 25 s at 175 wpm) produces,
#: so in a pipeline the engine never waits for a listener; only much longer texts are
#: throttled to their consumer's pace.
_MAX_AHEAD_SECONDS = 30.0

# eSpeak NG's C API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2  # call the callback from inside espeak_Synth, in its thread
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_CHARS_UTF8 = 0x1
_ENDPAUSE = 0x1000  # a sentence pause at the end, so consecutive segments don't run on
_POS_CHARACTER = 1
_RATE = 1
_PITCH = 3
_EE_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)


class _VoiceStruct(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h."""

    _fields_ = (
        ("name", ctypes.c_char_p),
        # A sequence of (priority byte, NUL-terminated language) pairs, ending with a 0
        # priority; c_void_p because c_char_p would stop at the first NUL.
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


@dataclass(frozen=True)
class EspeakVoice:
    """One of eSpeak NG's voices (or voice variants), as listed by the library.

    Attributes:
        name: Human-readable name, e.g. ``"English (America)"``.
        identifier: The voice file, e.g. ``"gmw/en-US"`` (``"!v/f3"`` for a variant).
        languages: Language tags the voice speaks, most suitable first, lower case
            (``("en-us", "en")``); empty for variants.

    """

    name: str
    identifier: str
    languages: tuple[str, ...]

    @property
    def short_name(self) -> str:
        """The identifier without its family directory: ``"en-US"``, ``"f3"``."""
        return self.identifier.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _EngineInfo:
    sample_rate: int
    version: str
    voices: tuple[EspeakVoice, ...]
    variants: tuple[EspeakVoice, ...]
    # Language tag -> the voice eSpeak ranks best for it.
    by_language: dict[str, EspeakVoice]


class _Job:
    """One ``synthesize`` call: its settings and the hand-off between the two threads.

    The engine thread puts chunks in (:meth:`put`); the event loop takes them out without
    blocking (:meth:`take`), and when there is nothing to take, a pool thread waits for a
    change (:meth:`wait`). Waiting never removes a chunk, so a wait abandoned on
    cancellation loses no audio; :meth:`cancel` wakes every waiter, so no thread stays
    blocked.
    """

    def __init__(self, text: bytes, voice: str, rate: int, pitch: int, limit: int) -> None:
        self.text = text
        self.voice = voice
        self.rate = rate
        self.pitch = pitch
        self._limit = limit
        self._cond = threading.Condition(threading.Lock())
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self.produced = 0  # bytes eSpeak delivered for this job (for tests and stats)
        self.started = False
        self.done = False
        self.cancelled = False
        self.error: BaseException | None = None

    # Engine thread.
    def put(self, data: bytes) -> bool:
        """Hand over a chunk, waiting while the hand-off is full; False if cancelled."""
        with self._cond:
            while self._buffered >= self._limit and not self.cancelled:
                self._cond.wait()
            if self.cancelled:
                return False
            self._chunks.append(data)
            self._buffered += len(data)
            self.produced += len(data)
            self._cond.notify_all()
            return True

    def finish(self, error: BaseException | None = None) -> None:
        """Mark the job complete (with the error that ended it, if any)."""
        with self._cond:
            if error is not None and self.error is None:
                self.error = error
            self.done = True
            self._cond.notify_all()

    # Any thread.
    def cancel(self) -> None:
        """Stop the job: skip it if queued, abort it at the next callback if running."""
        with self._cond:
            self.cancelled = True
            self._chunks.clear()
            self._buffered = 0
            self._cond.notify_all()

    def wait(self) -> None:
        """Block until there is a chunk to take, the job ended, or it was cancelled."""
        with self._cond:
            while not (self._chunks or self.done or self.cancelled):
                self._cond.wait()

    # Event loop.
    def take(self) -> bytes | None:
        """Return the next chunk, ``b""`` at the end, or None if the caller must wait.

        Raises:
            BaseException: The error that ended the job, after its last chunk.

        """
        with self._cond:
            if self._chunks:
                data = self._chunks.popleft()
                self._buffered -= len(data)
                self._cond.notify_all()  # the engine may be waiting for room
                return data
            if self.done:
                if self.error is not None:
                    raise self.error
                return b""
            return None


class _Engine:
    """The process-wide eSpeak NG instance and the one thread allowed to call it."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise ImportError(
                "EspeakSynthesizer needs the espeakng-loader package, which ships eSpeak "
                f"NG's library and voices: {_INSTALL_HINT}"
            ) from exc
        library_path = str(espeakng_loader.get_library_path())
        try:
            self._data_path = str(espeakng_loader.get_data_path())
            self._lib = ctypes.CDLL(library_path)
        except (OSError, RuntimeError) as exc:
            raise RuntimeError(
                f"could not load eSpeak NG from {library_path!r} ({exc}); "
                f"reinstall it with: {_INSTALL_HINT}"
            ) from exc
        self._declare_signatures()
        # Kept referenced for the life of the engine: eSpeak holds the raw pointer.
        self._callback = _SynthCallback(self._on_audio)
        self._current: _Job | None = None
        self._voice: str | None = None  # the voice eSpeak has loaded
        # Unbounded, but every queued job belongs to a ``synthesize`` call that is
        # waiting for it, so its length is bounded by the callers, not by the engine.
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="e2estream-espeak", daemon=True)
        self._thread.start()
        self.info = self.call(self._initialize)

    def _declare_signatures(self) -> None:
        lib = self._lib
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = (ctypes.POINTER(ctypes.c_char_p),)
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ListVoices.argtypes = (ctypes.POINTER(_VoiceStruct),)
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int

    # --- the engine thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task()
            except BaseException:  # pragma: no cover - tasks capture their own errors
                logger.exception("eSpeak NG worker task failed")

    def _initialize(self) -> _EngineInfo:
        lib = self._lib
        sample_rate = int(
            lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS,
                _BUFFER_MS,
                self._data_path.encode(),
                _INITIALIZE_DONT_EXIT,
            )
        )
        if sample_rate <= 0:
            raise RuntimeError(
                f"eSpeak NG failed to initialize with data from {self._data_path!r}; "
                f"reinstall it with: {_INSTALL_HINT}"
            )
        lib.espeak_SetSynthCallback(self._callback)
        version = lib.espeak_Info(None)
        voices = self._list_voices(None)
        # eSpeak lists the variants for the pseudo-language "variant". The buffer must
        # outlive the call, hence the local name.
        variant_tag = ctypes.create_string_buffer(b"variant")
        variant_spec = _VoiceStruct()
        variant_spec.languages = ctypes.addressof(variant_tag)
        variants = self._list_voices(variant_spec)
        by_language: dict[str, tuple[int, EspeakVoice]] = {}
        for voice, priorities in voices:
            for priority, language in zip(priorities, voice.languages, strict=True):
                best = by_language.get(language)
                # Lower numbers are preferred; ties go to the voice eSpeak lists first.
                if best is None or priority < best[0]:
                    by_language[language] = (priority, voice)
        return _EngineInfo(
            sample_rate=sample_rate,
            version=version.decode() if version else "unknown",
            voices=tuple(voice for voice, _ in voices),
            variants=tuple(voice for voice, _ in variants),
            by_language={language: voice for language, (_, voice) in by_language.items()},
        )

    def _list_voices(self, spec: _VoiceStruct | None) -> list[tuple[EspeakVoice, list[int]]]:
        array_ = self._lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        out: list[tuple[EspeakVoice, list[int]]] = []
        i = 0
        while array_[i]:
            raw = array_[i].contents
            languages: list[str] = []
            priorities: list[int] = []
            address = raw.languages
            while address:
                priority = ctypes.c_ubyte.from_address(address).value
                if priority == 0:
                    break
                tag = ctypes.string_at(address + 1)
                languages.append(tag.decode("ascii", "replace").lower())
                priorities.append(priority)
                address += len(tag) + 2
            voice = EspeakVoice(
                name=(raw.name or b"").decode("utf-8", "replace"),
                identifier=(raw.identifier or b"").decode("utf-8", "replace"),
                languages=tuple(languages) if spec is None else (),
            )
            out.append((voice, priorities))
            i += 1
        return out

    def _speak(self, job: _Job) -> None:
        if job.cancelled:
            job.finish()
            return
        job.started = True
        error: BaseException | None = None
        try:
            self._configure(job)
            self._current = job
            status = int(
                self._lib.espeak_Synth(
                    job.text,
                    len(job.text),
                    0,
                    _POS_CHARACTER,
                    0,
                    _CHARS_UTF8 | _ENDPAUSE,
                    None,
                    None,
                )
            )
            # An abort requested by our callback also makes espeak_Synth report an error.
            if status != _EE_OK and not job.cancelled and job.error is None:
                error = SynthesisError(f"eSpeak NG failed to synthesize (error {status})")
        except Exception as exc:
            error = exc
        finally:
            self._current = None
            job.finish(error)

    def _configure(self, job: _Job) -> None:
        lib = self._lib
        if job.voice != self._voice:
            self._voice = None  # unknown state if loading fails half-way
            status = int(lib.espeak_SetVoiceByName(job.voice.encode()))
            if status != _EE_OK:
                raise SynthesisError(f"eSpeak NG could not load voice {job.voice!r} ({status})")
            self._voice = job.voice
        # Set on every job: another EspeakSynthesizer may have changed them.
        lib.espeak_SetParameter(_RATE, job.rate, 0)
        lib.espeak_SetParameter(_PITCH, job.pitch, 0)

    def _on_audio(self, wav: int | None, samples: int, events: int | None) -> int:
        """Receive audio from eSpeak (its synth callback): 0 to go on, 1 to abort."""
        job = self._current
        if job is None:  # pragma: no cover - eSpeak only calls back inside espeak_Synth
            return 1
        # Exceptions must not escape into C (ctypes would print and ignore them).
        try:
            if not wav or samples <= 0:
                return 1 if job.cancelled else 0  # NULL marks the end of the synthesis
            data = ctypes.string_at(wav, samples * 2)
            if sys.byteorder == "big":  # pragma: no cover - eSpeak writes native shorts
                swapped = array("h", data)
                swapped.byteswap()
                data = swapped.tobytes()
            return 0 if job.put(data) else 1
        except BaseException as exc:  # pragma: no cover - defensive
            job.error = exc
            return 1

    # --- any thread --------------------------------------------------------------------

    def submit(self, task: Callable[[], None]) -> None:
        """Run ``task`` in the engine thread after the tasks submitted before it."""
        self._queue.put(task)

    def call(self, func: Callable[[], T]) -> T:
        """Run ``func`` in the engine thread and wait for its result (blocking)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def task() -> None:
            try:
                future.set_result(func())
            except BaseException as exc:
                future.set_exception(exc)

        self.submit(task)
        return future.result()

    def speak(self, job: _Job) -> None:
        """Queue ``job`` for synthesis."""
        self.submit(lambda: self._speak(job))


_engine_lock = threading.Lock()
_engine: _Engine | None = None


def _get_engine() -> _Engine:
    """Return the process-wide engine, loading eSpeak NG on first use (blocking)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


def _forget_engine_after_fork() -> None:
    # The engine thread does not exist in a forked child: start a fresh one on first use.
    global _engine, _engine_lock
    _engine = None
    _engine_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engine_after_fork)


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

    Raises:
        ImportError: If ``espeakng-loader`` is not installed.
        RuntimeError: If eSpeak NG's library or data cannot be loaded.
        ValueError: For an unknown language, voice or variant, both ``language`` and
            ``voice``, or a rate or pitch out of range.
        TypeError: For options of the wrong type.

    Example::

        tts = EspeakSynthesizer(language="de", rate=190)
        async for pcm in tts.synthesize("Guten Tag!"):
            player.write(pcm)  # 16-bit mono PCM at tts.audio_format.sample_rate

    """

    def __init__(
        self,
        language: str | None = None,
        *,
        voice: str | None = None,
        variant: str | None = None,
        rate: int = 175,
        pitch: int = 50,
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
        info = _get_engine().info
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
    ) -> EspeakSynthesizer:
        """Like the constructor, but loads eSpeak NG without blocking the event loop.

        Takes the same arguments and raises the same exceptions as the constructor.
        """
        await anyio.to_thread.run_sync(_get_engine)
        return cls(language, voice=voice, variant=variant, rate=rate, pitch=pitch)

    @staticmethod
    def native_sample_rate() -> int:
        """Return eSpeak NG's output sample rate (22050 Hz) without synthesizing.

        Loads eSpeak NG on first use (blocking, about 50 ms).
        """
        return _get_engine().info.sample_rate

    @staticmethod
    def available_voices() -> tuple[EspeakVoice, ...]:
        """Return eSpeak NG's voices (not variants), in eSpeak's order."""
        return _get_engine().info.voices

    @staticmethod
    def available_variants() -> tuple[EspeakVoice, ...]:
        """Return eSpeak NG's voice variants (``f3``, ``m2``, ``klatt``, ...)."""
        return _get_engine().info.variants

    @staticmethod
    def available_languages() -> tuple[str, ...]:
        """Return the language tags some voice speaks, sorted (``"de"``, ``"en-us"``...)."""
        return tuple(sorted(_get_engine().info.by_language))

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

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """Yield 16-bit PCM for ``text`` as eSpeak NG produces it, about 100 ms a chunk.

        Text with nothing to speak (empty or whitespace) yields nothing. Closing the
        iterator early stops the synthesis at eSpeak's next buffer.

        Args:
            text: Plain text (not SSML) in the synthesizer's language.

        Yields:
            Non-empty, frame-aligned chunks of ``pcm_s16le`` audio.

        Raises:
            TypeError: If ``text`` is not a str.
            SynthesisError: If eSpeak NG fails.

        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        await anyio.lowlevel.checkpoint()
        # eSpeak reads up to the first NUL, so one inside the text would cut it short.
        text = text.replace("\0", " ")
        if not text.strip():
            return
        limit = int(_MAX_AHEAD_SECONDS * self._audio_format.sample_rate) * 2
        job = _Job(text.encode("utf-8") + b"\0", self._espeak_name, self._rate, self._pitch, limit)
        _get_engine().speak(job)
        try:
            while True:
                data = job.take()
                if data is None:
                    # The wait happens in a pool thread. Abandoning it on cancellation is
                    # safe: it takes nothing, and cancel() below wakes it up at once.
                    await anyio.to_thread.run_sync(job.wait, abandon_on_cancel=True)
                    continue
                if not data:
                    return
                yield data
                await anyio.lowlevel.checkpoint()  # every __anext__ is a checkpoint
        finally:
            job.cancel()


def _find_voice(info: _EngineInfo, name: str) -> EspeakVoice:
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


def _find_variant(info: _EngineInfo, name: str) -> EspeakVoice:
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


def _voice_for_language(info: _EngineInfo, language: str) -> EspeakVoice:
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
