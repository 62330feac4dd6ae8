"""TTS backends: per-segment :class:`~e2estream.Synthesizer` ones and streaming-input ones.

Per segment: :class:`OpenAISpeech`, :class:`ElevenLabsSpeech` (HTTP),
:class:`EspeakSynthesizer`, :class:`PiperSynthesizer` (in process). Streaming input,
one WebSocket per reply (:class:`~e2estream.StreamingSynthesizer`):
:class:`ElevenLabsStreamingSpeech`, :class:`CartesiaSpeech`, :class:`DeepgramSpeech`.
The HTTP ones take their settings as objects: :class:`HTTPTimeouts`, :class:`RetryPolicy`.

Backends are imported lazily so that importing :mod:`e2estream.backends` costs nothing
and a backend's optional dependency (``espeakng-loader`` for :class:`EspeakSynthesizer`,
``piper-tts`` for :class:`PiperSynthesizer`, ``wsproto`` for the streaming ones) is only
needed when that backend is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._http_settings import HTTPTimeouts as HTTPTimeouts
    from ._http_settings import RetryPolicy as RetryPolicy
    from .cartesia import CartesiaSpeech as CartesiaSpeech
    from .deepgram import DeepgramSpeech as DeepgramSpeech
    from .elevenlabs import ElevenLabsSpeech as ElevenLabsSpeech
    from .elevenlabs_streaming import ElevenLabsStreamingSpeech as ElevenLabsStreamingSpeech
    from .espeak import EspeakSynthesizer as EspeakSynthesizer
    from .openai import OpenAISpeech as OpenAISpeech
    from .piper import PiperSynthesizer as PiperSynthesizer

__all__ = [
    "CartesiaSpeech",
    "DeepgramSpeech",
    "ElevenLabsSpeech",
    "ElevenLabsStreamingSpeech",
    "EspeakSynthesizer",
    "HTTPTimeouts",
    "OpenAISpeech",
    "PiperSynthesizer",
    "RetryPolicy",
]

_MODULES = {
    "CartesiaSpeech": ".cartesia",
    "DeepgramSpeech": ".deepgram",
    "ElevenLabsSpeech": ".elevenlabs",
    "ElevenLabsStreamingSpeech": ".elevenlabs_streaming",
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
