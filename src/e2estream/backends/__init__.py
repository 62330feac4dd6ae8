"""TTS backends, each a :class:`~e2estream.Synthesizer`, and the settings of the HTTP ones.

Backends are imported lazily so that importing :mod:`e2estream.backends` costs nothing
and a backend's optional dependency (``espeakng-loader`` for :class:`EspeakSynthesizer`,
``piper-tts`` for :class:`PiperSynthesizer`) is only needed when that backend is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._http_settings import HTTPTimeouts as HTTPTimeouts
    from ._http_settings import RetryPolicy as RetryPolicy
    from .elevenlabs import ElevenLabsSpeech as ElevenLabsSpeech
    from .espeak import EspeakSynthesizer as EspeakSynthesizer
    from .openai import OpenAISpeech as OpenAISpeech
    from .piper import PiperSynthesizer as PiperSynthesizer

__all__ = [
    "ElevenLabsSpeech",
    "EspeakSynthesizer",
    "HTTPTimeouts",
    "OpenAISpeech",
    "PiperSynthesizer",
    "RetryPolicy",
]

_MODULES = {
    "ElevenLabsSpeech": ".elevenlabs",
    "EspeakSynthesizer": ".espeak",
    "HTTPTimeouts": "._http_settings",
    "OpenAISpeech": ".openai",
    "PiperSynthesizer": ".piper",
    "RetryPolicy": "._http_settings",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
