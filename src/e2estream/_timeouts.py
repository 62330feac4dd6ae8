"""``SynthesisTimeouts``: the pipeline's own bounds on any backend's time to audio."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._validate import check_seconds

__all__ = ["SynthesisTimeouts"]


@dataclass(frozen=True, slots=True)
class SynthesisTimeouts:
    """How long the pipeline waits for a backend's audio before giving the segment up.

    These apply to *every* :class:`~e2estream.Synthesizer`, including your own, on top
    of whatever a backend bounds itself (the HTTP backends have their own timeouts and
    retries, which should fit inside these). A segment that runs past one fails with
    :class:`~e2estream.SynthesisTimeout`, which becomes an
    :class:`~e2estream.ErrorEvent`; the reply goes on with the next segment.

    Args:
        first_byte: Seconds from the start of a segment's synthesis to its first audio
            (or timing). None for no bound.
        stall: Seconds between two pieces of audio once it has begun. Time spent
            waiting for a slow consumer (backpressure) does not count. None for no bound.
            A stall is detected between ``stall`` and 1.5 x ``stall`` seconds after the
            last audio: the pipeline re-arms its timer every ``stall / 2`` seconds of
            flowing audio rather than on every chunk.

    Raises:
        ValueError: If a bound is not a positive, finite number of seconds.
    """

    first_byte: float | None = 20.0
    stall: float | None = 10.0

    def __post_init__(self) -> None:
        for name in ("first_byte", "stall"):
            check_seconds(f"SynthesisTimeouts.{name}", getattr(self, name), optional=True)

    def deadline(self, now: float, *, started: bool) -> float:
        """The clock time by which the next piece of audio must have come."""
        bound = self.stall if started else self.first_byte
        return math.inf if bound is None else now + bound

    @property
    def stall_bound(self) -> float:
        """``stall`` in seconds, infinite when there is no bound."""
        return math.inf if self.stall is None else self.stall

    def stall_deadline(self, now: float) -> float:
        """A stall deadline armed at ``now`` that stays valid for ``stall / 2`` seconds.

        Audio that keeps coming re-arms it only once it is nearer than ``stall``
        (:attr:`stall_bound`), so a stall fires between ``stall`` and 1.5 x ``stall``
        after the last audio, never sooner.
        """
        return math.inf if self.stall is None else now + 1.5 * self.stall
