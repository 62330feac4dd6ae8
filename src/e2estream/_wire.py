"""The wire protocol of :mod:`e2estream.asgi`: the messages both ways, as plain dicts.

Kept apart from the ASGI plumbing so that the messages can be built and parsed (and
tested) without a server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from ._audio import AudioFormat
from ._events import AudioEvent, Event
from ._reply import ReplyStream
from ._spoken import SpokenText

__all__ = [
    "AudioTransport",
    "TransportOptions",
    "apply_client_message",
    "event_messages",
    "failure_message",
    "format_message",
    "parse_client_message",
]

#: How audio bytes travel: as binary WebSocket frames after their JSON metadata, or as
#: base64 inside the JSON (the only way over server-sent events).
AudioTransport: TypeAlias = Literal["binary", "base64"]

#: The message types a client may send while a reply plays.
CLIENT_MESSAGE_TYPES = ("interrupt", "played")


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """How :func:`~e2estream.asgi.websocket_reply` and ``sse_response`` send a reply.

    Attributes:
        audio: ``"binary"``: each audio event goes as JSON metadata
            (``to_dict(include_data=False)``) followed by one binary frame with its bytes
            (WebSocket only). ``"base64"``: the bytes go inside the JSON, in ``"data"``.
        cancel_llm: What an ``interrupt`` message from the client does to the LLM stream
            (see :meth:`~e2estream.ReplyStream.interrupt`): True (default) cancels it,
            False reads it to the end without speaking it. A client that disconnects
            always cancels it: nobody is left to read the tokens.

    Raises:
        ValueError: If ``audio`` is neither ``"binary"`` nor ``"base64"``.
    """

    audio: AudioTransport = "binary"
    cancel_llm: bool = True

    def __post_init__(self) -> None:
        if self.audio not in ("binary", "base64"):
            raise ValueError(f"audio must be 'binary' or 'base64', got {self.audio!r}")
        if not isinstance(self.cancel_llm, bool):
            raise TypeError(f"cancel_llm must be a bool, not {self.cancel_llm!r}")


def reply_audio_format(reply: ReplyStream) -> AudioFormat:
    """The audio format of ``reply``'s synthesizer (known before any audio arrives)."""
    return reply.audio_format


def format_message(audio_format: AudioFormat, options: TransportOptions) -> dict[str, Any]:
    """The first message of every reply: the audio format, before any audio."""
    return {
        "type": "format",
        "audio": audio_format.to_dict(),
        "transport": options.audio,
    }


def event_messages(event: Event, options: TransportOptions) -> tuple[dict[str, Any], bytes | None]:
    """An event's JSON message, and the binary frame that follows it (audio, binary mode)."""
    if isinstance(event, AudioEvent):
        if options.audio == "binary":
            return event.to_dict(include_data=False), event.data
        return event.to_dict(include_data=True), None
    return event.to_dict(), None


def failure_message(exc: BaseException) -> dict[str, Any]:
    """The message that ends a reply whose LLM stream failed (no ``done`` follows)."""
    return {"type": "reply_failed", "error": type(exc).__name__, "message": str(exc)}


def protocol_error_message(problem: str) -> dict[str, Any]:
    """The answer to a client message the server did not understand."""
    return {"type": "protocol_error", "message": problem}


def encode(message: Mapping[str, Any]) -> str:
    """JSON without spaces, and without NaN (browsers' ``JSON.parse`` refuses it)."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """A control message from the client: ``interrupt`` or ``played``."""

    type: Literal["interrupt", "played"]
    played: float | None


def parse_client_message(text: str | Mapping[str, Any]) -> ClientMessage:
    """Parse a client's message: JSON text, or the object it decodes to.

    ``{"type": "interrupt", "played": 2.4}`` (``played`` may be null or left out: all the
    audio delivered was played) or ``{"type": "played", "played": 2.4}``.

    Raises:
        ValueError: Naming what is wrong with the message.
    """
    if isinstance(text, str):
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"a client message must be JSON ({exc}): {text[:80]!r}") from None
    else:
        message = text
    if not isinstance(message, Mapping):
        raise ValueError(f"a client message must be a JSON object, not {message!r:.80}")
    kind = message.get("type")
    if kind not in CLIENT_MESSAGE_TYPES:
        raise ValueError(
            f"unknown client message type {kind!r} during a reply; expected one of "
            f"{', '.join(CLIENT_MESSAGE_TYPES)}"
        )
    played = message.get("played")
    if played is None and kind == "interrupt":
        return ClientMessage("interrupt", None)
    if isinstance(played, bool) or not isinstance(played, (int, float)):
        raise ValueError(
            f"{kind!r} needs 'played', the seconds of this reply's audio the client's "
            f"player played, as a number; got {played!r}"
        )
    if not math.isfinite(played) or played < 0:
        raise ValueError(f"'played' must be a finite number >= 0, got {played!r}")
    return ClientMessage(kind, float(played))


async def apply_client_message(
    reply: ReplyStream, message: ClientMessage, *, cancel_llm: bool = True
) -> SpokenText | None:
    """Do what ``message`` asks of ``reply``; return the spoken text for an interrupt."""
    if message.type == "interrupt":
        return await reply.interrupt(message.played, cancel_llm=cancel_llm)
    assert message.played is not None  # parse_client_message guarantees it
    reply.report_played(message.played)
    return None
