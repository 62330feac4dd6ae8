"""``OpenAISpeech``: any OpenAI-compatible ``POST {base_url}/audio/speech`` endpoint.

Works with OpenAI itself and with the servers that copy its API: Kokoro-FastAPI,
LocalAI, Speaches, openedai-speech. See ``docs/backends/openai.md``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from .._audio import AudioEncoding, AudioFormat
from .._exceptions import SynthesisError
from ._clients import AsyncHTTPClient
from ._guards import (
    DEFAULT_MAX_CHUNK_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    ResponseLimits,
    json_request,
    redact_url,
)
from ._http import BodyDecoder, HTTPBackend, Passthrough, stream_audio
from ._http_settings import HTTPTimeouts, RetryPolicy
from ._wav import WavFormatError, WavHeaderStripper

__all__ = ["OpenAISpeech", "ResponseFormat"]

#: The ``response_format`` values of the OpenAI speech API.
ResponseFormat: TypeAlias = Literal["pcm", "wav", "mp3", "opus", "aac", "flac"]

_ENCODINGS: dict[str, AudioEncoding] = {
    "pcm": "pcm_s16le",
    "wav": "pcm_s16le",
    "mp3": "mp3",
    "opus": "opus",
    "aac": "aac",
    "flac": "flac",
}

OPENAI_BASE_URL = "https://api.openai.com/v1"
_OPENAI_HOST = "api.openai.com"


class OpenAISpeech(HTTPBackend):
    """Text-to-speech through an OpenAI-compatible ``/audio/speech`` endpoint.

    Each :meth:`synthesize` call is one streamed ``POST {base_url}/audio/speech``; its
    audio is yielded as the response body arrives. One ``AsyncClient`` (``httpx`` or
    ``httpx2``) is reused for every request, so concurrent segments share pooled
    connections.

    Example::

        async with OpenAISpeech(voice="nova") as tts:  # api_key from OPENAI_API_KEY
            async for pcm in tts.synthesize("Hello there."):
                play(pcm)  # 24 kHz 16-bit mono

        # A local Kokoro-FastAPI server, no key needed:
        tts = OpenAISpeech(base_url="http://localhost:8880/v1", model="kokoro", voice="af_heart")

    Args:
        base_url: The API root, up to and including ``/v1``.
        api_key: Sent as ``Authorization: Bearer ...``. When None, the
            ``OPENAI_API_KEY`` environment variable is used, but only if ``base_url``
            points at ``api.openai.com``: an OpenAI key is never sent to another host
            (a local Kokoro, a gateway) by accident; pass the key explicitly there.
            Without any key no ``Authorization`` header is sent.
        model: The TTS model (``"gpt-4o-mini-tts"``, ``"tts-1"``, ``"kokoro"``, ...).
        voice: The voice name.
        instructions: How to speak (tone, accent); only some models accept it.
        speed: Speaking rate, 0.25 to 4.0; the server's default when None.
        response_format: ``"pcm"`` (default; raw 16-bit little-endian mono), ``"wav"``
            (its RIFF header is removed, so the chunks are raw PCM too), or one of the
            compressed formats ``"mp3"``, ``"opus"``, ``"aac"``, ``"flac"``, passed
            through as they come.
        sample_rate: The server's sample rate: 24000 for OpenAI and Kokoro; some local
            servers use other rates (Piper voices: 22050). For ``"wav"`` the header is
            checked against it.
        extra_body: More JSON fields for servers that take them (for example
            ``{"lang_code": "b"}`` for Kokoro-FastAPI).
        client: An ``httpx.AsyncClient`` or ``httpx2.AsyncClient`` (the OpenAI SDK's
            ``http_client``, say) to use; it is borrowed, never closed. Without
            one the backend creates its own (with the ``connect`` and ``read`` timeouts
            of ``timeouts``) and closes it in :meth:`aclose`.
        timeouts: How long a request may wait on the server, an
            :class:`~e2estream.backends.HTTPTimeouts` (15 s to the first byte, 120 s in all).
        retry: How a request that failed before any audio is retried, a
            :class:`~e2estream.backends.RetryPolicy` (twice, with backoff).
        max_chunk_bytes: The largest body chunk accepted (1 MiB by default); a larger
            one fails the segment with :class:`~e2estream.SynthesisError`.
        max_response_bytes: The most bytes one response may carry (32 MiB by default,
            about 11 minutes of 24 kHz PCM); None for no cap. Past it the segment fails
            with :class:`~e2estream.SynthesisError`.

    Raises:
        ValueError: For an unknown ``response_format`` or an invalid option.
        TypeError: If ``client`` is not an ``httpx``/``httpx2`` ``AsyncClient``, or
            ``timeouts``/``retry`` not an ``HTTPTimeouts``/``RetryPolicy``.

    """

    def __init__(
        self,
        *,
        base_url: str = OPENAI_BASE_URL,
        api_key: str | None = None,
        model: str = "gpt-4o-mini-tts",
        voice: str = "alloy",
        instructions: str | None = None,
        speed: float | None = None,
        response_format: ResponseFormat = "pcm",
        sample_rate: int = 24000,
        extra_body: Mapping[str, Any] | None = None,
        client: AsyncHTTPClient | None = None,
        timeouts: HTTPTimeouts | None = None,
        retry: RetryPolicy | None = None,
        max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__(
            client=client,
            timeouts=timeouts,
            retry=retry,
            limits=ResponseLimits(max_chunk_bytes, max_response_bytes),
        )
        encoding = _ENCODINGS.get(response_format)
        if encoding is None:
            raise ValueError(
                f"unknown response_format {response_format!r}; expected one of {list(_ENCODINGS)}"
            )
        if speed is not None and not 0.25 <= speed <= 4.0:
            raise ValueError(f"speed must be between 0.25 and 4.0, got {speed!r}")
        url = base_url.rstrip("/") + "/audio/speech"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {redact_url(base_url)!r}")
        if api_key is None and parts.hostname == _OPENAI_HOST:
            api_key = os.environ.get("OPENAI_API_KEY")
        self.base_url = base_url
        self.model = model
        self.voice = voice
        self.instructions = instructions
        self.speed = speed
        self.response_format: ResponseFormat = response_format
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        #: The encoding of the bytes :meth:`synthesize` yields.
        self.audio_format = AudioFormat(encoding, sample_rate, 1)
        self._url = url
        self._api_key = api_key or None

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (
            f"{type(self).__name__}(base_url={redact_url(self.base_url)!r}, api_key={key}, "
            f"model={self.model!r}, voice={self.voice!r}, "
            f"response_format={self.response_format!r})"
        )

    def _request(self, client: AsyncHTTPClient, text: str) -> Any:
        payload: dict[str, Any] = {
            "model": self.model,
            "input": text,
            "voice": self.voice,
            "response_format": self.response_format,
        }
        # Optional fields are left out rather than sent as null: several compatible
        # servers reject fields they do not know or nulls where they expect a value.
        if self.instructions is not None:
            payload["instructions"] = self.instructions
        if self.speed is not None:
            payload["speed"] = self.speed
        payload.update(self.extra_body)
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        return json_request(client, self._url, payload, headers)

    def _decoder(self) -> BodyDecoder:
        if self.response_format == "wav":
            return _WavDecoder(self.audio_format)
        return Passthrough()

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """Yield the audio for ``text`` as the server streams it.

        Blank text yields nothing and sends no request.

        Args:
            text: What to say.

        Yields:
            Audio bytes in :attr:`audio_format`.

        Raises:
            TTSAuthenticationError: The server rejected the API key (HTTP 401/403).
            TTSHTTPError: Another HTTP error, or a retryable one after the last retry.
            SynthesisTimeout: The first-byte or total timeout was exceeded.
            SynthesisError: A connection error (after audio began, or after the last
                retry), a WAV stream whose header disagrees with :attr:`audio_format`, a
                response that is not audio (``text/html``, JSON), a body past
                ``max_chunk_bytes``/``max_response_bytes``, or a text that cannot be
                encoded (a lone surrogate).
            RuntimeError: The backend has been closed.

        """
        if not text.strip():
            return
        client = self._http_client()
        audio = stream_audio(
            client,
            self._request(client, text),
            timeouts=self.timeouts,
            retry=self.retry,
            decoder_factory=self._decoder,
            secrets=[self._api_key] if self._api_key else [],
            limits=self._limits,
        )
        try:
            async for data in audio:
                yield data
        finally:
            # Close the inner generator now (and with it the response), not at GC.
            await audio.aclose()


class _WavDecoder:
    """Strips the WAV header and checks that it matches the declared audio format."""

    def __init__(self, expected: AudioFormat) -> None:
        self._expected = expected
        self._stripper = WavHeaderStripper()
        self._checked = False

    def feed(self, data: bytes) -> bytes:
        try:
            audio = self._stripper.feed(data)
        except WavFormatError as exc:
            raise SynthesisError(f"invalid WAV stream from the TTS server: {exc}") from exc
        if not self._checked and self._stripper.format is not None:
            self._checked = True
            actual = self._stripper.format
            if actual != self._expected:
                raise SynthesisError(
                    f"the TTS server sends WAV as {actual.encoding} {actual.sample_rate} Hz "
                    f"{actual.channels} channel(s), but {self._expected.encoding} "
                    f"{self._expected.sample_rate} Hz mono was declared; pass "
                    f"sample_rate={actual.sample_rate} if that is the server's rate"
                )
        return audio

    def finish(self) -> None:
        try:
            self._stripper.finish()
        except WavFormatError as exc:
            raise SynthesisError(f"invalid WAV stream from the TTS server: {exc}") from exc
