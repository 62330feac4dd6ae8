"""``ElevenLabsSpeech``: ElevenLabs' HTTP streaming text-to-speech endpoint.

With timestamps (the default for raw output formats) the request goes to
``/stream/with-timestamps``, decoded by ``_elevenlabs_timestamps``. See
``docs/backends/elevenlabs.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from .._audio import AudioEncoding, AudioFormat, TextTiming
from .._request import SynthesisRequest
from ._clients import AsyncHTTPClient
from ._elevenlabs_timestamps import TimestampedBody
from ._guards import (
    DEFAULT_MAX_CHUNK_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    ResponseLimits,
    json_request,
    redact_url,
)
from ._http import HTTPBackend, stream_audio
from ._http_settings import HTTPTimeouts, RetryPolicy

__all__ = ["ElevenLabsSpeech"]

ELEVENLABS_BASE_URL = "https://api.elevenlabs.io"

_OUTPUT_FORMAT = re.compile(r"(pcm|ulaw|alaw|mp3|opus)_(\d+)(?:_\d+)?")
_ENCODINGS: dict[str, AudioEncoding] = {
    "pcm": "pcm_s16le",
    "ulaw": "mulaw",
    "alaw": "alaw",
    "mp3": "mp3",
    "opus": "opus",
}


def _audio_format(output_format: str) -> AudioFormat:
    match = _OUTPUT_FORMAT.fullmatch(output_format)
    if match is None:
        raise ValueError(
            f"unsupported output_format {output_format!r}; expected codec_rate[_bitrate] "
            "with codec pcm, ulaw, alaw, mp3 or opus (for example 'pcm_24000')"
        )
    return AudioFormat(_ENCODINGS[match[1]], int(match[2]), 1)


class ElevenLabsSpeech(HTTPBackend):
    """Text-to-speech through ElevenLabs' streaming endpoint.

    Each :meth:`synthesize` call is one ``POST {base_url}/v1/text-to-speech/{voice_id}
    /stream``; the audio is yielded as the response body arrives. The text of the
    previous segment is sent as ``previous_text``, so consecutive segments keep their
    prosody: the pipeline calls :meth:`synthesize_request` with a
    :class:`~e2estream.SynthesisRequest` that carries it.

    Word timings: with ``timestamps`` on (the default for the raw output formats,
    ``pcm_*``, ``ulaw_*``, ``alaw_*``) the request goes to ``/stream/with-timestamps``
    instead, and :meth:`synthesize` also yields a :class:`~e2estream.TextTiming` per
    word, before the audio the word starts in, so the spoken transcript of an
    interrupted reply is exact. The audio is the same; the body is about a third larger
    (base64 in JSON).

    Example::

        async with ElevenLabsSpeech("JBFqnCBsd6RMkjVDRZzb") as tts:  # ELEVENLABS_API_KEY
            async for pcm in tts.synthesize("Hello there."):
                play(pcm)  # 24 kHz 16-bit mono

    Args:
        voice_id: The voice to speak with.
        api_key: Sent as the ``xi-api-key`` header. When None, the
            ``ELEVENLABS_API_KEY`` environment variable is used, but only if
            ``base_url`` is an ``elevenlabs.io`` host, so the key never goes elsewhere
            by accident.
        model_id: The model, ``"eleven_flash_v2_5"`` (lowest latency) by default.
        output_format: ``codec_rate[_bitrate]``: ``"pcm_24000"`` (default; 16-bit
            little-endian mono), ``"pcm_16000"``, ``"pcm_44100"``, ``"ulaw_8000"``,
            ``"alaw_8000"``, ``"mp3_44100_128"``, ``"opus_48000_64"``, ...
        voice_settings: The API's ``voice_settings`` object (``stability``,
            ``similarity_boost``, ``style``, ``use_speaker_boost``, ``speed``).
        language_code: ISO 639-1 code to enforce a language (models that support it).
        base_url: The API root, without ``/v1``.
        extra_body: More JSON fields (``seed``, ``apply_text_normalization``, ...).
        timestamps: Ask for character alignment and yield word timings. None (default)
            turns it on for raw output formats, where the audio's duration, needed to
            place each chunk's timings, is known from its size; True requires a raw
            format; False uses the plain ``/stream`` endpoint.
        client: An ``httpx.AsyncClient`` or ``httpx2.AsyncClient`` to use; it is
            borrowed, never closed. Without one the backend creates its own (with the
            ``connect`` and ``read`` timeouts of ``timeouts``) and closes it in
            :meth:`aclose`.
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
        ValueError: For an unsupported ``output_format``, ``timestamps=True`` with a
            compressed format, or an invalid option.
        TypeError: If ``client`` is not an ``httpx``/``httpx2`` ``AsyncClient``, or
            ``timeouts``/``retry`` not an ``HTTPTimeouts``/``RetryPolicy``.

    """

    def __init__(
        self,
        voice_id: str,
        *,
        api_key: str | None = None,
        model_id: str = "eleven_flash_v2_5",
        output_format: str = "pcm_24000",
        voice_settings: Mapping[str, Any] | None = None,
        language_code: str | None = None,
        base_url: str = ELEVENLABS_BASE_URL,
        extra_body: Mapping[str, Any] | None = None,
        timestamps: bool | None = None,
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
        if not voice_id:
            raise ValueError("voice_id must not be empty")
        #: The encoding of the bytes :meth:`synthesize` yields.
        self.audio_format = _audio_format(output_format)
        if timestamps is None:
            timestamps = self.audio_format.is_raw
        elif not isinstance(timestamps, bool):
            raise TypeError(f"timestamps must be a bool or None, not {type(timestamps).__name__}")
        elif timestamps and not self.audio_format.is_raw:
            raise ValueError(
                f"timestamps=True needs a raw output_format (pcm_*, ulaw_*, alaw_*), not "
                f"{output_format!r}: each chunk's timings are placed by the duration of "
                "the audio before it, which a compressed format does not tell"
            )
        #: Whether :meth:`synthesize` yields word timings (``timestamps``).
        self.provides_timings = timestamps
        path = "/stream/with-timestamps" if timestamps else "/stream"
        url = f"{base_url.rstrip('/')}/v1/text-to-speech/{quote(voice_id, safe='')}{path}"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {redact_url(base_url)!r}")
        host = parts.hostname
        if api_key is None and (host == "elevenlabs.io" or host.endswith(".elevenlabs.io")):
            api_key = os.environ.get("ELEVENLABS_API_KEY")
        self.voice_id = voice_id
        self.model_id = model_id
        self.output_format = output_format
        self.voice_settings: dict[str, Any] | None = (
            dict(voice_settings) if voice_settings is not None else None
        )
        self.language_code = language_code
        self.base_url = base_url
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        self._url = f"{url}?output_format={quote(output_format, safe='')}"
        self._api_key = api_key or None

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (
            f"{type(self).__name__}({self.voice_id!r}, api_key={key}, "
            f"model_id={self.model_id!r}, output_format={self.output_format!r}, "
            f"base_url={redact_url(self.base_url)!r})"
        )

    def _request(self, client: AsyncHTTPClient, text: str, previous_text: str | None) -> Any:
        payload: dict[str, Any] = {"text": text, "model_id": self.model_id}
        if self.voice_settings is not None:
            payload["voice_settings"] = self.voice_settings
        if self.language_code is not None:
            payload["language_code"] = self.language_code
        if previous_text:
            payload["previous_text"] = previous_text
        payload.update(self.extra_body)
        headers = {"xi-api-key": self._api_key} if self._api_key else {}
        return json_request(client, self._url, payload, headers)

    def synthesize_request(self, request: SynthesisRequest) -> AsyncIterator[bytes | TextTiming]:
        """Synthesize one segment of a reply, with the previous segment as context.

        The pipeline calls this (rather than :meth:`synthesize`) with every segment, so
        the intonation continues across segments.
        """
        return self.synthesize(request.text, previous_text=request.previous_text)

    async def synthesize(
        self, text: str, *, previous_text: str | None = None
    ) -> AsyncGenerator[bytes | TextTiming, None]:
        """Yield the audio for ``text`` as the server streams it, with word timings.

        With :attr:`provides_timings`, a :class:`~e2estream.TextTiming` comes before
        the audio each word starts in: ``char_start``/``char_end`` slice the word (a
        run of non-whitespace characters) out of ``text``; ``start``/``end`` are seconds
        from the start of this call's audio (``end`` is None when the word's last
        character came in a later chunk).

        Blank text yields nothing and sends no request.

        Args:
            text: What to say.
            previous_text: The text spoken just before (the previous segment), sent as
                context so the intonation continues across segments; not spoken.

        Yields:
            Audio bytes in :attr:`audio_format`, and :class:`~e2estream.TextTiming`
            objects when :attr:`provides_timings` is true.

        Raises:
            TTSAuthenticationError: The server rejected the API key (HTTP 401/403;
                ElevenLabs also answers 401 when the quota is used up).
            TTSHTTPError: Another HTTP error, or a retryable one after the last retry.
            SynthesisTimeout: The first-byte or total timeout was exceeded.
            SynthesisError: A connection error (after audio began, or after the last
                retry), a response that is not audio, a body past the size caps, a text
                that cannot be encoded (a lone surrogate), or a timestamped body that is
                not JSON lines with base64 audio.
            RuntimeError: The backend has been closed.

        """
        if not text.strip():
            return
        client = self._http_client()
        if not self.provides_timings:
            body = stream_audio(
                client,
                self._request(client, text, previous_text),
                timeouts=self.timeouts,
                retry=self.retry,
                secrets=self._secrets(),
                limits=self._limits,
            )
            try:
                async for data in body:
                    yield data
            finally:
                # Close the inner generator now (and with it the response), not at GC.
                await body.aclose()
            return
        decoders: list[TimestampedBody] = []  # one per attempt; the last one is in use

        def decoder() -> TimestampedBody:
            decoders.append(TimestampedBody(text, self.audio_format))
            return decoders[-1]

        body = stream_audio(
            client,
            self._request(client, text, previous_text),
            timeouts=self.timeouts,
            retry=self.retry,
            decoder_factory=decoder,
            secrets=self._secrets(),
            limits=self._limits,
            json_body=True,
        )
        try:
            async for data in body:
                for timing in _take(decoders[-1].pending):
                    yield timing
                yield data
            if decoders:  # timings after the last audio (an alignment-only object)
                for timing in _take(decoders[-1].pending):
                    yield timing
        finally:
            await body.aclose()

    def _secrets(self) -> list[str]:
        return [self._api_key] if self._api_key else []


def _take(pending: list[TextTiming]) -> Sequence[TextTiming]:
    taken = pending[:]
    pending.clear()
    return taken
