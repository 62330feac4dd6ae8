"""One segment's synthesis (a job) and the byte budget shared by a stream's jobs."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import anyio

from ._audio import TextTiming
from ._segment import Segment

__all__ = ["ByteBudget", "Job"]

#: A coalesced piece of audio is at most the byte budget divided by this.
COALESCE_FRACTION = 16


class Job:
    """One segment's synthesis: its buffered audio and whether it has finished."""

    __slots__ = (
        "_waiter",
        "buffered",
        "carry",
        "chunks",
        "delivered",
        "done",
        "error",
        "hold_below",
        "on_change",
        "segment",
        "timings",
    )

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.chunks: deque[bytes] = deque()
        self.buffered = 0  # bytes in ``chunks``
        self.delivered = 0  # bytes handed to the consumer so far
        self.carry = b""  # an incomplete audio frame waiting for the rest of its bytes
        self.done = False
        self.error: BaseException | None = None
        self.timings: list[TextTiming] = []  # delivered with the next chunk the consumer takes
        self._waiter: anyio.Event | None = None
        # Set while the consumer reads this job (it is the head): only then does a change
        # concern it. Later jobs' audio must not wake the consumer (a wasted task step
        # per chunk of the segment synthesizing ahead).
        self.on_change: Callable[[], None] | None = None
        # Audio batching (stream_reply's AudioBatching): while the consumer waits, a
        # chunk wakes it only once this many bytes are queued (0: every chunk does).
        self.hold_below = 0

    @property
    def has_audio(self) -> bool:
        """True once the TTS produced any audio for this segment."""
        return self.delivered > 0 or self.buffered > 0

    def take_timings(self) -> tuple[TextTiming, ...]:
        if not self.timings:
            return ()
        timings = tuple(self.timings)
        self.timings.clear()
        return timings

    def notify(self) -> None:
        # Events are made only when someone waits: this runs once per audio chunk.
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None
        if self.on_change is not None and (self.done or self.buffered >= self.hold_below):
            self.on_change()

    def release_held(self) -> None:
        """Stop batching this job's audio: wake the consumer for what is queued now."""
        if self.hold_below:
            self.hold_below = 0
            if self.buffered:
                self.notify()

    async def wait_changed(self) -> None:
        if self._waiter is None:
            self._waiter = anyio.Event()
        await self._waiter.wait()


class ByteBudget:
    """Bounds the audio waiting for the consumer.

    The head job (the one the consumer is reading) may hold up to ``limit`` bytes of its
    own; all later jobs together may hold up to ``limit`` bytes. Keeping the head's
    allowance separate is what makes this deadlock-free: later segments filling the
    budget can never stop the head segment, which the consumer is waiting for.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # A coalesced piece: a sixteenth of the budget (64 KB of the default 1 MB, over a
        # second of 24 kHz audio), so that the events buffered for the consumer (16 by
        # default) hold at most about one budget of audio however they were coalesced.
        self.coalesce_limit = max(1, limit // COALESCE_FRACTION)
        self.head: Job | None = None
        self.waiting_behind_head = 0
        self._waiter: anyio.Event | None = None

    def allows(self, job: Job, size: int) -> bool:
        if job is self.head:
            return job.buffered == 0 or job.buffered + size <= self.limit
        # A single chunk larger than the whole budget still passes when nothing else
        # waits, so an oversized chunk slows the stream down instead of wedging it.
        return self.waiting_behind_head == 0 or self.waiting_behind_head + size <= self.limit

    async def add(self, job: Job, data: bytes) -> None:
        """Queue ``data`` for ``job``, waiting while the budget does not allow it."""
        while not self.allows(job, len(data)):
            # The consumer may be letting audio gather (batching): it must take it now,
            # or the TTS would wait for a consumer that waits for more audio.
            job.release_held()
            if self._waiter is None:
                self._waiter = anyio.Event()
            await self._waiter.wait()
        self.put(job, data)

    def put(self, job: Job, data: bytes) -> None:
        """Queue ``data`` for ``job`` now; only when :meth:`allows` said so."""
        job.chunks.append(data)
        job.buffered += len(data)
        if job is not self.head:
            self.waiting_behind_head += len(data)
        job.notify()

    def take(self, job: Job) -> bytes:
        """Take ``job``'s oldest queued audio, joined with what follows it, up to a bound.

        A consumer that lags (a loaded event loop, a slow client) finds several chunks
        queued: handing them over as one costs one event instead of many. A piece grows
        to at most ``coalesce_limit`` bytes (always at least one chunk), so the events
        waiting for the consumer hold no more audio than before, in fewer events. Each
        chunk is frame-aligned, so their concatenation is too.
        """
        chunks = job.chunks
        data = chunks.popleft()
        if chunks and len(data) + len(chunks[0]) <= self.coalesce_limit:
            parts, size = [data], len(data)
            while chunks and size + len(chunks[0]) <= self.coalesce_limit:
                part = chunks.popleft()
                parts.append(part)
                size += len(part)
            data = b"".join(parts)
        job.buffered -= len(data)
        job.delivered += len(data)
        self._notify()
        return data

    def promote(self, job: Job) -> None:
        self.head = job
        self.waiting_behind_head -= job.buffered
        self._notify()

    def _notify(self) -> None:
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None
