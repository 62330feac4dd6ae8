"""Building blocks for streaming-input backends over WebSocket (extra ``e2estream[websocket]``).

A streaming backend is a class with an ``audio_format`` and a ``connect()`` that yields a
:class:`~e2estream.SynthesisConnection`. :class:`WebSocketStream` is that connection over
one WebSocket: a subclass says which messages to send for a segment, for the end of
input and for a cancel, and turns each message from the service into audio,
:class:`~e2estream.TextTiming` and :class:`~e2estream.SegmentEnd` items. The
ElevenLabs, Cartesia and Deepgram backends are built this way; "Writing a streaming
backend" in the docs walks through one.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import anyio

from .._audio import AudioFormat, TextTiming
from .._exceptions import SynthesisError
from .._redact import redact_urls_in
from .._streaming import SegmentEnd
from ._websocket import WebSocket, WebSocketClosed, WebSocketSettings, connect_websocket

__all__ = [
    "StreamItem",
    "WebSocket",
    "WebSocketClosed",
    "WebSocketSettings",
    "WebSocketSpeech",
    "WebSocketStream",
    "connect_websocket",
    "open_stream",
    "service_endpoint",
]

logger = logging.getLogger("e2estream")

#: What :meth:`WebSocketStream.parse` returns items of.
StreamItem = bytes | TextTiming | SegmentEnd

# The first bytes of containers a raw-PCM request must never be answered with.
_CONTAINERS = {b"RIFF": "WAV", b"ID3": "MP3", b"OggS": "Ogg", b"fLaC": "FLAC", b"\xff\xfb": "MP3"}


Stream = TypeVar("Stream", bound="WebSocketStream")

#: Seconds a goodbye message may take when the connection closes.
_CLOSE_GRACE = 1.0


class WebSocketStream(ABC):
    """A :class:`~e2estream.SynthesisConnection` over one WebSocket; subclass it per service.

    A subclass says what to send (:meth:`segment_messages`, :meth:`cancel_messages`,
    and where the service wants them :meth:`start_messages`, :meth:`end_messages`,
    :meth:`close_messages`) and how to read what comes back (:meth:`parse`). The rest
    is done here: :meth:`receive` reads messages, passes them through :meth:`parse`, and
    ends when :meth:`parse` has set :attr:`finished` or the service closes normally.

    Helpers for subclasses: :meth:`send_all`, :meth:`json`, :meth:`audio` (decodes
    base64, checks that raw PCM is not a container, counts the seconds received for
    timings), :attr:`sent_text` (every text sent, for locating words) and
    :attr:`audio_seconds` (audio received so far on this connection).

    Args:
        socket: The open WebSocket.
        audio_format: The format the service was asked for.
        service: The service's name, for error messages.
    """

    def __init__(self, socket: WebSocket, audio_format: AudioFormat, service: str) -> None:
        self.socket = socket
        self.audio_format = audio_format
        self.service = service
        self.sent_text = ""
        self.finished = False
        self._audio_bytes = 0

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio received so far on this connection."""
        return self.audio_format.duration(self._audio_bytes) or 0.0

    async def send_all(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """Send each of ``messages`` as one JSON text message."""
        for message in messages:
            await self.socket.send_text(json.dumps(message, ensure_ascii=False))

    # -- what to send: override per service ----------------------------------------------

    def start_messages(self) -> list[dict[str, Any]]:
        """Messages sent right after connecting (a configuration message, say)."""
        return []

    @abstractmethod
    def segment_messages(self, text: str) -> list[dict[str, Any]]:
        """Messages that send one segment's text and flush it."""

    def end_messages(self) -> list[dict[str, Any]]:
        """Messages that say no more text comes."""
        return []

    @abstractmethod
    def cancel_messages(self) -> list[dict[str, Any]]:
        """Messages that make the service drop the text and audio it still holds."""

    def close_messages(self) -> list[dict[str, Any]]:
        """Messages sent before the socket closes (a goodbye)."""
        return []

    @abstractmethod
    def parse(self, message: str | bytes) -> Iterable[StreamItem]:
        """Turn one message from the service into items; set :attr:`finished` at its end."""

    # -- the SynthesisConnection protocol ------------------------------------------------

    async def start(self) -> None:
        """Send :meth:`start_messages`."""
        await self.send_all(self.start_messages())

    async def send_segment(self, text: str) -> None:
        """Send :meth:`segment_messages` for ``text`` (and remember the text)."""
        self.sent_text += text
        await self.send_all(self.segment_messages(text))

    async def end_input(self) -> None:
        """Send :meth:`end_messages`."""
        await self.send_all(self.end_messages())

    async def cancel(self) -> None:
        """Send :meth:`cancel_messages`."""
        await self.send_all(self.cancel_messages())

    async def close(self) -> None:
        """Send :meth:`close_messages`."""
        await self.send_all(self.close_messages())

    async def receive(self) -> AsyncGenerator[StreamItem, None]:
        """Yield the items of every message until the service says it has finished."""
        while not self.finished:
            try:
                message = await self.socket.receive()
            except WebSocketClosed as exc:
                if exc.code == 1000:
                    # A normal close ends the stream; the pipeline knows whether that
                    # was early (segments still waiting) and reports it if so.
                    return
                raise
            for item in self.parse(message):
                yield item

    # -- helpers -------------------------------------------------------------------------

    def json(self, message: str | bytes) -> dict[str, Any]:
        """Decode a JSON object message, or raise a :class:`~e2estream.SynthesisError`."""
        try:
            value = json.loads(message)
        except ValueError:
            raise SynthesisError(
                f"{self.service} sent a message that is not JSON: {_preview(message)}"
            ) from None
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise SynthesisError(f"{self.service} sent a JSON {kind}, not an object")
        return value

    def audio(self, data: str | bytes) -> bytes:
        """Return audio bytes (decoding base64 text), checked and counted.

        Raises:
            SynthesisError: For invalid base64, or a container (WAV, MP3...) where raw
                samples were asked for.
        """
        if isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise SynthesisError(f"{self.service} sent audio that is not base64") from None
        if self._audio_bytes == 0 and self.audio_format.is_raw:
            for magic, name in _CONTAINERS.items():
                if data.startswith(magic):
                    raise SynthesisError(
                        f"{self.service} sent {name} audio where raw "
                        f"{self.audio_format.encoding} was asked for"
                    )
        self._audio_bytes += len(data)
        return data

    def error(self, detail: object) -> SynthesisError:
        """Return a :class:`~e2estream.SynthesisError` for an error message from the service."""
        return SynthesisError(f"{self.service} reported an error: {redact_urls_in(str(detail))}")


class WebSocketSpeech(ABC):
    """Base of a streaming backend that opens one WebSocket per reply.

    A subclass passes its URL, key and format to ``__init__`` and says how to
    authenticate (:meth:`auth_headers`) and which :class:`WebSocketStream` speaks its
    protocol (:meth:`stream`); :meth:`connect` and a ``repr`` that never shows the key
    are done here.

    Args:
        url: The WebSocket URL (see :func:`service_endpoint`).
        api_key: The key, or None.
        audio_format: The format asked of the service.
        settings: Connection settings.
        shown: Fields for the ``repr`` (never the key).
    """

    #: Whether the connections yield word timings.
    provides_timings: bool = False

    def __init__(
        self,
        *,
        url: str,
        api_key: str | None,
        audio_format: AudioFormat,
        settings: WebSocketSettings | None,
        shown: Mapping[str, object],
    ) -> None:
        self.audio_format = audio_format
        self.settings = settings or WebSocketSettings()
        self._url = url
        self._api_key = api_key
        self._shown = dict(shown)

    def __repr__(self) -> str:
        fields = [f"{name}={value!r}" for name, value in self._shown.items()]
        fields.append("api_key='***'" if self._api_key else "api_key=None")
        return f"{type(self).__name__}({', '.join(fields)})"

    def connect(self) -> AbstractAsyncContextManager[WebSocketStream]:
        """Open one connection (the pipeline does, once per reply)."""
        return open_stream(
            self._url,
            self.stream,
            headers=self.auth_headers(self._api_key),
            settings=self.settings,
        )

    @abstractmethod
    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Return the headers of the opening handshake (the key goes here, never in a message)."""

    @abstractmethod
    def stream(self, socket: WebSocket) -> WebSocketStream:
        """Return the stream that speaks this service's protocol over ``socket``."""


@asynccontextmanager
async def open_stream(
    url: str,
    make_stream: Callable[[WebSocket], Stream],
    *,
    headers: Mapping[str, str] | None = None,
    settings: WebSocketSettings | None = None,
) -> AsyncIterator[Stream]:
    """Connect, build the stream with ``make_stream(socket)``, :meth:`~WebSocketStream.start` it.

    On exit the stream's :meth:`~WebSocketStream.close` runs (bounded, even when the
    block was cancelled), then the socket closes.
    """
    async with connect_websocket(url, headers=headers, settings=settings) as socket:
        stream = make_stream(socket)
        await stream.start()
        try:
            yield stream
        finally:
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + _CLOSE_GRACE
                try:
                    await stream.close()
                except Exception as exc:  # the socket closes next in any case
                    logger.debug("%s: goodbye message failed: %r", stream.service, exc)


def service_endpoint(
    base_url: str,
    path: str,
    query: Mapping[str, object],
    *,
    api_key: str | None,
    official_domain: str,
    key_variable: str,
) -> tuple[str, str | None]:
    """Return the WebSocket URL of ``path`` under ``base_url``, and the API key to use.

    ``http(s)://`` base URLs become ``ws(s)://``. When ``api_key`` is None the key comes
    from the environment variable ``key_variable``, but only for a host under
    ``official_domain``, so a key never goes to a test or proxy server by accident.
    Query values that are None are left out; booleans are written ``true``/``false``.

    Raises:
        ValueError: For a base URL that is not ws(s) or http(s).
    """
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"base_url must be a ws(s):// or http(s):// URL, got {base_url!r}")
    host = parts.hostname
    if api_key is None and (host == official_domain or host.endswith("." + official_domain)):
        api_key = os.environ.get(key_variable)
    pairs = [
        (name, str(value).lower() if isinstance(value, bool) else str(value))
        for name, value in query.items()
        if value is not None
    ]
    url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}{path}"
    if pairs:
        url += "?" + urlencode(pairs)
    return url, api_key or None


def _preview(message: str | bytes) -> str:
    text = message if isinstance(message, str) else message[:80].decode("utf-8", "replace")
    return repr(text[:80])
