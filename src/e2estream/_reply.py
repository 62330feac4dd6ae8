"""``ReplyStream``: the events of one reply, its metrics, and interruption (barge-in)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel

from ._audio import AudioFormat
from ._events import (
    AudioEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    ReplyMetrics,
    SegmentDoneEvent,
    SegmentEvent,
    TokenEvent,
)
from ._loopclock import loop_clock
from ._playback import PlaybackClock
from ._reply_events import ReplyEvents
from ._spoken import DEFAULT_CHARS_PER_SECOND, SegmentAudio, SpokenText, spoken_text
from ._synthesizer import AudioChunkStream
from ._util import CANCEL_CHECK_EVERY
from ._validate import check_played

__all__ = ["CANCEL_CHECK_EVERY", "ReplyControl", "ReplyStream"]


class ReplyControl:
    """What the pipeline's stages share with the reply stream, to stop them on demand."""

    def __init__(self) -> None:
        self.speaking = True  # segments still go to the TTS
        self.llm_scope = anyio.CancelScope()
        self.llm_finished = anyio.Event()  # the LLM stream has ended and been closed
        self.segments_made = 0
        self.error: BaseException | None = None  # the token source failed with this
        self.chunks: AudioChunkStream | None = None
        self.closed = False  # the stream_reply() block has exited
        self.segments_done = 0  # SegmentDoneEvents the consumer has received
        self.stall_scope = anyio.CancelScope()  # the stall watcher's
        self.producers = 2  # the LLM and audio stages still running
        self.stages_running = 0  # tasks of stream_reply's stages not yet ended

    def more_audio_expected(self) -> bool:
        """True while the consumer has not received the end of every segment to come."""
        if not self.speaking:
            return False  # interrupted: no more audio, and none missed
        return not self.llm_finished.is_set() or self.segments_done < self.segments_made

    def producer_finished(self) -> None:
        """A stage producing events ended; after the last, the stall watcher stops too."""
        self.producers -= 1
        if self.producers == 0:
            self.stall_scope.cancel()

    def fail(self, exc: BaseException) -> None:
        """The reply cannot go on: stop the LLM and the TTS; the consumer gets ``exc``.

        Not the stages' task group, which also holds the consumer's code: the consumer
        sees the events already buffered, then this exception.
        """
        self.error = exc
        self.llm_scope.cancel()
        if self.chunks is not None:
            self.chunks.stop()

    def audio_ended(self, error: BaseException | None) -> None:
        """The reply's audio has ended (taken by the consumer), or failed with ``error``."""
        # The text source failed (ProgressiveSynthesizer re-raises it at the end of the
        # audio); the token stage reports that error itself, so record one only if not.
        if error is not None and self.error is None:
            self.fail(error)
        self.producer_finished()


