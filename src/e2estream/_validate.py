"""Argument checks shared by the public entry points (clear errors that name the problem)."""

from __future__ import annotations

import math

from ._audio import AudioFormat

__all__ = [
    "check_max_ahead",
    "check_played",
    "check_positive_int",
    "check_seconds",
    "check_synthesizer",
]


def check_positive_int(name: str, value: object) -> None:
    """Raise a ``TypeError``/``ValueError`` naming ``name`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def check_synthesizer(synthesizer: object) -> None:
    """Raise ``TypeError`` unless ``synthesizer`` is a Synthesizer or a StreamingSynthesizer."""
    audio_format = getattr(synthesizer, "audio_format", None)
    if not any(
        callable(getattr(synthesizer, name, None))
        for name in ("synthesize", "synthesize_request", "connect")
    ):
        raise TypeError(
            f"{type(synthesizer).__name__} is not a Synthesizer: it needs a "
            "synthesize(text) method returning an async iterator of bytes (or, for a "
            "streaming-input backend, a connect() method: see StreamingSynthesizer)"
        )
    if not isinstance(audio_format, AudioFormat):
        raise TypeError(
            f"{type(synthesizer).__name__} is not a Synthesizer: its audio_format must be "
            f"an AudioFormat, not {type(audio_format).__name__}"
        )


def check_max_ahead(value: object) -> None:
    """Raise unless ``value`` is None or a positive, finite number of seconds."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"max_ahead must be a number of seconds or None, not {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"max_ahead must be a positive, finite number of seconds, got {value}")


def check_played(value: object) -> float:
    """Return ``value`` as seconds of played audio; raise unless it is finite and >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"played must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


def check_seconds(where: str, value: object, *, optional: bool = False) -> None:
    """Raise unless ``value`` is a positive, finite number of seconds (or None if optional).

    ``where`` names the setting in the message, e.g. ``"SynthesisTimeouts.stall"``.
    """
    if value is None and optional:
        return
    or_none = " or None" if optional else ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where} must be seconds{or_none}, not {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{where} must be a positive, finite number of seconds{or_none}, got {value}"
        )
