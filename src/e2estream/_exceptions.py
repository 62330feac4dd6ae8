"""Exceptions raised by e2estream.

All library-specific errors derive from one base class::

    E2EStreamError
    ├── SourceError                 the LLM stream reported an error in-stream
    └── SynthesisError              a TTS request for one segment failed
        ├── SynthesisTimeout        time-to-first-byte or total timeout exceeded
        └── TTSHTTPError            the TTS server answered with an HTTP error status
            └── TTSAuthenticationError   401/403: wrong or missing credentials

Misuse of the API raises the built-in ``TypeError``, ``ValueError`` or
``RuntimeError``. A consumer that went away is anyio's ``BrokenResourceError``.

In a :func:`~e2estream.stream_reply` stream a ``SynthesisError`` (or any other
exception raised by a synthesizer) becomes an :class:`~e2estream.ErrorEvent` and the
rest of the reply goes on; a failing token source raises out of the stream.
"""

from __future__ import annotations

__all__ = [
    "E2EStreamError",
    "SourceError",
    "SynthesisError",
    "SynthesisTimeout",
    "TTSAuthenticationError",
    "TTSHTTPError",
]


class E2EStreamError(Exception):
    """Base class of every error defined by e2estream."""


class SourceError(E2EStreamError):
    """The LLM token stream reported an error (for example an in-stream ``error`` object).

    The server's message is the exception's message.
    """


class SynthesisError(E2EStreamError):
    """Synthesizing one segment failed."""


class SynthesisTimeout(SynthesisError):
    """A TTS request took longer than its time-to-first-byte or total timeout."""


class TTSHTTPError(SynthesisError):
    """The TTS server answered with an HTTP error status.

    Args:
        status_code: The HTTP status code.
        message: The server's error message (never contains credentials).
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"TTS server answered HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message


class TTSAuthenticationError(TTSHTTPError):
    """The TTS server rejected the credentials (HTTP 401 or 403). Never retried."""
