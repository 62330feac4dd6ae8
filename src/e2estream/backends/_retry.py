"""The retry policy of the HTTP backends: which waits, and the server's ``Retry-After``."""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone

from ._clients import HTTPResponse

__all__ = ["RetryPolicy", "retry_after"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Timeouts and retries of one backend (validated copies of its constructor args)."""

    first_byte_timeout: float | None
    total_timeout: float | None
    max_retries: int
    retry_base_delay: float
    retry_max_delay: float

    def __post_init__(self) -> None:
        for name in ("first_byte_timeout", "total_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None, got {value!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries!r}")
        if self.retry_base_delay < 0 or self.retry_max_delay < 0:
            raise ValueError("retry delays must not be negative")

    def delay(self, retry: int, response: HTTPResponse | None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        hinted = retry_after(response) if response is not None else None
        if hinted is not None:
            # The server knows best when it will have capacity again; no jitter needed
            # as it already spreads its clients. Capped: a real-time stream cannot wait
            # a minute for one segment.
            return min(hinted, self.retry_max_delay)
        # Exponential backoff with "equal jitter": half fixed, half random, so concurrent
        # segments that failed together do not retry in lockstep.
        ceiling = min(self.retry_max_delay, self.retry_base_delay * 2.0**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


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
