"""The stall watcher: a :class:`~e2estream.StallEvent` when the modelled player runs dry.

One task per reply, asleep almost all the time: it sleeps until the moment the player
(real time from the first audio, or the host's reported position) will have played all
the audio delivered so far, and checks again then. Deliveries move that moment later, so
while audio keeps up it wakes about once per look-ahead (seconds), not per event.
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
    playback: PlaybackClock, events: MailboxSender[Event], control: ReplyControl
) -> None:
    """Send a StallEvent each time playback runs dry while more audio is expected.

    Runs until ``control.stall_scope`` is cancelled (when the stages that produce the
    reply's events have ended) or the consumer leaves.
    """
    with control.stall_scope, events:
        while True:
            if playback.first_delivery is None:
                await playback.wait_changed(math.inf)  # no audio yet: nothing to play
                continue
            left = playback.delivered - playback.position(anyio.current_time())
            if left > _RESOLUTION:
                await anyio.sleep(left)
                continue
            if not control.more_audio_expected():
                await anyio.sleep_forever()  # the reply's audio is complete: no stall
            if not await events.deliver(StallEvent(playback.delivered)):
                return
            await playback.wait_changed(math.inf)  # until audio comes (or a report)
