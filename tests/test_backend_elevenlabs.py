"""``ElevenLabsSpeech`` against a real server on 127.0.0.1 speaking ElevenLabs' wire format."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from e2estream import (
    AudioFormat,
    ErrorEvent,
    SegmentDoneEvent,
    SynthesisError,
    Synthesizer,
    TTSAuthenticationError,
    stream_reply,
)
from e2estream.backends import ElevenLabsSpeech
from test_backend_http import PCM, Peer, by_text, collect, status, stream

# The fixtures, by name, so that pytest finds them here too.
from test_backend_http import peer as peer
from test_backend_http import server as server

pytestmark = pytest.mark.anyio

KEY = "xi-secret-key-0123456789abcdef"


def make_tts(peer: Peer, **kwargs: Any) -> ElevenLabsSpeech:
    options: dict[str, Any] = {"api_key": KEY, "retry_base_delay": 0.001, "base_url": peer.url}
    options.update(kwargs)
    return ElevenLabsSpeech("voice/1", **options)


async def test_request_path_query_header_and_body(peer: Peer) -> None:
    peer.script = [stream(PCM)]
    tts = make_tts(
        peer,
        model_id="eleven_multilingual_v2",
        voice_settings={"stability": 0.4, "similarity_boost": 0.8},
        language_code="de",
        extra_body={"seed": 7},
    )
    async with tts:
        audio = b"".join(await collect(tts.synthesize("Zweiter Satz.", previous_text="Erster.")))
    assert audio == b"".join(PCM)
    [request] = peer.requests
    assert request.path == "/v1/text-to-speech/voice%2F1/stream"
    assert request.query == {"output_format": "pcm_24000"}
    assert request.headers["xi-api-key"] == KEY
    assert request.body == {
        "text": "Zweiter Satz.",
        "model_id": "eleven_multilingual_v2",
        "voice_settings": {"stability": 0.4, "similarity_boost": 0.8},
        "language_code": "de",
        "previous_text": "Erster.",
        "seed": 7,
    }


async def test_consecutive_segments_carry_the_previous_text(peer: Peer) -> None:
    peer.script = [stream(PCM[:1])]
    segments = ["One.", "Two.", "Three."]
    async with make_tts(peer) as tts:
        previous = None
        for text in segments:
            await collect(tts.synthesize(text, previous_text=previous))
            previous = text
    assert [r.body.get("previous_text") for r in peer.requests] == [None, "One.", "Two."]
    assert [r.body["text"] for r in peer.requests] == segments


def test_declares_the_previous_text_contract_and_is_a_synthesizer() -> None:
    tts = ElevenLabsSpeech("v", api_key=KEY)
    assert ElevenLabsSpeech.accepts_previous_text is True
    assert isinstance(tts, Synthesizer)
    as_protocol: Synthesizer = tts  # mypy checks the signatures fit the protocol
    assert as_protocol is tts
    assert KEY not in repr(tts)
    assert KEY not in str(tts)


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        ("pcm_24000", AudioFormat("pcm_s16le", 24000, 1)),
        ("pcm_16000", AudioFormat("pcm_s16le", 16000, 1)),
        ("pcm_44100", AudioFormat("pcm_s16le", 44100, 1)),
        ("ulaw_8000", AudioFormat("mulaw", 8000, 1)),
        ("alaw_8000", AudioFormat("alaw", 8000, 1)),
        ("mp3_44100_128", AudioFormat("mp3", 44100, 1)),
        ("opus_48000_64", AudioFormat("opus", 48000, 1)),
    ],
)
def test_output_formats(output_format: str, expected: AudioFormat) -> None:
    assert ElevenLabsSpeech("v", output_format=output_format).audio_format == expected


@pytest.mark.parametrize("output_format", ["wav", "pcm", "flac_44100", "mp3_x"])
def test_unsupported_output_format(output_format: str) -> None:
    with pytest.raises(ValueError, match="output_format"):
        ElevenLabsSpeech("v", output_format=output_format)


async def test_invalid_key_fails_at_once_with_the_servers_message(peer: Peer) -> None:
    detail = {"status": "invalid_api_key", "message": f"Invalid API key: {KEY}"}
    peer.script = [status(401, {"detail": detail})]
    async with make_tts(peer) as tts:
        with pytest.raises(TTSAuthenticationError) as info:
            await collect(tts.synthesize("Hi."))
    assert info.value.message == "Invalid API key: ***"
    assert KEY not in str(info.value)
    assert len(peer.requests) == 1


async def test_busy_server_is_retried(peer: Peer) -> None:
    busy = {"detail": {"status": "too_many_concurrent_requests", "message": "busy"}}
    peer.script = [status(429, busy, {"Retry-After": "0"}), stream(PCM)]
    async with make_tts(peer) as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == b"".join(PCM)
    assert len(peer.requests) == 2


async def test_failure_after_first_byte(peer: Peer) -> None:
    peer.script = [stream(PCM, fail_after=3)]
    received: list[bytes] = []
    async with make_tts(peer) as tts:
        with pytest.raises(SynthesisError):
            await collect(tts.synthesize("Hi."), received)
    assert b"".join(received) == b"".join(PCM[:3])
    assert len(peer.requests) == 1


async def test_environment_key_is_sent_to_elevenlabs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "env-key")
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("xi-api-key"))
        return httpx.Response(200, content=b"\0\0")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        for base_url in ["https://api.elevenlabs.io", "https://api.eu.residency.elevenlabs.io"]:
            await collect(ElevenLabsSpeech("v", base_url=base_url, client=client).synthesize("a"))
        await collect(ElevenLabsSpeech("v", base_url="http://proxy", client=client).synthesize("a"))
    assert seen == ["env-key", "env-key", None]


async def test_in_a_reply_stream(peer: Peer) -> None:
    # The whole pipeline over a real socket: segments synthesized concurrently, each
    # request carrying the previous segment's text; a failure after the first byte of
    # one segment becomes an ErrorEvent with exactly the audio that came, and the
    # reply goes on.
    peer.script = [by_text(stream(PCM), **{"Second sentence here.": stream(PCM, fail_after=2)})]
    tokens = ["First sen", "tence. Second sent", "ence here. Third", " one!"]
    async with make_tts(peer) as tts, stream_reply(tokens, tts) as stream_:
        events = [event async for event in stream_]
    requests = sorted(peer.requests, key=lambda r: tokens_index(r.body["text"]))
    assert [(r.body["text"], r.body.get("previous_text")) for r in requests] == [
        ("First sentence.", None),
        ("Second sentence here.", "First sentence."),
        ("Third one!", "Second sentence here."),
    ]
    done = [e for e in events if isinstance(e, SegmentDoneEvent)]
    assert [(e.audio_bytes, e.failed) for e in done] == [(2400, False), (960, True), (2400, False)]
    [error] = [e for e in events if isinstance(e, ErrorEvent)]
    assert isinstance(error.error, SynthesisError)
    assert error.segment_index == done[1].segment_index
    assert KEY not in str(error.to_dict())


def tokens_index(text: str) -> int:
    return ["First", "Second", "Third"].index(text.split()[0])
