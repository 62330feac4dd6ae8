"""``AudioBatching``: fewer, larger audio events while the listener has audio to spare.

A TTS sends its audio in small chunks (a tenth of a second is common), and handing each
one to the host as it arrives costs a wake-up of the host's task and one message on its
transport, per chunk. That matters only while the listener could run short. Once the
modelled player (see ``_playback.py``) has ``min_ahead`` seconds queued, a chunk more or
less now changes nothing it hears, so the head segment's audio is collected until it
makes ``seconds`` of audio (or the segment ends) and goes out as one
:class:`~e2estream.AudioEvent`.

Nothing is held while the listener is short of audio: the first audio of a reply, and
all audio after a stall, still goes out chunk by chunk. Held audio is released at the
latest when the player is down to half of ``min_ahead`` (the reply's stall watcher wakes
for it), when the TTS would otherwise wait for the consumer (the byte budget is full),
or when the segment ends, so batching never causes a stall.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validate import check_seconds

__all__ = ["AudioBatching"]


@dataclass(frozen=True, slots=True)
class AudioBatching:
    """When :func:`~e2estream.stream_reply` joins audio chunks into larger events.

    While the listener's player has at least ``min_ahead`` seconds of audio queued
    (real-time playback from the first audio, or the position the host reports), the
    audio of the segment being heard is delivered in events of about ``seconds``
    seconds instead of chunk by chunk: fewer wake-ups of the host's task and fewer
    transport messages, for the same audio. Pass ``audio_batching=None`` to
    ``stream_reply`` to deliver every chunk as it comes.

    Compressed formats (no known duration) are never batched.

    Args:
        seconds: The audio an event collects before it goes out.
        min_ahead: Seconds of audio the listener must have queued for batching to
            apply. Held audio goes out at the latest when the player is down to half of
            this: the default, 2 s, leaves a second for an event loop so loaded that
            the host's task runs late (``benchmarks/load.py`` saw loop lags of half a
            second at 1000 sessions).

    Raises:
        ValueError: If a value is not a positive, finite number of seconds, or
            ``seconds`` exceeds ``min_ahead`` (held audio could then outlast the
            listener's queue).
    """

    seconds: float = 0.5
    min_ahead: float = 2.0

    def __post_init__(self) -> None:
        check_seconds("AudioBatching.seconds", self.seconds)
        check_seconds("AudioBatching.min_ahead", self.min_ahead)
        if self.seconds > self.min_ahead:
            raise ValueError(
                f"AudioBatching.seconds ({self.seconds:g}) must not exceed min_ahead "
                f"({self.min_ahead:g})"
            )

    @property
    def release_margin(self) -> float:
        """Held audio goes out at the latest when the player has this much queued."""
        return self.min_ahead / 2
