"""Shared HTTP machinery of the TTS backends: one streamed request with retries and timeouts.

The rules, in one place so that every HTTP backend behaves the same:

- 401/403 raise :class:`~e2estream.TTSAuthenticationError` at once, with the server's
  message; other 4xx raise :class:`~e2estream.TTSHTTPError` at once.
- 408, 429, 5xx (but 501/505) and transport errors are retried **only while nothing has
  been yielded yet**, with exponential backoff and jitter, honouring ``Retry-After``
  (capped), up to ``RetryPolicy.max_retries`` times. Once audio has been yielded a
  failure raises :class:`~e2estream.SynthesisError`: a retry would repeat audio the
  listener heard.
- ``HTTPTimeouts.first_byte`` bounds the time from sending a request to its first body
  byte; ``HTTPTimeouts.total`` the time spent waiting for the server in one request. The
  time the *consumer* spends between chunks is not counted: a segment whose audio waits
  behind the one being played must not time out because of our own backpressure.
- Every await that may be cancelled by a timeout is wrapped on its own, so no cancel
  scope ever spans a ``yield`` (PEP 789), and the response is closed, shielded and
  bounded, on every exit path: ``aclose()`` of the iterator closes the connection now.
- Secrets (API keys) never reach an exception message, a log line or a ``repr``: server
  messages are redacted, and so are credentials in URLs (see ``_guards.py``, also for
  the content-type check and the size caps).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
from typing_extensions import Self

from .._closing import close_streamed_response
from .._exceptions import SynthesisError, SynthesisTimeout, TTSAuthenticationError, TTSHTTPError
from .._http_messages import read_error_message
from ._clients import (
    AsyncHTTPClient,
    ClientErrors,
    HTTPResponse,
    check_client,
    client_errors,
    new_client,
)
from ._guards import DEFAULT_LIMITS, Redactor, ResponseLimits, audio_media_type, redact_url
from ._http_settings import HTTPTimeouts, RetryPolicy

__all__ = ["BodyDecoder", "HTTPBackend", "Passthrough", "stream_audio"]

logger = logging.getLogger("e2estream")

#: Statuses worth another try: the server was busy or briefly broken.
_RETRY_STATUSES = frozenset({408, 429}) | (frozenset(range(500, 600)) - {501, 505})


class BodyDecoder(Protocol):
    """Turns response body bytes into audio bytes (identity, or a WAV header stripper)."""

    def feed(self, data: bytes) -> bytes:
        """Consume body bytes; return the audio bytes in them (maybe empty)."""
        ...

    def finish(self) -> None:
        """Signal the end of the body; raise :class:`SynthesisError` if it was invalid."""
        ...


class Passthrough:
    """The identity :class:`BodyDecoder`: the body is the audio."""

    def feed(self, data: bytes) -> bytes:
        return data

    def finish(self) -> None:
        pass


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, error: SynthesisError, response: HTTPResponse | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.response = response


class _Clock:
    """Deadlines for one request; counts only time spent waiting for the server."""

    def __init__(self, timeouts: HTTPTimeouts) -> None:
        self.timeouts = timeouts
        self.started = anyio.current_time()
        self.waited = 0.0  # seconds spent inside our awaits on the server
        self.first_byte = False

    def deadline(self) -> float:
        now = anyio.current_time()
        deadline = math.inf
        if self.timeouts.total is not None:
            deadline = now + max(0.0, self.timeouts.total - self.waited)
        if not self.first_byte and self.timeouts.first_byte is not None:
            deadline = min(deadline, self.started + self.timeouts.first_byte)
        return deadline

    def timeout_error(self) -> SynthesisTimeout:
        limit = self.timeouts.first_byte
        if (
            not self.first_byte
            and limit is not None
            and anyio.current_time() >= self.started + limit
        ):
            return SynthesisTimeout(f"no audio from the TTS server within {limit} s")
        return SynthesisTimeout(
            f"the TTS request took longer than its total timeout of {self.timeouts.total} s"
        )


async def stream_audio(
    client: AsyncHTTPClient,
    request: Any,
    *,
    timeouts: HTTPTimeouts,
    retry: RetryPolicy,
    decoder_factory: Callable[[], BodyDecoder] = Passthrough,
    secrets: Collection[str] = (),
    limits: ResponseLimits = DEFAULT_LIMITS,
    json_body: bool = False,
) -> AsyncGenerator[bytes, None]:
    """Send ``request`` and yield the decoded audio of its body as it arrives.

    Args:
        client: The client to send with (pooled connections): an ``httpx`` or an
            ``httpx2`` ``AsyncClient``.
        request: The request, built by ``client``; it is re-sent unchanged on a retry.
        timeouts: How long the request may wait on the server.
        retry: How a failure before the first audio is retried.
        decoder_factory: Makes a fresh body decoder for each attempt.
        secrets: Strings that must never appear in an error message.
        limits: Size caps on one body chunk and on the whole body.
        json_body: The audio comes wrapped in JSON (the decoder unwraps it), so a JSON
            ``Content-Type`` is expected rather than taken for an error.

    Yields:
        Non-empty audio byte strings.

    Raises:
        TTSAuthenticationError: HTTP 401/403.
        TTSHTTPError: Another error status, or a retryable one when retries ran out.
        SynthesisTimeout: A first-byte or total timeout.
        SynthesisError: A transport error (after audio began, or when retries ran out),
            a body the decoder rejects, a content type that is not audio, or a body
            past the size caps.

    """
    errors = client_errors(client)
    redact = Redactor(secrets)
    url = redact_url(str(request.url))
    retries = 0
    while True:
        clock = _Clock(timeouts)
        decoder = decoder_factory()
        response: HTTPResponse | None = None
        body: AsyncIterator[bytes] | None = None
        received = 0
        try:
            try:
                response = await _send(client, request, clock, url, redact, errors)
                if not response.is_success:
                    raise await _status_error(response, clock, redact)
                is_audio, media_type = audio_media_type(response)
                if not is_audio and not json_body:
                    raise await _not_audio_error(response, media_type, clock, url, redact)
                body = response.aiter_bytes()
                first = b""
                # Read until there is audio to yield: until then a failure may be retried
                # (a WAV header alone is no audio).
                while not first:
                    data = await _read(body, clock, url, redact, errors, retryable=True)
                    if data is None:
                        decoder.finish()
                        return
                    received += len(data)
                    limits.check(data, received, url)
                    first = decoder.feed(data)
            except _Retry as failure:
                if retries >= retry.max_retries:
                    raise failure.error from failure.error.__cause__
                delay = retry.delay(retries, failure.response)
                retries += 1
                logger.info(
                    "TTS request to %s failed (%s); retry %d of %d in %.2f s",
                    url,
                    failure.error,
                    retries,
                    retry.max_retries,
                    delay,
                )
                # Close before sleeping so the connection goes back to the pool (or away).
                await close_streamed_response(response, body)
                body = response = None
                await anyio.sleep(delay)
                continue
            yield first
            # From here on nothing is retried: the consumer has audio of this attempt.
            while True:
                data = await _read(body, clock, url, redact, errors, retryable=False)
                if data is None:
                    decoder.finish()
                    return
                received += len(data)
                limits.check(data, received, url)
                audio = decoder.feed(data)
                if audio:
                    yield audio
        finally:
            await close_streamed_response(response, body)


async def _send(
    client: AsyncHTTPClient,
    request: Any,
    clock: _Clock,
    url: str,
    redact: Redactor,
    errors: ClientErrors,
) -> HTTPResponse:
    started = anyio.current_time()
    with anyio.CancelScope(deadline=clock.deadline()):
        try:
            # Redirects are not followed: credentials must never go to another host.
            return await client.send(request, stream=True, follow_redirects=False)
        except errors.transport as exc:
            raise _transport_error(exc, url, redact, errors, retryable=True) from exc
        finally:
            clock.waited += anyio.current_time() - started
    raise clock.timeout_error()


async def _read(
    body: AsyncIterator[bytes],
    clock: _Clock,
    url: str,
    redact: Redactor,
    errors: ClientErrors,
    *,
    retryable: bool,
) -> bytes | None:
    """Return the next non-empty piece of the body, or None at its end."""
    started = anyio.current_time()
    with anyio.CancelScope(deadline=clock.deadline()) as scope:
        try:
            while True:
                try:
                    data = await body.__anext__()
                except StopAsyncIteration:
                    return None
                if data:
                    clock.first_byte = True
                    return data
        except errors.transport as exc:
            raise _transport_error(exc, url, redact, errors, retryable=retryable) from exc
        except errors.decoding as exc:
            detail = redact(str(exc))
            raise SynthesisError(f"could not decode the TTS response from {url}: {detail}") from exc
        finally:
            clock.waited += anyio.current_time() - started
    assert scope.cancelled_caught
    raise clock.timeout_error()


def _transport_error(
    exc: Exception, url: str, redact: Redactor, errors: ClientErrors, *, retryable: bool
) -> Exception:
    kind: type[SynthesisError] = (
        SynthesisTimeout if isinstance(exc, errors.timeout) else SynthesisError
    )
    detail = redact(str(exc)) or type(exc).__name__
    if not retryable:
        return kind(f"the connection to the TTS server at {url} failed mid-stream: {detail}")
    error = kind(f"could not get audio from the TTS server at {url}: {detail}")
    # A malformed request or an unsupported URL will not get better by retrying.
    if isinstance(exc, (errors.local_protocol, errors.unsupported_protocol)):
        return error
    error.__cause__ = exc
    return _Retry(error, None)


async def _not_audio_error(
    response: HTTPResponse,
    media_type: str,
    clock: _Clock,
    url: str,
    redact: Redactor,
) -> SynthesisError:
    # Not retried: a server that labels its answer HTML or JSON is misconfigured or an
    # error page; another try gets the same. Its text says what went wrong.
    message = redact(await _error_message(response, clock))
    return SynthesisError(
        f"the TTS server at {url} answered HTTP {response.status_code} with "
        f"{media_type!r} instead of audio: {message}"
    )


async def _status_error(response: HTTPResponse, clock: _Clock, redact: Redactor) -> Exception:
    message = redact(await _error_message(response, clock))
    status = response.status_code
    if status in (401, 403):
        return TTSAuthenticationError(status, message)
    error = TTSHTTPError(status, message)
    if status in _RETRY_STATUSES:
        return _Retry(error, response)
    return error


async def _error_message(response: HTTPResponse, clock: _Clock) -> str:
    # Bounded by the request's own deadline too.
    body = response.aiter_bytes()
    max_wait = min(clock.deadline() - anyio.current_time(), 5.0)
    try:
        fallback = response.reason_phrase or "no message"
        return await read_error_message(body, fallback=fallback, max_wait=max_wait)
    finally:
        await close_streamed_response(response, body)


_Setting = TypeVar("_Setting", HTTPTimeouts, RetryPolicy)


def _checked(value: _Setting | None, kind: type[_Setting], name: str) -> _Setting:
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {kind.__name__}(...) or None, not {value!r}")
    return value


class HTTPBackend:
    """Base of the HTTP backends: owns (or borrows) an ``httpx``/``httpx2`` ``AsyncClient``.

    A client passed in is borrowed: it is used for every request (connection pooling)
    and never closed by the backend. Without one the backend creates its own on first
    use (httpx2 if installed, else httpx) and closes it in :meth:`aclose`.

    Raises:
        TypeError: If ``client`` is neither an ``httpx.AsyncClient`` nor an
            ``httpx2.AsyncClient``.
    """

    def __init__(
        self,
        *,
        client: AsyncHTTPClient | None,
        timeouts: HTTPTimeouts | None,
        retry: RetryPolicy | None,
        limits: ResponseLimits = DEFAULT_LIMITS,
    ) -> None:
        #: How long each request may wait on the server.
        self.timeouts = _checked(timeouts, HTTPTimeouts, "timeouts")
        #: How a request that failed before its first audio is retried.
        self.retry = _checked(retry, RetryPolicy, "retry")
        self._limits = limits
        if client is not None:
            check_client(client)
        self._client = client
        self._owns_client = client is None
        self._closed = False

    def _http_client(self) -> AsyncHTTPClient:
        if self._closed:
            raise RuntimeError(f"this {type(self).__name__} has been closed")
        if self._client is None:
            # Created lazily, inside the event loop that will use it.
            self._client = new_client(read=self.timeouts.read, connect=self.timeouts.connect)
        return self._client

    async def prewarm(self) -> None:
        """Create the backend's own HTTP client now, in a worker thread.

        ``stream_reply`` calls this as a reply starts, while the LLM is still thinking:
        making a client builds its SSL context, which takes a noticeable part of a second
        and would otherwise block the event loop during the first request. Idempotent;
        nothing to do with a borrowed client or after :meth:`aclose`.
        """
        if self._client is not None or self._closed:
            return
        timeouts = self.timeouts
        client = await anyio.to_thread.run_sync(
            lambda: new_client(read=timeouts.read, connect=timeouts.connect)
        )
        if not self._adopt(client):
            # A request made its own meanwhile, or the backend was closed: not needed.
            await client.aclose()

    def _adopt(self, client: AsyncHTTPClient) -> bool:
        if self._client is not None or self._closed:
            return False
        self._client = client
        return True

    async def aclose(self) -> None:
        """Close the HTTP client if the backend created it; a borrowed one stays open.

        Afterwards :meth:`synthesize` raises ``RuntimeError``. Closing twice is harmless.
        """
        self._closed = True
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
