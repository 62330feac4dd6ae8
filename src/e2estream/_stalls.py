"""The stall watcher: a :class:`~e2estream.StallEvent` when the modelled player runs dry.

One task per reply, asleep almost all the time: it sleeps until the moment the player
(real time from the first audio, or the host's reported position) will have played all
the audio delivered so far, and checks again then. Deliveries move that moment later, so
while audio keeps up it wakes about once per look-ahead (seconds) and at each segment's
end, not per event; a report of the player's position wakes it too (a player ahead of
the model runs dry sooner).

With audio batching (``AudioBatching``) it also wakes when the player is down to the
batching's release margin, and releases the audio the head segment holds back.
"""

from __future__ import annotations

import math

import anyio

from ._events import Event, StallEvent
from ._mailbox import MailboxSender
from ._playback import PlaybackClock
from ._reply import ReplyControl

__all__ = ["watch_stalls"]

#: Audio left below this many seconds counts as none (float rounding of durations).
_RESOLUTION = 1e-6


async def watch_stalls(
    playback: PlaybackClock,
    events: MailboxSender[Event],
    control: ReplyControl,
    release_margin: float = 0.0,
) -> None:
    """Send a StallEvent each time playback runs dry while more audio is expected.

    With audio batching (``release_margin`` > 0), also release the audio the head segment
    holds back once the player is down to ``release_margin`` seconds: batching must never
    be what makes it run dry.

    Runs until ``control.stall_scope`` is cancelled (when the stages that produce the
    reply's events have ended) or the consumer leaves.
    """
    with control.stall_scope, events:
        while True:
            if playback.first_delivery is None:
                await playback.wait_changed(math.inf)  # no audio yet: nothing to play
                continue
            left = playback.queued(anyio.current_time())
            if left > release_margin + _RESOLUTION:
                # Until then, or until a report or a delivery to a player that had run
                # dry changes the plan (those wake wait_changed).
                await playback.wait_changed(left - release_margin)
                continue
            if release_margin and control.chunks is not None:
                control.chunks._release_held()
            if left > _RESOLUTION:
                await playback.wait_changed(left)
                continue
            if not control.more_audio_expected():
                await anyio.sleep_forever()  # the reply's audio is complete: no stall
            if not await events.deliver(StallEvent(playback.delivered)):
                return
            await playback.wait_changed(math.inf)  # until audio comes (or a report)
