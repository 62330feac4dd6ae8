"""What the HTTP backends refuse from a hostile or broken world, and what they never show.

- :class:`ResponseLimits`: caps on one body chunk and on one response, so a server that
  streams without end (or a decompression bomb) cannot exhaust memory.
- :func:`audio_media_type`: a ``200`` with an HTML error page or JSON is an
  error, never PCM noise.
- :func:`json_request`: the request body is encoded here, so a text that cannot be
  encoded (a lone surrogate) is a clear :class:`~e2estream.SynthesisError`, not a raw
  ``UnicodeEncodeError`` from inside the HTTP client.
- :class:`Redactor` (and :func:`~e2estream._redact.redact_url`): API keys, ``user:password@`` and
  credential-like query parameters never reach an error message or a log line.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import SynthesisError
from .._redact import redact_url, redact_urls_in
from ._clients import AsyncHTTPClient, HTTPResponse

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_CHUNK_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "Redactor",
    "ResponseLimits",
    "audio_media_type",
    "json_request",
    "redact_url",
]

#: One body chunk: httpcore reads at most 64 KiB from the socket at a time, so only a
#: decoded (decompressed) chunk or a custom transport comes near this.
DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024
#: One response: 32 MiB is about 11 minutes of 24 kHz 16-bit mono, far more than a
#: segment (a sentence or a paragraph) takes to say.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    """Size caps on what one TTS response may deliver.

    Attributes:
        max_chunk_bytes: The largest body chunk accepted.
        max_response_bytes: The most body bytes one response may carry; None for no cap.
    """

    max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        if not (isinstance(self.max_chunk_bytes, int) and self.max_chunk_bytes > 0):
            raise ValueError(
                f"max_chunk_bytes must be a positive int, got {self.max_chunk_bytes!r}"
            )
        cap = self.max_response_bytes
        if cap is not None and not (isinstance(cap, int) and cap > 0):
            raise ValueError(f"max_response_bytes must be a positive int or None, got {cap!r}")

    def check(self, chunk: bytes, received: int, url: str) -> None:
        """Raise :class:`SynthesisError` if ``chunk`` (making ``received`` in all) is too big."""
        if len(chunk) > self.max_chunk_bytes:
            raise SynthesisError(
                f"the TTS server at {url} sent a body chunk of {len(chunk)} bytes, more "
                f"than max_chunk_bytes={self.max_chunk_bytes}"
            )
        cap = self.max_response_bytes
        if cap is not None and received > cap:
            raise SynthesisError(
                f"the TTS response from {url} grew past max_response_bytes={cap} "
                "(a server streaming without end?)"
            )


#: The caps of a backend that was given none.
DEFAULT_LIMITS = ResponseLimits()


# --- content type ----------------------------------------------------------------------

# Not audio by name, but what servers label raw or container audio with.
_AUDIO_LIKE = frozenset({"application/octet-stream", "binary/octet-stream", "application/ogg"})


def audio_media_type(response: HTTPResponse) -> tuple[bool, str]:
    """Return whether ``response``'s content type may be audio, and its media type.

    ``audio/*`` may, and so may ``application/octet-stream`` (what many compatible
    servers send for raw PCM), ``application/ogg`` and a missing header. Anything else
    (``text/html`` from a proxy's error page, JSON from a misconfigured gateway) would
    be played as noise.
    """
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    audio = not media_type or media_type.startswith("audio/") or media_type in _AUDIO_LIKE
    return audio, media_type


# --- request body ----------------------------------------------------------------------


def json_request(
    client: AsyncHTTPClient,
    url: object,
    payload: Mapping[str, Any],
    headers: Mapping[str, str],
) -> Any:
    """Build a ``POST`` of ``payload`` as UTF-8 JSON, asking for an uncompressed body.

    The request is built by ``client`` from ``str(url)``, so it is of the client's own
    package (an httpx2 client refuses an ``httpx.URL``).

    ``Accept-Encoding: identity``: audio does not compress, and an uncompressed body
    keeps every chunk as small as one network read (a compressed one can expand a
    thousandfold in one chunk, past any cap).

    Raises:
        SynthesisError: If the payload cannot be encoded: a lone surrogate in the text
            (which UTF-8 cannot represent), or a NaN.
    """
    try:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        where = _first_surrogate(payload) or (f"at index {exc.start} of the body", "?")
        raise SynthesisError(
            f"the TTS request's {where[0]} contains a lone surrogate ({where[1]}), which "
            "UTF-8 cannot encode; remove it (e2estream.normalize_speech does)"
        ) from None
    except ValueError as exc:  # NaN or infinity in extra fields
        raise SynthesisError(f"the TTS request cannot be encoded as JSON: {exc}") from None
    return client.build_request(
        "POST",
        str(url),
        content=body,
        headers={
            **headers,
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
        },
    )


def _first_surrogate(value: Any, name: str = "value") -> tuple[str, str] | None:
    """Where the first lone surrogate in a JSON payload is: (field and index, code point)."""
    if isinstance(value, str):
        for index, char in enumerate(value):
            if "\ud800" <= char <= "\udfff":
                return f"field {name!r} at index {index}", f"U+{ord(char):04X}"
        return None
    if isinstance(value, Mapping):
        pairs = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        pairs = [(f"{name}[{index}]", item) for index, item in enumerate(value)]
    else:
        return None
    for key, item in pairs:
        found = _first_surrogate(key, "a key") or _first_surrogate(item, key)
        if found:
            return found
    return None


# --- redaction -------------------------------------------------------------------------


class Redactor:
    """Removes secrets from text: the given strings, and credentials in any URL in it."""

    def __init__(self, secrets: Collection[str]) -> None:
        # Short strings would redact half of every message; keys are long.
        self.secrets = [secret for secret in secrets if len(secret) >= 4]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return redact_urls_in(text)
