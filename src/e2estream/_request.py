"""``SynthesisRequest``: everything the pipeline knows when it asks for one segment's audio.

A plain backend's ``synthesize(text)`` gets the text alone. A backend that can use more
(the previous sentence for prosody, the segment's place in the reply) implements
``synthesize_request(request)`` instead, and the pipeline calls that. New context goes
into this one type as a new field, never into another flag on the backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ._audio import AudioFormat, TextTiming
from ._segment import Segment

__all__ = ["RequestSynthesizer", "SynthesisRequest"]


@dataclass(frozen=True, slots=True)
class SynthesisRequest:
    """One segment to synthesize, with its context.

    Attributes:
        text: The text to speak (the segment's ``speech_text``).
        segment: The segment itself: its index, its span in the reply, its kind.
        previous_text: The previous segment's speech text (None for the first): context
            a backend may condition its prosody on without speaking it.
    """

    text: str
    segment: Segment
    previous_text: str | None = None


@runtime_checkable
class RequestSynthesizer(Protocol):
    """A per-segment backend that wants the whole :class:`SynthesisRequest`.

    The pipeline calls :meth:`synthesize_request` instead of ``synthesize`` when a
    backend has it. It yields what ``synthesize`` would: audio bytes, and
    :class:`~e2estream.TextTiming` items for backends with ``provides_timings``.
    """

    @property
    def audio_format(self) -> AudioFormat:
        """The encoding of the bytes it yields."""
        ...

    def synthesize_request(self, request: SynthesisRequest) -> AsyncIterator[bytes | TextTiming]:
        """Return an async iterator of the audio for ``request``."""
        ...
