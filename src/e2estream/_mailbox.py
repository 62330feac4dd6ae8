"""The bounded queue between a reply's stages and its consumer, one wake-up per wait.

An anyio memory object stream would do, but its ``receive()`` passes a checkpoint before
it waits: a consumer that found the queue empty pays two scheduling round trips per
event instead of one. This queue has only what the pipeline needs: several senders that
each close (the stream ends when all have), one consumer, a bound that makes senders
wait (backpressure), and "the consumer is gone" for senders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

import anyio

from ._waiter import Waiter, waiter_factory

__all__ = ["Mailbox", "MailboxItems", "MailboxSender"]

T = TypeVar("T")


class Mailbox(Generic[T]):
    """A bounded queue with several senders and one receiver."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._senders = 0
        self._closed = False  # the receiver closed it
        self._new_waiter = waiter_factory()  # made here: a mailbox lives in one event loop
        self._readable: Waiter | None = None  # the receiver waits on this
        self._writable: anyio.Event | None = None  # senders wait on this

    def sender(self) -> MailboxSender[T]:
        """A new sender; the mailbox ends (for the receiver) when every sender closed."""
        self._senders += 1
        return MailboxSender(self)

    # --- the receiver ---------------------------------------------------------------

    def take(self) -> T | None:
        """Take the oldest item, or None if nothing is queued (see :attr:`ended`).

        None rather than an exception: a consumer polling several sources finds this
        one empty about once per event.

        Raises:
            anyio.ClosedResourceError: The receiver closed the mailbox.
        """
        if self._closed:
            raise anyio.ClosedResourceError
        if not self._items:
            return None
        item = self._items.popleft()
        self._wake_writers()
        return item

    @property
    def ended(self) -> bool:
        """True when nothing is queued and every sender has closed."""
        return not self._items and self._senders == 0

    def next_wake(self) -> Waiter:
        """A waiter the next wake-up sets: an item, the last sender closing, :meth:`wake`.

        ``await mailbox.next_wake()``. For a receiver that also waits on something else
        that rings :meth:`wake`; it must have found nothing ready just before (no await
        in between), so that no wake-up is missed.
        """
        # Always a fresh waiter: one whose wait was cancelled is spent (its future is).
        self._readable = waiter = self._new_waiter()
        return waiter

    def wake(self) -> None:
        """Wake the receiver if it waits (:meth:`next_wake`)."""
        self._wake_reader()

    def close(self) -> None:
        """The receiver leaves: senders get False from :meth:`MailboxSender.deliver`."""
        self._closed = True
        self._items.clear()
        self._wake_writers()

    # --- used by the senders ------------------------------------------------------

    def _wake_reader(self) -> None:
        if self._readable is not None:
            self._readable.set()
            self._readable = None

    def _wake_writers(self) -> None:
        if self._writable is not None:
            self._writable.set()
            self._writable = None

    def _offer(self, item: T) -> bool:
        # The one way an item is queued: only with room, and while the receiver is there.
        if self._closed or len(self._items) >= self._capacity:
            return False
        self._items.append(item)
        self._wake_reader()
        return True

    async def _deliver(self, item: T) -> bool:
        while not self._offer(item):
            if self._closed:
                return False
            if self._writable is None:
                self._writable = anyio.Event()
            await self._writable.wait()
        return True

    def _sender_closed(self) -> None:
        self._senders -= 1
        if self._senders == 0:
            self._wake_reader()


class MailboxSender(Generic[T]):
    """One sender of a :class:`Mailbox`; close it (``with``) when done sending."""

    def __init__(self, mailbox: Mailbox[T]) -> None:
        self._mailbox = mailbox
        self._open = True

    async def deliver(self, item: T) -> bool:
        """Queue ``item``, waiting while the mailbox is full; False if the receiver left."""
        return await self._mailbox._deliver(item)

    def offer(self, item: T) -> bool:
        """Queue ``item`` if there is room now; False if full or the receiver left.

        The per-token path: no coroutine when the mailbox has room (:meth:`deliver`
        then tells "full" from "gone").
        """
        return self._mailbox._offer(item)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._mailbox._sender_closed()

    def __enter__(self) -> MailboxSender[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MailboxItems(AsyncIterator[T]):
    """The receiver as an async iterator, for a task that only reads this mailbox.

    ``async for item in items``; an item already queued is returned without a
    scheduling round trip. ``aclose()`` (which ``async with``-style closing helpers
    call) closes the mailbox, so senders learn that the receiver left.
    """

    def __init__(self, mailbox: Mailbox[T]) -> None:
        self._mailbox = mailbox

    async def __anext__(self) -> T:
        mailbox = self._mailbox
        while True:
            item = mailbox.take()
            if item is not None:
                return item
            if mailbox.ended:
                raise StopAsyncIteration
            await mailbox.next_wake()

    async def aclose(self) -> None:
        """Close the mailbox: queued items are dropped, senders are told."""
        self._mailbox.close()
