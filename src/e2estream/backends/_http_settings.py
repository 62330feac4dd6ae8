"""The settings of the HTTP backends: ``HTTPTimeouts`` and ``RetryPolicy``.

Two objects rather than one, because they answer different questions and vary
independently: how long one request may wait on the server, and what happens after a
request failed. A request past its ``first_byte`` or ``total`` budget is not retried,
whatever the retry policy, so folding both into one object would suggest a coupling
that is not there. They are the HTTP
backends' own bounds; :class:`~e2estream.SynthesisTimeouts` is the pipeline's bound on
any backend, and should be the looser of the two.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone

from ._clients import HTTPResponse

__all__ = ["HTTPTimeouts", "RetryPolicy", "retry_after"]


def _check_seconds(owner: str, name: str, value: object, *, zero: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}.{name} must be a number of seconds or None, not {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        bound = "finite and >= 0" if zero else "positive and finite"
        raise ValueError(f"{owner}.{name} must be {bound} seconds, got {value!r}")


@dataclass(frozen=True, slots=True)
class HTTPTimeouts:
    """How long one request of an HTTP TTS backend may wait on the server.

    ``first_byte`` and ``total`` bound each request whichever client sends it; a request
    past one fails with :class:`~e2estream.SynthesisTimeout` and is not retried.
    ``connect`` and ``read`` configure the client a backend creates for itself (a
    client you pass keeps its own timeouts).

    Example::

        OpenAISpeech(timeouts=HTTPTimeouts(first_byte=5.0, total=60.0))

    Args:
        first_byte: Seconds from sending a request to the first byte of its body.
        total: Seconds one request may spend waiting for the server, not counting the
            time the consumer takes between chunks (a segment waiting behind the one
            being played must not time out because of that).
        connect: Seconds to open a connection (the backend's own client).
        read: Seconds to wait for any piece of the response, which also bounds a stall
            between two chunks (the backend's own client).

    Each is a positive number of seconds, or None for no bound.

    Raises:
        TypeError: If a value is not a number or None.
        ValueError: If a value is not positive and finite.
    """

    first_byte: float | None = 15.0
    total: float | None = 120.0
    connect: float | None = 10.0
    read: float | None = 30.0

    def __post_init__(self) -> None:
        for name in ("first_byte", "total", "connect", "read"):
            _check_seconds("HTTPTimeouts", name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How an HTTP TTS backend retries a request that failed before any audio came.

    Retried: HTTP 408, 429 and 5xx (but 501 and 505), and connection errors. Nothing is
    retried once audio has been yielded (the listener would hear it twice), nor after the
    ``first_byte`` or ``total`` timeout of :class:`HTTPTimeouts` (the latency budget is
    spent); the backend's own client's ``connect`` and ``read`` timeouts are connection
    errors and are retried. The wait before retry ``n`` (from 0) is drawn
    from ``[c / 2, c]`` with ``c = min(max_delay, base_delay * 2**n)`` (exponential
    backoff with jitter, so segments that failed together do not retry in lockstep),
    unless the server sent ``Retry-After`` (or ``retry-after-ms``): then that, capped
    at ``max_delay``.

    Example::

        ElevenLabsSpeech(voice_id, retry=RetryPolicy(max_retries=0))  # fail fast

    Args:
        max_retries: How many times a request is retried (0: never).
        base_delay: The first backoff delay, in seconds; it doubles on each retry.
        max_delay: The longest wait, in seconds, also for a ``Retry-After``.

    Raises:
        TypeError: If a value is not a number (``max_retries``: not an int).
        ValueError: If a value is negative or not finite.
    """

    max_retries: int = 2
    base_delay: float = 0.25
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"RetryPolicy.max_retries must be an int, not {self.max_retries!r}")
        if self.max_retries < 0:
            raise ValueError(f"RetryPolicy.max_retries must be >= 0, got {self.max_retries}")
        for name in ("base_delay", "max_delay"):
            value = getattr(self, name)
            if value is None:
                raise TypeError(f"RetryPolicy.{name} must be a number of seconds, not None")
            _check_seconds("RetryPolicy", name, value, zero=True)

    def delay(self, retry: int, response: HTTPResponse | None = None) -> float:
        """Return the seconds to wait before retry number ``retry`` (0-based).

        Args:
            retry: How many retries came before this one.
            response: The failed response, whose ``Retry-After`` is honoured; None
                after a connection error.
        """
        hinted = retry_after(response) if response is not None else None
        if hinted is not None:
            # The server knows best when it will have capacity again; no jitter needed
            # as it already spreads its clients. Capped: a real-time stream cannot wait
            # a minute for one segment.
            return min(hinted, self.max_delay)
        # "Equal jitter": half fixed, half random.
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


HTTPTimeouts.__module__ = RetryPolicy.__module__ = "e2estream.backends"


def retry_after(response: HTTPResponse) -> float | None:
    """Return the wait a response asks for (``retry-after-ms`` or ``Retry-After``), or None."""
    milliseconds = response.headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            value = float(milliseconds) / 1000
        except ValueError:
            pass
        else:
            if math.isfinite(value) and value >= 0:
                return value
    header = response.headers.get("retry-after")
    if header is None:
        return None
    try:
        value = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    return value if math.isfinite(value) and value >= 0 else None
