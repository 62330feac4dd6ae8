"""Where the listener is in a reply's audio: a model of the host's player.

The library cannot hear the client's speaker, so it models it. Playback starts when the
first audio is delivered to the host and advances in real time; when it catches up with
the audio delivered so far, the player runs dry (a stall) and waits for more. A host
that knows better (its player reports a position) says so with :meth:`report`, and the
model continues in real time from the reported position.

Everything is in *audio time*: seconds into the reply's audio, not wall time. The model
reads the clock only when audio is delivered and when someone asks for the position,
never per token.
"""

from __future__ import annotations

import math

import anyio

from ._validate import check_played

__all__ = ["PlaybackClock"]


class PlaybackClock:
    """The assumed play position of one reply's audio, and its stalls.

    Two positions are kept apart on purpose. The *delivery model* only ever sees what was
    delivered and when, so its stall figures describe the stream the library produced.
    The *position* used for pacing prefers what the host reported, since that is the
    truth about the listener.
    """

    def __init__(self) -> None:
        self.delivered = 0.0  # seconds of audio delivered to the host so far
        self.first_delivery: float | None = None  # clock time of the first audio
        self.stall_time = 0.0  # seconds the modelled player waited for audio
        self.stalls = 0
        self._anchor_time = 0.0  # the modelled player was at _anchor_pos at _anchor_time
        self._anchor_pos = 0.0
        self._reported_time: float | None = None
        self._reported_pos = 0.0
        self._changed: anyio.Event | None = None

    def on_delivered(self, duration: float, now: float) -> float:
        """Record ``duration`` seconds of audio delivered at clock time ``now``.

        Returns:
            The stall that this delivery ended, in seconds (0.0 if the player had audio).
        """
        stall = 0.0
        # Waiters (pacing, the stall watcher) plan with real-time playback, which a
        # delivery changes only when it reaches a player that had played everything:
        # wake them then, not on every chunk (that was one wake-up per audio event).
        changes_plans = True
        if self.first_delivery is None:
            self.first_delivery = self._anchor_time = now
        else:
            position = self._anchor_pos + (now - self._anchor_time)
            changes_plans = position >= self.delivered
            if position > self.delivered:
                # The player ran dry at `delivered` and has waited since: a stall.
                stall = position - self.delivered
                self.stall_time += stall
                self.stalls += 1
                self._anchor_pos, self._anchor_time = self.delivered, now
        if self._reported_time is not None:
            reported = self._reported_pos + (now - self._reported_time)
            changes_plans = changes_plans or reported >= self.delivered
        self.delivered += duration
        if changes_plans:
            self._notify()
        return stall

    def segment_complete(self) -> None:
        """A segment's audio is complete: its real length replaces pacing's estimate."""
        self._notify()

    def report(self, position: float, now: float) -> None:
        """The host's player says it is ``position`` seconds into the reply's audio."""
        self._reported_pos, self._reported_time = check_played(position), now
        self._notify()

    def position(self, now: float) -> float:
        """The assumed play position at clock time ``now``, in seconds of audio."""
        if self._reported_time is not None:
            position = self._reported_pos + (now - self._reported_time)
        elif self.first_delivery is None:
            return 0.0
        else:
            position = self._anchor_pos + (now - self._anchor_time)
        return min(position, self.delivered)

    def queued(self, now: float) -> float:
        """Seconds of delivered audio the player has not played yet at clock time ``now``."""
        return self.delivered - self.position(now)

    async def wait_changed(self, at_most: float) -> None:
        """Wait until audio is delivered or a position is reported, at most ``at_most`` s."""
        if self._changed is None:
            self._changed = anyio.Event()
        if at_most == math.inf:
            await self._changed.wait()  # no cancel scope needed (about 5 us each)
            return
        with anyio.move_on_after(at_most):
            await self._changed.wait()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
