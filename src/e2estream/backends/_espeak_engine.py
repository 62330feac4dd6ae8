"""The process-wide eSpeak NG engine: one thread that owns the library, and its jobs.

How it works::

    synthesize(text)  ──job──►  one worker thread owning eSpeak NG (process-wide, FIFO)
         ▲                              │ espeak_Synth() calls our callback with ~100 ms
         │                              ▼ of PCM (and the word events in it) at a time
         └──── await item ◄───── per-call hand-off (thread-safe, bounded in bytes)

eSpeak NG keeps its state (voice, rate, pitch, the synthesis in progress) in C globals
and is not thread-safe, so every call into the library happens in one dedicated daemon
thread, one synthesis at a time, in the order the calls started.

Closing a ``synthesize`` iterator early marks its job cancelled: a queued job is skipped,
and a running one is aborted at eSpeak's next callback (the callback returns 1), so the
engine is free again within one audio buffer.

:meth:`Engine.watch` is the seam for tests: it records the jobs submitted and when each
ran, in which thread, without replacing any of the engine's methods.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .._audio import TextTiming
from .._exceptions import SynthesisError
from . import _espeak_binding as binding
from ._espeak_binding import EspeakVoice
from ._espeak_words import WordTimer

__all__ = ["BUFFER_MS", "Engine", "EngineInfo", "Job", "JobLog", "get_engine"]

logger = logging.getLogger("e2estream")

T = TypeVar("T")

#: Milliseconds of audio per callback, hence per chunk ``synthesize`` yields. eSpeak runs
#: hundreds of times faster than real time, so the size does not delay the first audio;
#: 100 ms (about 4.4 kB) keeps the number of events per second of speech small.
BUFFER_MS = 100


@dataclass(frozen=True)
class EngineInfo:
    sample_rate: int
    version: str
    voices: tuple[EspeakVoice, ...]
    variants: tuple[EspeakVoice, ...]
    # Language tag -> the voice eSpeak ranks best for it.
    by_language: dict[str, EspeakVoice]


class Job:
    """One ``synthesize`` call: its settings and the hand-off between the two threads.

    The engine thread puts audio and timings in (:meth:`put`); the event loop takes them
    out without blocking (:meth:`take`), and when there is nothing to take, a pool thread
    waits for a change (:meth:`wait`). Waiting never removes an item, so a wait abandoned
    on cancellation loses nothing; :meth:`cancel` wakes every waiter, so no thread stays
    blocked. Only audio counts against ``limit`` (bytes); timings are a few per chunk.
    """

    def __init__(self, text: str, voice: str, rate: int, pitch: int, limit: int) -> None:
        self.text = text.encode("utf-8") + b"\0"
        self.words = WordTimer(text)
        self.voice = voice
        self.rate = rate
        self.pitch = pitch
        self._limit = limit
        self._cond = threading.Condition(threading.Lock())
        self._items: deque[bytes | TextTiming] = deque()
        self._buffered = 0
        self.produced = 0  # bytes eSpeak delivered for this job (for tests and stats)
        self.started = False
        self.done = False
        self.cancelled = False
        self.error: BaseException | None = None

    # Engine thread.
    def put(self, data: bytes, timings: Sequence[TextTiming] = ()) -> bool:
        """Hand over timings and then a chunk, waiting while full; False if cancelled."""
        with self._cond:
            while self._buffered >= self._limit and not self.cancelled:
                self._cond.wait()
            if self.cancelled:
                return False
            # Timings first: each goes out before (or with) the audio its word starts in.
            self._items.extend(timings)
            if data:
                self._items.append(data)
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
            self._items.clear()
            self._buffered = 0
            self._cond.notify_all()

    def wait(self) -> None:
        """Block until there is an item to take, the job ended, or it was cancelled."""
        with self._cond:
            while not (self._items or self.done or self.cancelled):
                self._cond.wait()

    # Event loop.
    def take(self) -> bytes | TextTiming | None:
        """Return the next item, ``b""`` at the end, or None if the caller must wait.

        Raises:
            BaseException: The error that ended the job, after its last item.

        """
        with self._cond:
            if self._items:
                item = self._items.popleft()
                if isinstance(item, bytes):
                    self._buffered -= len(item)
                    self._cond.notify_all()  # the engine may be waiting for room
                return item
            if self.done:
                if self.error is not None:
                    raise self.error
                return b""
            return None


@dataclass
class JobLog:
    """What :meth:`Engine.watch` saw: the jobs submitted, and each run's start and end.

    Attributes:
        jobs: The jobs submitted while watching, in submission order.
        runs: ``("start" | "end", job, thread id)`` as the engine thread ran each job
            it did not skip.
        before_run: Called in the engine thread with each watched job just before it
            runs (a test may change the job's settings there, say to a voice eSpeak
            cannot load).
    """

    jobs: list[Job] = field(default_factory=list)
    runs: list[tuple[str, Job, int]] = field(default_factory=list)
    before_run: Callable[[Job], None] | None = None


class Engine:
    """The process-wide eSpeak NG instance and the one thread allowed to call it."""

    def __init__(self) -> None:
        self.lib, self._data_path = binding.load_library()
        # Kept referenced for the life of the engine: eSpeak holds the raw pointer.
        self._callback = binding.SynthCallback(self._on_audio)
        self._current: Job | None = None
        self._voice: str | None = None  # the voice eSpeak has loaded
        # Unbounded, but every queued job belongs to a ``synthesize`` call that is
        # waiting for it, so its length is bounded by the callers, not by the engine.
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._logs: list[JobLog] = []  # see watch()
        self._logs_lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="e2estream-espeak", daemon=True)
        self.thread.start()
        self.info = self.call(self._initialize)

    # --- the engine thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task()
            except BaseException:  # pragma: no cover - tasks capture their own errors
                logger.exception("eSpeak NG worker task failed")

    def _initialize(self) -> EngineInfo:
        lib = self.lib
        sample_rate = int(
            lib.espeak_Initialize(
                binding.AUDIO_OUTPUT_SYNCHRONOUS,
                BUFFER_MS,
                self._data_path.encode(),
                binding.INITIALIZE_DONT_EXIT,
            )
        )
        if sample_rate <= 0:
            raise RuntimeError(
                f"eSpeak NG failed to initialize with data from {self._data_path!r}; "
                f"reinstall it with: {binding.INSTALL_HINT}"
            )
        lib.espeak_SetSynthCallback(self._callback)
        version = lib.espeak_Info(None)
        voices = binding.list_voices(lib, None)
        # eSpeak lists the variants for the pseudo-language "variant". The buffer must
        # outlive the call, hence the local name.
        variant_tag = ctypes.create_string_buffer(b"variant")
        variant_spec = binding.VoiceStruct()
        variant_spec.languages = ctypes.addressof(variant_tag)
        variants = binding.list_voices(lib, variant_spec)
        by_language: dict[str, tuple[int, EspeakVoice]] = {}
        for voice, priorities in voices:
            for priority, language in zip(priorities, voice.languages, strict=True):
                best = by_language.get(language)
                # Lower numbers are preferred; ties go to the voice eSpeak lists first.
                if best is None or priority < best[0]:
                    by_language[language] = (priority, voice)
        return EngineInfo(
            sample_rate=sample_rate,
            version=version.decode() if version else "unknown",
            voices=tuple(voice for voice, _ in voices),
            variants=tuple(voice for voice, _ in variants),
            by_language={language: voice for language, (_, voice) in by_language.items()},
        )

    def _speak(self, job: Job) -> None:
        if job.cancelled:
            job.finish()
            return
        logs = self._logs_of(job)
        for log in logs:
            log.runs.append(("start", job, threading.get_ident()))
            if log.before_run is not None:
                log.before_run(job)
        job.started = True
        error: BaseException | None = None
        try:
            self._configure(job)
            self._current = job
            status = int(
                self.lib.espeak_Synth(
                    job.text,
                    len(job.text),
                    0,
                    binding.POS_CHARACTER,
                    0,
                    binding.CHARS_UTF8 | binding.ENDPAUSE,
                    None,
                    None,
                )
            )
            # An abort requested by our callback also makes espeak_Synth report an error.
            if status != binding.EE_OK and not job.cancelled and job.error is None:
                error = SynthesisError(f"eSpeak NG failed to synthesize (error {status})")
        except Exception as exc:
            error = exc
        finally:
            self._current = None
            for log in logs:
                log.runs.append(("end", job, threading.get_ident()))
            job.finish(error)

    def _configure(self, job: Job) -> None:
        lib = self.lib
        if job.voice != self._voice:
            self._voice = None  # unknown state if loading fails half-way
            status = int(lib.espeak_SetVoiceByName(job.voice.encode()))
            if status != binding.EE_OK:
                raise SynthesisError(f"eSpeak NG could not load voice {job.voice!r} ({status})")
            self._voice = job.voice
        # Set on every job: another EspeakSynthesizer may have changed them.
        lib.espeak_SetParameter(binding.RATE, job.rate, 0)
        lib.espeak_SetParameter(binding.PITCH, job.pitch, 0)

    def _on_audio(self, wav: int | None, samples: int, events: Any) -> int:
        """Receive audio from eSpeak (its synth callback): 0 to go on, 1 to abort."""
        job = self._current
        if job is None:  # pragma: no cover - eSpeak only calls back inside espeak_Synth
            return 1
        # Exceptions must not escape into C (ctypes would print and ignore them).
        try:
            # The events of a callback are those of the audio it carries (audio_position
            # counts from the start of this espeak_Synth call, like the bytes delivered).
            timings = [
                timing
                for position, milliseconds in binding.word_events(events)
                if (timing := job.words.feed(position, milliseconds)) is not None
            ]
            data = b""
            if wav and samples > 0:  # NULL marks the end of the synthesis
                data = ctypes.string_at(wav, samples * 2)
                if sys.byteorder == "big":  # pragma: no cover - eSpeak writes native shorts
                    swapped = array("h", data)
                    swapped.byteswap()
                    data = swapped.tobytes()
            if not (data or timings):
                return 1 if job.cancelled else 0
            return 0 if job.put(data, timings) else 1
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

    def speak(self, job: Job) -> None:
        """Queue ``job`` for synthesis."""
        with self._logs_lock:
            for log in self._logs:
                log.jobs.append(job)
        self.submit(lambda: self._speak(job))

    @contextmanager
    def watch(self, before_run: Callable[[Job], None] | None = None) -> Iterator[JobLog]:
        """Record the jobs submitted inside the block and their runs (see :class:`JobLog`)."""
        log = JobLog(before_run=before_run)
        with self._logs_lock:
            self._logs.append(log)
        try:
            yield log
        finally:
            with self._logs_lock:
                self._logs.remove(log)

    def _logs_of(self, job: Job) -> list[JobLog]:
        with self._logs_lock:
            return [log for log in self._logs if any(watched is job for watched in log.jobs)]


_engine_lock = threading.Lock()
_engine: Engine | None = None


def get_engine() -> Engine:
    """Return the process-wide engine, loading eSpeak NG on first use (blocking)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine


def _forget_engine_after_fork() -> None:
    # The engine thread does not exist in a forked child: start a fresh one on first use.
    global _engine, _engine_lock
    _engine = None
    _engine_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engine_after_fork)
