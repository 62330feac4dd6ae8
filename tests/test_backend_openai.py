"""``OpenAISpeech`` against a real OpenAI-compatible server on 127.0.0.1.

The retry, timeout and closing behaviour shared by all HTTP backends is tested in
``test_backend_http.py``; here: the request it sends, the formats, WAV stripping.
"""

from __future__ import annotations

from typing import Any

import pytest

from e2estream import AudioFormat, SynthesisError, Synthesizer
from e2estream.backends import OpenAISpeech
from e2estream.backends._wav import wav_header
from live_server import client_package
from test_backend_http import PCM, Peer, collect, make_tts, stream

# The fixtures, by name, so that pytest finds them here too.
from test_backend_http import peer as peer
from test_backend_http import server as server

pytestmark = pytest.mark.anyio

WAV_PCM = bytes(range(256)) * 8


async def test_request_body_headers_and_path(peer: Peer) -> None:
    peer.script = [stream(PCM)]
    tts = make_tts(
        peer,
        api_key="sk-abc",
        model="kokoro",
        voice="af_heart",
        speed=1.25,
        instructions="Cheerful.",
        extra_body={"lang_code": "a"},
    )
    async with tts:
        audio = b"".join(await collect(tts.synthesize("Hello, world.")))
    assert audio == b"".join(PCM)
    [request] = peer.requests
    assert request.path == "/v1/audio/speech"
    assert request.headers["authorization"] == "Bearer sk-abc"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "model": "kokoro",
        "input": "Hello, world.",
        "voice": "af_heart",
        "response_format": "pcm",
        "speed": 1.25,
        "instructions": "Cheerful.",
        "lang_code": "a",
    }


async def test_optional_fields_and_key_are_left_out(peer: Peer) -> None:
    peer.script = [stream(PCM)]
    async with make_tts(peer) as tts:
        await collect(tts.synthesize("Hi."))
    [request] = peer.requests
    assert "authorization" not in request.headers
    assert set(request.body) == {"model", "input", "voice", "response_format"}


def test_is_a_synthesizer_with_the_declared_format() -> None:
    tts = OpenAISpeech(base_url="http://127.0.0.1:9/v1")
    assert isinstance(tts, Synthesizer)
    as_protocol: Synthesizer = tts  # mypy checks the signatures fit the protocol
    assert as_protocol is tts
    assert tts.audio_format == AudioFormat("pcm_s16le", 24000, 1)
    assert OpenAISpeech(response_format="wav", sample_rate=22050).audio_format == AudioFormat(
        "pcm_s16le", 22050, 1
    )


@pytest.mark.parametrize("response_format", ["mp3", "opus", "aac", "flac"])
async def test_compressed_formats_pass_through(peer: Peer, response_format: str) -> None:
    encoded = [b"\xff\xfb\x90\x00" + bytes(100), b"RIFF-not-stripped", bytes(range(50))]
    peer.script = [stream(encoded, media_type="application/octet-stream")]
    async with make_tts(peer, response_format=response_format) as tts:
        assert tts.audio_format.encoding == response_format
        assert not tts.audio_format.is_raw
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == b"".join(encoded)
    assert peer.requests[0].body["response_format"] == response_format


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("data_size", "piece"),
    [
        (0xFFFFFFFF, 1000),  # a streaming server's placeholder, header in one piece
        (0xFFFFFFFF, 5),  # the header split across many network chunks
        (0, 3),  # the other placeholder
        (len(WAV_PCM), 7),  # a real size
    ],
)
async def test_wav_header_is_stripped(peer: Peer, data_size: int, piece: int) -> None:
    wav = wav_header(AudioFormat("pcm_s16le", 24000, 1), data_size) + WAV_PCM
    peer.script = [stream(_pieces(wav, piece), delay=0, media_type="audio/wav")]
    async with make_tts(peer, response_format="wav") as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == WAV_PCM
    assert peer.requests[0].body["response_format"] == "wav"


async def test_wav_header_alone_is_no_audio_so_a_drop_after_it_is_retried(peer: Peer) -> None:
    header = wav_header(AudioFormat("pcm_s16le", 24000, 1))
    peer.script = [
        stream([header[:20], header[20:]], fail_after=2, media_type="audio/wav"),
        stream([header, WAV_PCM], media_type="audio/wav"),
    ]
    async with make_tts(peer, response_format="wav") as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == WAV_PCM
    assert len(peer.requests) == 2


