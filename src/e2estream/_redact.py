"""Credentials never shown: ``user:password@`` and credential-like query values in URLs.

Used wherever a URL or a server's message goes into an error message, a log line or a
``repr``: by the TTS backends and by the token source.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url", "redact_urls_in"]

#: Query parameters whose value is a credential: ``key``, ``api_key``, ``token``,
#: ``access_token``, ``X-Amz-Signature``, ``password``, ``auth``, ``secret``...
_SECRET_PARAM = re.compile(r"key|token|secret|sig|pass|auth|credential|session", re.IGNORECASE)
# A URL inside free text (a server's message, an exception's text).
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: object) -> str:
    """Return ``url`` (a ``str`` or a URL object) with its credentials shown as ``***``.

    That is, its ``user:password@`` and the values of credential-like query parameters.

    Example:
        >>> redact_url("https://me:pw@tts.example/v1?api_key=abc&voice=nova")
        'https://***@tts.example/v1?api_key=***&voice=nova'
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(name, "***" if _SECRET_PARAM.search(name) else value) for name, value in pairs],
            safe="*",
        )
    # The fragment never reaches the server; it is left out.
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_urls_in(text: str) -> str:
    """Return ``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
