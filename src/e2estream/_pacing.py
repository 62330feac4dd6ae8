"""Pacing: start a segment's synthesis only when the listener will need it soon.

Without pacing the synthesizer runs as far ahead of the listener as ``max_concurrency``
and the byte budget allow; when the user interrupts, all that audio was paid for and
never heard. With ``max_ahead`` a segment (after the first) starts only while the audio
synthesized but not yet played is below that many seconds.

Two guards keep pacing from ever causing a stall:

* the look-ahead never drops below 1.5 times the slowest time to first byte seen in this
  reply, so a new request always has time to answer before the audio runs out;
* audio of a segment still synthesizing counts at its *expected* length (its text at the
  reply's speaking rate), so two segments cannot start together on the strength of audio
  that has not arrived yet.

Compute-bound engines (``compute_bound = True``: eSpeak, Piper) share this machine's
CPU, so the next segment also waits until the previous one has produced audio: two
syntheses at once would only delay the first audio.
"""

from __future__ import annotations

import anyio

from ._audio import AudioFormat
from ._jobs import Job
from ._playback import PlaybackClock
from ._spoken import DEFAULT_CHARS_PER_SECOND

__all__ = ["Pacer"]

#: The look-ahead kept in any case, as a multiple of the slowest time to first byte.
TTFB_GUARD = 1.5
#: Look-ahead differences below this are "reached": waiting for less would spin on float
#: rounding (the wait would end before the clock visibly moved).
_RESOLUTION = 1e-3


class Pacer:
    """Decides when the next segment of one stream may start synthesizing."""

    def __init__(
        self,
        max_ahead: float | None,
        playback: PlaybackClock,
        audio_format: AudioFormat,
        *,
        compute_bound: bool,
    ) -> None:
        self.max_ahead = max_ahead
        self.playback = playback
        self.compute_bound = compute_bound
        self._bytes_per_second = audio_format.bytes_per_second
        self.slowest_ttfb = 0.0
        self._started: list[Job] = []  # jobs whose synthesis started, in order

    def record_ttfb(self, seconds: float) -> None:
        """A request of this stream took ``seconds`` to its first byte."""
        self.slowest_ttfb = max(self.slowest_ttfb, seconds)

    def started(self, job: Job) -> None:
        """``job``'s synthesis is starting now."""
        self._started.append(job)

    async def wait_for_turn(self) -> None:
        """Return when the next segment may start (at once for the first one)."""
        if not self._started:
            return
        if self.compute_bound:
            previous = self._started[-1]
            while not (previous.has_audio or previous.done):
                await previous.wait_changed()
        if self.max_ahead is None or self._bytes_per_second is None:
            return  # pacing is off, or the audio is compressed and has no known length
        while True:
            limit = max(self.max_ahead, TTFB_GUARD * self.slowest_ttfb)
            excess = self.ahead(anyio.current_time()) - limit
            if excess < _RESOLUTION:
                return
            # Playback eats into the look-ahead at one second per second; a report from
            # the host or new audio may change it sooner.
            await self.playback.wait_changed(excess)

    def ahead(self, now: float) -> float:
        """Seconds of audio synthesized (or expected from running syntheses) not yet played."""
        return self._expected_audio() - self.playback.position(now)

    def _expected_audio(self) -> float:
        # A walk over every started job: once per segment start (and per wake-up while
        # waiting), not per audio chunk, and a reply has at most a few hundred segments.
        rate = self._bytes_per_second or 1
        finished_chars = finished_seconds = 0.0
        pending: list[Job] = []
        total = 0.0
        for job in self._started:
            seconds = (job.delivered + job.buffered) / rate
            total += seconds
            if job.done:
                finished_chars += len(job.segment.speech_text)
                finished_seconds += seconds
            else:
                pending.append(job)
        chars_per_second = (
            finished_chars / finished_seconds if finished_seconds > 0 else DEFAULT_CHARS_PER_SECOND
        )
        for job in pending:
            received = (job.delivered + job.buffered) / rate
            total += max(0.0, len(job.segment.speech_text) / chars_per_second - received)
        return total