@pytest.mark.parametrize(
    "actual",
    [
        AudioFormat("pcm_s16le", 22050, 1),
        AudioFormat("pcm_s16le", 24000, 2),
        AudioFormat("pcm_f32le", 24000, 1),
    ],
)
async def test_wav_header_disagreeing_with_the_declared_format(
    peer: Peer, actual: AudioFormat
) -> None:
    peer.script = [stream([wav_header(actual) + WAV_PCM], media_type="audio/wav")]
    async with make_tts(peer, response_format="wav") as tts:
        with pytest.raises(SynthesisError, match="declared"):
            await collect(tts.synthesize("Hi."))
    assert len(peer.requests) == 1  # a misconfiguration: retrying would not help


async def test_wav_matching_a_declared_rate(peer: Peer) -> None:
    wav = wav_header(AudioFormat("pcm_s16le", 22050, 1)) + WAV_PCM
    peer.script = [stream([wav], media_type="audio/wav")]
    async with make_tts(peer, response_format="wav", sample_rate=22050) as tts:
        assert b"".join(await collect(tts.synthesize("Hi."))) == WAV_PCM


async def test_not_a_wav_stream(peer: Peer) -> None:
    peer.script = [stream([b"ID3\x04" + bytes(100)], media_type="audio/wav")]
    async with make_tts(peer, response_format="wav") as tts:
        with pytest.raises(SynthesisError, match="invalid WAV stream"):
            await collect(tts.synthesize("Hi."))


async def test_wav_stream_ending_inside_its_header(peer: Peer) -> None:
    peer.script = [stream([wav_header(AudioFormat())[:30]], media_type="audio/wav")]
    async with make_tts(peer, response_format="wav") as tts:
        with pytest.raises(SynthesisError, match="ended inside its header"):
            await collect(tts.synthesize("Hi."))


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-from-the-environment"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    return key


async def _authorization(**options: Any) -> str | None:
    """The Authorization header ``OpenAISpeech(**options)`` sends (None if none)."""
    http = client_package()
    seen: list[str | None] = []

    def handler(request: Any) -> Any:
        seen.append(request.headers.get("authorization"))
        return http.Response(200, content=b"\0\0")

    # MockTransport: the request never leaves the process.
    async with http.AsyncClient(transport=http.MockTransport(handler)) as client:
        await collect(OpenAISpeech(client=client, **options).synthesize("Hi."))
    return seen[0]


async def test_environment_key_is_sent_to_openai_only(openai_key: str) -> None:
    assert await _authorization() == f"Bearer {openai_key}"
    assert await _authorization(base_url="http://localhost:8880/v1") is None
    explicit = await _authorization(base_url="http://localhost:8880/v1", api_key="local-key")
    assert explicit == "Bearer local-key"
    assert openai_key not in repr(OpenAISpeech())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"response_format": "ogg"}, "response_format"),
        ({"speed": 5.0}, "speed"),
        ({"base_url": "ftp://example.com/v1"}, "http"),
        ({"sample_rate": 0}, "sample_rate"),
    ],
)
def test_invalid_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        OpenAISpeech(**kwargs)  # type: ignore[arg-type]


async def test_prewarm_makes_the_client_ahead_and_is_idempotent(peer: Peer) -> None:
    peer.script = [stream(PCM)]
    tts = make_tts(peer)
    await tts.prewarm()
    await tts.prewarm()  # nothing more to do
    assert peer.requests == []  # prewarming sends nothing
    async with tts:
        audio = b"".join(await collect(tts.synthesize("Hello.")))
    assert audio == b"".join(PCM)
    await tts.prewarm()  # after aclose(): a no-op, not a new client
    with pytest.raises(RuntimeError, match="has been closed"):
        await collect(tts.synthesize("Again."))


async def test_prewarm_leaves_a_borrowed_client_alone(peer: Peer) -> None:
    package = client_package()
    peer.script = [stream(PCM)]
    async with package.AsyncClient() as client:
        tts = make_tts(peer, client=client)
        await tts.prewarm()
        assert b"".join(await collect(tts.synthesize("Hello."))) == b"".join(PCM)
        await tts.aclose()
        assert not client.is_closed  # still the host's, still open
