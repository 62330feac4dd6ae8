"""The second kind of backend: streaming-input TTS, one connection per reply.

Per-segment backends (:class:`~e2estream.Synthesizer`) answer one request per segment.
Streaming-input services (ElevenLabs, Cartesia, Deepgram over WebSocket) take the text of
the whole reply over one connection and keep the voice continuous across it. The
pipeline drives them through two small protocols:

* :class:`StreamingSynthesizer`: its ``connect()`` opens one connection;
* :class:`SynthesisConnection`: segments go in (each one flushed, so its audio can be
  told apart), audio, timings and :class:`SegmentEnd` markers come out, in order.

Audio always belongs to the oldest segment whose audio is not complete yet; a
:class:`SegmentEnd` closes that segment. So a backend only has to turn the service's
"this flush is done" signal into a ``SegmentEnd``, and the pipeline maps every byte to
its segment, its ``segment_index`` and its place in the reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

from ._audio import AudioFormat, Synthesizer, TextTiming
from ._request import RequestSynthesizer

__all__ = [
    "AnySynthesizer",
    "SegmentEnd",
    "StreamingSynthesizer",
    "SynthesisConnection",
    "is_streaming",
]


@dataclass(frozen=True, slots=True)
class SegmentEnd:
    """Yielded by :meth:`SynthesisConnection.receive`: the oldest open segment's audio is complete.

    Backends yield one for every segment, in the order the segments were sent, when the
    service says the flush that ended it is done (Deepgram ``Flushed``, a Cartesia
    ``flush_id`` moving on, the ElevenLabs alignment reaching the segment's last
    character). Segments still open when the service ends the stream after
    :meth:`SynthesisConnection.end_input` are complete as well.
    """


class SynthesisConnection(Protocol):
    """One open connection of a :class:`StreamingSynthesizer`, used for one reply.

    The pipeline calls :meth:`send_segment` from one task and iterates :meth:`receive`
    from another, so the two must work concurrently (a WebSocket does).

    Coordinates: the :class:`~e2estream.TextTiming` objects a connection yields count
    characters in the concatenation of every text given to :meth:`send_segment` on this
    connection, and seconds from the start of this connection's audio. The pipeline
    turns them into each segment's own coordinates.
    """

    async def send_segment(self, text: str) -> None:
        """Send one segment's speech text and flush it, so its audio can be told apart.

        ``text`` ends with a space, so consecutive segments join into the reply's text
        (services that concatenate transcripts verbatim need it).
        """
        ...

    async def end_input(self) -> None:
        """No more text will come: the service may finish and end the stream."""
        ...

    async def cancel(self) -> None:
        """Stop at once: the service drops the text and audio it still holds (barge-in)."""
        ...

    def receive(self) -> AsyncIterator[bytes | TextTiming | SegmentEnd]:
        """Yield the audio, timings and segment ends the service sends, in order.

        Ends when the service has finished after :meth:`end_input`. Raises (a
        :class:`~e2estream.SynthesisError`, ideally) when the service reports an error or
        the connection breaks.
        """
        ...


@runtime_checkable
class StreamingSynthesizer(Protocol):
    """A streaming-input TTS backend: one connection per reply, text in, audio out.

    Give it to :func:`~e2estream.stream_reply` or
    :class:`~e2estream.ProgressiveSynthesizer` where a
    :class:`~e2estream.Synthesizer` would go; the events are the same. The pipeline
    opens the connection when the reply starts (while the LLM is still thinking), sends
    each segment when pacing allows, reconnects if the connection breaks (resending
    only segments that have produced no audio, so nothing is heard twice), and calls
    :meth:`SynthesisConnection.cancel` when the reply is interrupted.

    Optional member (read with ``getattr``): ``provides_timings = True`` when the
    connection yields :class:`~e2estream.TextTiming` objects.

    See "Writing a streaming backend" in the docs for a complete example.
    """

    @property
    def audio_format(self) -> AudioFormat:
        """The encoding of the audio bytes the connections yield."""
        ...

    def connect(self) -> AbstractAsyncContextManager[SynthesisConnection]:
        """Open one connection; leaving the ``async with`` block closes it."""
        ...


#: Any backend :func:`~e2estream.stream_reply` accepts: per segment (plain, or taking the
#: whole :class:`~e2estream.SynthesisRequest`) or streaming input.
AnySynthesizer: TypeAlias = Synthesizer | RequestSynthesizer | StreamingSynthesizer


def is_streaming(backend: object) -> bool:
    """True if ``backend`` is a streaming-input backend: ``connect()``, no ``synthesize()``."""
    return callable(getattr(backend, "connect", None)) and not callable(
        getattr(backend, "synthesize", None)
    )
