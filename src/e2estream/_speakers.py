"""Which backend spoke each segment of a reply: told by the synthesizer, read by the reply.

A synthesizer that chooses among backends (:class:`~e2estream.FallbackSynthesizer`)
says which one spoke each text it was given; ``stream_reply`` puts that name on the
segment's :class:`~e2estream.SegmentDoneEvent`. The two meet through a context
variable: ``stream_reply`` sets a log for its reply before it starts the synthesis
tasks, which inherit it (anyio copies the context into every task it starts), so one
synthesizer object shared by many concurrent replies writes each reply's names into
that reply's own log, and the :class:`~e2estream.Synthesizer` protocol stays as it is.

Within one reply, segments are handed to the synthesizer in order and their audio is
delivered in the same order, so the entries for one text are taken first in, first out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

__all__ = ["SpeakerEntry", "SpeakerLog", "current_speaker_log", "publishing"]


class SpeakerEntry:
    """One ``synthesize`` call: the name of the backend that spoke, once one did."""

    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name: str | None = None


class SpeakerLog:
    """The speaker entries of one reply, by segment text, in call order."""

    def __init__(self) -> None:
        self._entries: dict[str, deque[SpeakerEntry]] = {}

    def open(self, text: str) -> SpeakerEntry:
        """Record a ``synthesize(text)`` call; fill the entry's name when audio begins."""
        entry = SpeakerEntry()
        self._entries.setdefault(text, deque()).append(entry)
        return entry

    def take(self, text: str) -> str | None:
        """The name for the oldest call with ``text`` (None if none was recorded)."""
        entries = self._entries.get(text)
        if not entries:
            return None
        entry = entries.popleft()
        if not entries:
            del self._entries[text]
        return entry.name


#: The log of the reply whose synthesis runs in this context (None outside stream_reply).
current_speaker_log: ContextVar[SpeakerLog | None] = ContextVar(
    "e2estream_speaker_log", default=None
)


@contextmanager
def publishing(log: SpeakerLog) -> Iterator[Callable[[], None]]:
    """Make ``log`` the current one for the tasks started in the block.

    Yields a function that withdraws it (call it once those tasks have started, so that
    the caller's own code does not write into the log); leaving the block withdraws it
    if that was not done.
    """
    token: Token[SpeakerLog | None] | None = current_speaker_log.set(log)

    def withdraw() -> None:
        nonlocal token
        if token is not None:
            current_speaker_log.reset(token)
            token = None

    try:
        yield withdraw
    finally:
        withdraw()