class ReplyStream(AsyncIterator[Event]):
    """The async iterator of events yielded by :func:`~e2estream.stream_reply`.

    Yields :class:`~e2estream.TokenEvent`, :class:`~e2estream.SegmentEvent`,
    :class:`~e2estream.AudioEvent`, :class:`~e2estream.SegmentDoneEvent` and
    :class:`~e2estream.StallEvent` and :class:`~e2estream.ErrorEvent` as they happen, then one
    :class:`~e2estream.DoneEvent`. Keeps the metrics so far in :attr:`metrics`, and the
    reply's audio timeline, from which :meth:`spoken` tells what the listener heard.

    Barge-in: :meth:`interrupt` stops the audio at once and returns the spoken part of
    the reply; the host stores that as the assistant's turn.

    Iterating is a cancellation point once every eight events, not on every one (that
    check is a tenth of the library's cost per event on asyncio): a consumer whose task
    is cancelled receives at most seven more events, and loses none.
    """

    def __init__(
        self,
        events: ReplyEvents,
        audio_format: AudioFormat,
        control: ReplyControl,
        playback: PlaybackClock,
    ) -> None:
        self._events = events
        self._audio_format = audio_format
        self._bytes_per_second = audio_format.bytes_per_second  # None: compressed
        self._control = control
        self._playback = playback
        self._clock = loop_clock()
        self._started = self._clock()
        self._parts: list[str] = []
        self._first_token: float | None = None
        self._first_segment: float | None = None
        self._first_audio: float | None = None
        self._total = 0.0
        self._tokens = 0
        self._segments = 0
        self._audio_bytes = 0
        self._errors = 0
        self._finished = False
        self._timeline: list[SegmentAudio] = []  # every segment, in order
        self._entries: dict[int, SegmentAudio] = {}  # the same, by segment index
        self._timeline_end = 0.0  # seconds of audio in the timeline
        self._interruption: SpokenText | None = None
        self._interrupt_done: anyio.Event | None = None
        self._unchecked = CANCEL_CHECK_EVERY - 1  # so the first __anext__ checks

    def __aiter__(self) -> ReplyStream:
        return self

    @property
    def text(self) -> str:
        """The reply text received so far."""
        return "".join(self._parts)

    @property
    def interrupted(self) -> bool:
        """True once :meth:`interrupt` has been called (before the reply ended)."""
        return self._interruption is not None

    @property
    def audio_format(self) -> AudioFormat:
        """The format of this reply's audio, known before any audio arrives.

        Hosts announce it to their client first (``e2estream.asgi`` does).
        """
        return self._audio_format

    @property
    def audio_delivered(self) -> float:
        """Seconds of audio delivered so far (0.0 for compressed formats)."""
        return self._playback.delivered

    @property
    def playback_position(self) -> float:
        """Where the listener's player is assumed to be, in seconds of the reply's audio.

        Real-time playback from the first audio delivered, pausing while no audio is
        there (a stall), or the last :meth:`report_played` plus the time since. Hosts
        without a player that reports (a phone bridge, say) can pass this to
        :meth:`interrupt`.
        """
        return self._playback.position(anyio.current_time())

    @property
    def metrics(self) -> ReplyMetrics:
        """Timings and counts of the events delivered so far."""
        return ReplyMetrics(
            time_to_first_token=self._first_token,
            time_to_first_segment=self._first_segment,
            time_to_first_audio=self._first_audio,
            total_time=self._total if self._finished else self._elapsed(),
            tokens=self._tokens,
            segments=self._segments,
            audio_bytes=self._audio_bytes,
            audio_duration=self._audio_format.duration(self._audio_bytes),
            errors=self._errors,
            stall_time=self._playback.stall_time,
            stalls=self._playback.stalls,
        )

    def report_played(self, seconds: float) -> None:
        """Tell the pipeline how far the listener's player has got, in seconds of audio.

        Pacing (``max_ahead``) then measures its look-ahead from this position instead
        of assuming real-time playback from the first audio. Report as often as the
        player tells you; between reports playback is assumed to go on in real time.

        Raises:
            ValueError: If ``seconds`` is negative or not finite.
        """
        self._playback.report(seconds, anyio.current_time())

    def spoken(self, played: float | None = None) -> SpokenText:
        """Return the part of the reply heard after ``played`` seconds of its audio.

        Does not interrupt anything: for captions, and for hosts that stop playback
        themselves.

        Args:
            played: Seconds of this reply's audio the client played (the scale of
                :attr:`AudioEvent.reply_time <e2estream.AudioEvent.reply_time>`). None:
                all audio delivered so far.

        Raises:
            ValueError: If ``played`` is negative or not a finite number.
        """
        played = self._timeline_end if played is None else check_played(played)
        control = self._control
        complete = (
            control.llm_finished.is_set()
            and control.error is None
            and control.segments_made == len(self._timeline)
            and all(entry.done for entry in self._timeline)
        )
        return spoken_text(self.text, self._timeline, played, reply_complete=complete)

    async def interrupt(
        self, played: float | None = None, *, cancel_llm: bool = True
    ) -> SpokenText:
        """Stop the reply's audio now and return what the listener heard.

        When this returns, no further :class:`~e2estream.AudioEvent` comes, every TTS
        request in flight has been closed (its iterator's ``finally`` has run, its HTTP
        response is closed), and queued audio has been dropped. The stream then yields
        only :class:`~e2estream.TokenEvent` (see ``cancel_llm``) and ends with a
        :class:`~e2estream.DoneEvent` whose ``interrupted`` is true and whose ``spoken``
        is the value returned here.

        Safe to call from another task than the one iterating (a WebSocket receive loop,
        say), more than once (later calls wait for the first to finish and return its
        result), and after the reply ended (then it only computes :meth:`spoken`).

        Args:
            played: Seconds of this reply's audio the client actually played (from its
                player). None: everything delivered so far was played.
            cancel_llm: True (default) cancels and closes the LLM stream too; the token
                events already received are still delivered. False reads the LLM to the
                end without speaking it: tokens keep coming and ``DoneEvent.text`` is the
                whole reply.

        Raises:
            ValueError: If ``played`` is negative or not a finite number.
        """
        if played is not None:
            check_played(played)
        if self._interruption is not None:
            if self._interrupt_done is not None:
                await self._interrupt_done.wait()
            return self._interruption
        if self._finished:
            return self.spoken(played)
        spoken = self._interruption = self.spoken(played)
        done = self._interrupt_done = anyio.Event()
        control = self._control
        control.speaking = False
        try:
            if control.chunks is not None:
                await control.chunks.cancel()
            if cancel_llm:
                control.llm_scope.cancel()
                await control.llm_finished.wait()
        finally:
            done.set()
        return spoken

    async def __anext__(self) -> Event:
        self._unchecked += 1
        if self._unchecked >= CANCEL_CHECK_EVERY:
            # A cancellation check without a scheduling round trip when an event is
            # ready; before the event is taken, so none is lost. Waiting for an event is
            # not enough: on asyncio, a wait that a producer ends in the same loop turn
            # as the cancellation returns normally, every time. Not on every event: on
            # asyncio the check walks the task's cancel scopes (about 1.5 us).
            self._unchecked = 0
            await anyio.lowlevel.checkpoint_if_cancelled()
        while True:
            if self._finished:
                raise StopAsyncIteration
            try:
                event = self._events.take_ready()
                if event is None:
                    await self._events.next_wake()  # one wake-up, then take it above
                    continue
            except anyio.EndOfStream:
                return self._finish()
            except anyio.ClosedResourceError:
                if self._control.closed:
                    self._finished = True
                    raise anyio.ClosedResourceError(
                        "the stream_reply() block has exited; iterate the events inside it"
                    ) from None
                raise
            if self._interruption is not None and not isinstance(event, TokenEvent):
                continue  # the reply was interrupted: its audio and segments are void
            self._record(event)
            return event

    def _finish(self) -> DoneEvent:
        self._finished = True
        self._total = self._elapsed()
        error, self._control.error = self._control.error, None
        if error is not None:
            # The LLM stream failed: that exception is the end of this reply; there is
            # no DoneEvent for a reply that did not complete.
            raise error
        interrupted = self._interruption is not None
        spoken = self._interruption if interrupted else self.spoken()
        return DoneEvent(self.text, self.metrics, interrupted, spoken)

    def _record(self, event: Event) -> None:
        # Metrics are taken when an event leaves the library: that is what the listener
        # experiences, queueing inside the pipeline included. The clock is read only for
        # the firsts and for audio, not for every token: this is the per-token hot path.
        if isinstance(event, TokenEvent):
            self._tokens += 1
            self._parts.append(event.text)
            if self._first_token is None:
                self._first_token = self._elapsed()
        elif isinstance(event, AudioEvent):
            self._audio_bytes += len(event.data)
            now = self._clock()
            if self._first_audio is None:
                self._first_audio = now - self._started
            entry = self._entries[event.segment_index]
            if entry.duration == 0:
                # Audio comes in segment order: this segment starts where the audio
                # delivered so far ends.
                entry.start = self._timeline_end
            rate = self._bytes_per_second
            if rate is not None:
                duration = len(event.data) / rate
                entry.duration += duration
                self._timeline_end += duration
                self._playback.on_delivered(duration, now)
                if self._events.batching:
                    self._events.audio_delivered(self._playback.queued(now))
            entry.timings.extend(event.timings)
        elif isinstance(event, SegmentEvent):
            self._segments += 1
            if self._first_segment is None:
                self._first_segment = self._elapsed()
            entry = SegmentAudio(event.segment, math.inf)  # placed by its first audio
            self._timeline.append(entry)
            self._entries[event.segment.index] = entry
        elif isinstance(event, SegmentDoneEvent):
            entry = self._entries[event.segment_index]
            if entry.duration == 0:
                entry.start = self._timeline_end
            if not self._audio_format.is_raw and event.audio_bytes:
                # Compressed audio has no known duration: estimate it from the text, so
                # that the spoken transcript still advances segment by segment.
                entry.duration = len(entry.segment.speech_text) / DEFAULT_CHARS_PER_SECOND
                self._timeline_end += entry.duration
            entry.done, entry.failed = True, event.failed
            entry.timings.extend(event.timings)
            self._control.segments_done += 1
            self._playback.segment_complete()
        elif isinstance(event, ErrorEvent):
            self._errors += 1

    def _elapsed(self) -> float:
        return self._clock() - self._started
