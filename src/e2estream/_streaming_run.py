"""Drive one streaming-input connection for a stream: segments in, audio routed to jobs.

The per-segment path runs one task per segment. Here one task holds the connection for
the whole stream: a sender writes each job's text when the pacing lets the job start,
and a receiver routes what comes back. Audio belongs to the oldest open job (the
service speaks in order); a :class:`SegmentEnd` completes it.

Faults: the connection is watched with the same time-to-first-audio and stall bounds as
any per-segment request. When it breaks (or a bound fires) the jobs that already have
audio fail (resending them would make the listener hear their start twice) and the jobs
without audio are sent again on a fresh connection, a bounded number of times. A
connection that drops while no job is open (an idle timeout between two sentences) is
simply reopened for the next one.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import anyio

from ._audio import AudioFormat, TextTiming
from ._exceptions import SynthesisError, SynthesisTimeout, TTSAuthenticationError
from ._jobs import ByteBudget, Job
from ._pacing import Pacer
from ._streaming import SegmentEnd, StreamingSynthesizer, SynthesisConnection
from ._timeouts import SynthesisTimeouts

__all__ = ["StreamingSession"]

logger = logging.getLogger("e2estream")

#: Connections tried for jobs that have no audio yet, after the one that broke. Each
#: broken connection costs the waiting jobs a round trip, so the count stays small.
MAX_RECONNECTS = 2
#: Seconds before the first reconnect; it doubles for the next.
RECONNECT_DELAY = 0.25
#: Failures another connection cannot cure: refused credentials, and a backend's own
#: bugs (a wrong type or a missing method would fail the same way every time).
_NOT_RETRIED = (TTSAuthenticationError, TypeError, AttributeError, ValueError)
#: How long the cancel message may take when a reply is interrupted: the listener has
#: already stopped hearing it, the message only saves the service's work.
CANCEL_GRACE = 1.0


@dataclass(eq=False)
class _OpenJob:
    """A job whose text was handed to the session and whose audio is not complete."""

    job: Job
    text: str  # what is sent: the speech text and a separating space
    sent_at: float = math.inf  # when its text went out on the current connection
    char_base: int = 0  # offset of ``text`` in everything sent on that connection
    carry: bytes = b""  # an incomplete audio frame waiting for its other bytes
    early_timings: list[TextTiming] = field(default_factory=list)  # before it was the head


class StreamingSession:
    """The connection side of one :class:`ProgressiveSynthesizer` stream."""

    def __init__(
        self,
        backend: StreamingSynthesizer,
        audio_format: AudioFormat,
        timeouts: SynthesisTimeouts,
        budget: ByteBudget,
        pacer: Pacer,
        slots: anyio.Semaphore,
    ) -> None:
        self._backend = backend
        self._name = type(backend).__name__
        self._frame = audio_format.frame_size or 1
        self._bytes_per_second = audio_format.bytes_per_second
        self._timeouts = timeouts
        self._budget = budget
        self._pacer = pacer
        self._slots = slots
        self._open: deque[_OpenJob] = deque()
        self._sent = 0  # how many of ``_open`` went out on the current connection
        self._input_finished = False
        self._broken: BaseException | None = None  # no connection can be had any more
        self._changed = anyio.Event()
        self._watchdog = anyio.CancelScope()
        # Per connection: characters sent, audio bytes received, bytes before the head job.
        self._chars_sent = 0
        self._bytes_received = 0
        self._head_start = 0
        self._head_since = 0.0  # when the head job became the head (its wait began)
        self._head_audio_at = math.inf  # when the head job last received audio
        self._waiting_for_consumer = False  # the budget is full: not the service's fault
        self._connected = False  # the current connection was established
        self._end_sent = False  # end_input() went out on the current connection

    # -- the feeder's side ---------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue ``job`` (its slot is taken) to be sent on the connection."""
        if self._broken is not None:
            self._finish(job, _connection_error(self._name, self._broken))
            return
        self._open.append(_OpenJob(job, job.segment.speech_text + " "))
        self._notify()

    def finish_input(self) -> None:
        """No more jobs will be submitted."""
        self._input_finished = True
        self._notify()

    # -- the connection task -------------------------------------------------------------

    async def run(self) -> None:
        """Hold a connection until every job is complete; reconnect for jobs without audio."""
        reconnects = 0
        while True:
            if self._input_finished and not self._open:
                return
            try:
                await self._serve_one_connection()
            except Exception as exc:
                failed_with_audio = self._fail_jobs_with_audio(exc)
                logger.debug("%s connection failed: %r", self._name, exc)
                if isinstance(exc, _NOT_RETRIED) or reconnects >= MAX_RECONNECTS:
                    self._broken = exc
                    for open_job in self._open:
                        self._finish(open_job.job, _connection_error(self._name, exc))
                    self._open.clear()
                    return
                if self._open or failed_with_audio or not self._connected:
                    reconnects += 1
                    # A service that just dropped or refused us gets a moment to recover.
                    await anyio.sleep(RECONNECT_DELAY * 2 ** (reconnects - 1))
                # else: dropped while idle; reopen for the next job without counting it.
            else:
                if self._input_finished and not self._open:
                    return
            # Wait for work before reconnecting: an idle reply holds no connection.
            while not self._open and not self._input_finished:
                await self._wait_changed()

    async def _serve_one_connection(self) -> None:
        self._sent = 0
        self._chars_sent = self._bytes_received = self._head_start = 0
        self._head_since = anyio.current_time()
        self._head_audio_at = math.inf
        self._watchdog = anyio.CancelScope()  # a scope is entered once: one per connection
        self._connected = False
        self._end_sent = False
        async with self._backend.connect() as connection:
            self._connected = True
            outcome: list[BaseException] = []
            try:
                async with anyio.create_task_group() as task_group:
                    task_group.start_soon(self._send_all, connection, outcome, task_group)
                    await self._receive_all(connection, outcome)
                    task_group.cancel_scope.cancel()
            except anyio.get_cancelled_exc_class():
                if self._open:
                    await self._cancel_on_service(connection)
                raise
            if outcome:
                raise outcome[0]

    async def _send_all(
        self,
        connection: SynthesisConnection,
        outcome: list[BaseException],
        task_group: anyio.abc.TaskGroup,
    ) -> None:
        try:
            while True:
                while self._sent < len(self._open):
                    open_job = self._open[self._sent]
                    open_job.char_base = self._chars_sent
                    self._sent += 1
                    self._chars_sent += len(open_job.text)
                    await connection.send_segment(open_job.text)
                    # Timed from when the text is out: a backend may have to wait before
                    # it can send (Deepgram's flush budget), which is not the service
                    # being slow to answer.
                    open_job.sent_at = anyio.current_time()
                    self._rearm()
                if self._input_finished:
                    if self._chars_sent:
                        # (A connection that carried no text has nothing to end.)
                        await connection.end_input()
                    self._end_sent = True
                    # Some services (Deepgram) keep the stream open after the last
                    # flush: once every segment is complete, this connection is done.
                    while self._open:
                        await self._wait_changed()
                    task_group.cancel_scope.cancel()
                    return
                await self._wait_changed()
        except Exception as exc:
            outcome.append(exc)
            task_group.cancel_scope.cancel()

    async def _receive_all(
        self, connection: SynthesisConnection, outcome: list[BaseException]
    ) -> None:
        try:
            with self._watchdog:
                self._rearm()
                items = connection.receive()
                try:
                    async for item in items:
                        if isinstance(item, SegmentEnd):
                            await self._end_head()
                        elif isinstance(item, TextTiming):
                            self._place_timing(item)
                        elif isinstance(item, (bytes, bytearray, memoryview)):
                            await self._add_audio(bytes(item))
                        else:
                            raise TypeError(
                                f"{self._name} connection yielded a {type(item).__name__}; "
                                "it must yield bytes, TextTiming or SegmentEnd"
                            )
                        if self._end_sent and not self._open:
                            return  # every segment is complete: no need to wait for the close
                        self._rearm()
                finally:
                    aclose = getattr(items, "aclose", None)
                    if aclose is not None:
                        await aclose()
            if self._watchdog.cancelled_caught:
                outcome.append(self._timeout())
                return
            if self._input_finished and self._sent == len(self._open):
                # The service ended the stream after the end of input: what has audio is
                # complete; what has none was never spoken.
                while self._open:
                    await self._end_head()
                return
            outcome.append(SynthesisError(f"{self._name}: the service closed the connection"))
        except Exception as exc:
            outcome.append(exc)

    # -- routing what comes back ---------------------------------------------------------

    async def _add_audio(self, data: bytes) -> None:
        if not self._open or self._sent == 0:
            raise SynthesisError(f"{self._name}: audio arrived while no segment was sent")
        head = self._open[0]
        self._bytes_received += len(data)
        now = anyio.current_time()
        if not head.job.has_audio and not head.carry:
            # Counted from when the service could start on it: a segment queued behind
            # the previous one's audio is not slow to answer.
            self._pacer.record_ttfb(max(0.0, now - max(head.sent_at, self._head_since)))
        self._head_audio_at = now
        if head.carry:
            data = head.carry + data
        if self._frame > 1:
            usable = len(data) - len(data) % self._frame
            data, head.carry = data[:usable], data[usable:]
        if data:
            # Waiting for a slow consumer is not the service stalling.
            self._waiting_for_consumer = True
            self._watchdog.deadline = math.inf
            try:
                await self._budget.add(head.job, data)
            finally:
                self._waiting_for_consumer = False
            self._head_audio_at = anyio.current_time()

    def _place_timing(self, timing: TextTiming) -> None:
        for position, open_job in enumerate(self._open):
            if position >= self._sent:
                return
            start = timing.char_start - open_job.char_base
            if start >= len(open_job.text):
                continue
            end = min(timing.char_end - open_job.char_base, len(open_job.job.segment.speech_text))
            if end <= 0 or start >= end:
                return  # the separating space, or a span before this connection's segments
            local = TextTiming(max(start, 0), end, timing.start, timing.end)
            if position == 0:
                self._store_timing(open_job, local)
            else:
                open_job.early_timings.append(local)
            return

    def _store_timing(self, open_job: _OpenJob, timing: TextTiming) -> None:
        # Connection seconds -> seconds from the start of this segment's audio.
        base = self._head_start / self._bytes_per_second if self._bytes_per_second else 0.0
        start = max(0.0, timing.start - base)
        end = None if timing.end is None else max(start, timing.end - base)
        open_job.job.timings.append(TextTiming(timing.char_start, timing.char_end, start, end))
        open_job.job.notify()

    async def _end_head(self) -> None:
        if not self._open or self._sent == 0:
            logger.debug("%s: a segment end with no segment open", self._name)
            return
        head = self._open[0]
        if head.carry:
            # A service that ends a segment mid-frame: complete the frame with silence
            # rather than shift every later sample of the reply by a byte.
            await self._budget.add(head.job, head.carry.ljust(self._frame, b"\0"))
            head.carry = b""
        self._open.popleft()
        self._sent -= 1
        self._head_start = self._bytes_received
        self._head_since = anyio.current_time()
        self._head_audio_at = math.inf
        error = None
        if not head.job.has_audio:
            error = SynthesisError(
                f"{self._name} produced no audio for segment {head.job.segment.index} "
                f"({head.job.segment.speech_text[:40]!r})"
            )
        self._finish(head.job, error)
        if self._open:
            new_head = self._open[0]
            for timing in new_head.early_timings:
                self._store_timing(new_head, timing)
            new_head.early_timings.clear()

    # -- faults --------------------------------------------------------------------------

    def _rearm(self) -> None:
        """Point the watchdog at the head job's next expected audio."""
        if not self._open or self._sent == 0 or self._waiting_for_consumer:
            self._watchdog.deadline = math.inf
        elif self._head_audio_at == math.inf:
            since = max(self._open[0].sent_at, self._head_since)
            self._watchdog.deadline = self._timeouts.deadline(since, started=False)
        else:
            self._watchdog.deadline = self._timeouts.deadline(self._head_audio_at, started=True)

    def _timeout(self) -> SynthesisTimeout:
        head = self._open[0].job
        bound, what = (
            (self._timeouts.stall, "no audio for")
            if head.has_audio
            else (self._timeouts.first_byte, "no first audio within")
        )
        return SynthesisTimeout(
            f"{self._name}: {what} {bound or 0:g} s in segment {head.segment.index} "
            f"({head.segment.speech_text[:40]!r})"
        )

    def _fail_jobs_with_audio(self, exc: BaseException) -> bool:
        failed = False
        while self._open and (self._open[0].job.has_audio or self._open[0].carry):
            # Only the head can have audio; a timed-out head fails even without audio,
            # or a backend that never answers it would be asked again and again.
            self._finish(self._open.popleft().job, exc)
            failed = True
        if not failed and self._open and isinstance(exc, SynthesisTimeout):
            self._finish(self._open.popleft().job, exc)
            failed = True
        for open_job in self._open:
            open_job.carry = b""
            open_job.early_timings.clear()
            open_job.sent_at = math.inf
        return failed

    async def _cancel_on_service(self, connection: SynthesisConnection) -> None:
        with anyio.CancelScope(shield=True) as scope:
            scope.deadline = anyio.current_time() + CANCEL_GRACE
            try:
                await connection.cancel()
            except Exception as exc:  # the reply is being abandoned; the close follows
                logger.debug("%s: cancel message failed: %r", self._name, exc)

    # -- plumbing ------------------------------------------------------------------------

    def _finish(self, job: Job, error: BaseException | None) -> None:
        job.error = error
        job.done = True
        job.notify()
        self._slots.release()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _wait_changed(self) -> None:
        await self._changed.wait()


def _connection_error(name: str, cause: BaseException) -> SynthesisError:
    if isinstance(cause, SynthesisError):
        return cause
    return SynthesisError(f"{name}: the streaming connection failed: {cause!r}")
