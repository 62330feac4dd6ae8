"""``ElevenLabsSpeech`` against a real server on 127.0.0.1 speaking ElevenLabs' wire format."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import (
    AudioFormat,
    ErrorEvent,
    ProgressiveSynthesizer,
    RequestSynthesizer,
    Segment,
    SegmentDoneEvent,
    SynthesisError,
    Synthesizer,
    TextTiming,
    TTSAuthenticationError,
    stream_reply,
)
from e2estream.backends import ElevenLabsSpeech, RetryPolicy
from live_server import client_package
from test_backend_http import PCM, Peer, by_text, status, stream

# The fixtures, by name, so that pytest finds them here too.
from test_backend_http import peer as peer
from test_backend_http import server as server

pytestmark = pytest.mark.anyio

KEY = "xi-secret-key-0123456789abcdef"


async def collect(
    items: AsyncIterator[bytes | TextTiming], into: list[bytes] | None = None
) -> list[bytes]:
    """The audio chunks (kept in ``into`` on an error); with timestamps off, nothing else."""
    received = [] if into is None else into
    async for item in items:
        assert isinstance(item, bytes)
        received.append(item)
    return received


def make_tts(peer: Peer, **kwargs: Any) -> ElevenLabsSpeech:
    # The peer streams raw audio, as /stream does; the timestamped body is tested below.
    options: dict[str, Any] = {
        "api_key": KEY,
        "retry": RetryPolicy(base_delay=0.001),
        "base_url": peer.url,
        "timestamps": False,
    }
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


async def test_the_pipeline_sends_each_segment_with_the_previous_one(peer: Peer) -> None:
    peer.script = [stream(PCM[:2])]
    async with make_tts(peer) as tts:
        progressive = ProgressiveSynthesizer(tts)
        sentences = ["The first sentence is here. ", "The second one follows. ", "The end."]
        async with progressive.stream(sentences) as chunks:
            errors = [chunk.error async for chunk in chunks if chunk.final]
    assert errors == [None, None, None]
    assert [r.body["text"] for r in peer.requests] == [s.strip() for s in sentences]
    previous = [r.body.get("previous_text") for r in peer.requests]
    assert previous == [None, sentences[0].strip(), sentences[1].strip()]


def test_declares_the_request_and_timings_contracts_and_is_a_synthesizer() -> None:
    tts = ElevenLabsSpeech("v", api_key=KEY)
    assert isinstance(tts, RequestSynthesizer)
    assert tts.provides_timings is True
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
    http = client_package()
    monkeypatch.setenv("ELEVENLABS_API_KEY", "env-key")
    seen: list[str | None] = []

    def handler(request: Any) -> Any:
        seen.append(request.headers.get("xi-api-key"))
        return http.Response(200, content=b"\0\0")

    async with http.AsyncClient(transport=http.MockTransport(handler)) as client:
        for base_url in ["https://api.elevenlabs.io", "https://api.eu.residency.elevenlabs.io"]:
            tts = ElevenLabsSpeech("v", base_url=base_url, client=client, timestamps=False)
            await collect(tts.synthesize("a"))
        proxied = ElevenLabsSpeech("v", base_url="http://proxy", client=client, timestamps=False)
        await collect(proxied.synthesize("a"))
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


# --- word timings from /stream/with-timestamps -------------------------------------------

RATE = 24000  # pcm_24000: 48000 bytes per second


def timed_line(audio: bytes, characters: str, starts: list[float], **extra: Any) -> bytes:
    """One object of the timestamped stream; each character lasts 0.05 s."""
    alignment = {
        "characters": list(characters),
        "character_start_times_seconds": starts,
        "character_end_times_seconds": [start + 0.05 for start in starts],
    }
    item = {"audio_base64": base64.b64encode(audio).decode(), "alignment": alignment, **extra}
    return json.dumps(item).encode() + b"\n"


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    return [body[a:b] for a, b in itertools.pairwise(points)]


async def speak_timed(
    pieces: list[bytes], text: str, **options: Any
) -> tuple[list[bytes | TextTiming], list[Any]]:
    """Synthesize ``text`` against a mock server sending ``pieces`` as its body."""
    http = client_package()
    requests: list[Any] = []

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    def handler(request: Any) -> Any:
        requests.append(request)
        return http.Response(200, content=body(), headers={"content-type": "application/json"})

    async with http.AsyncClient(transport=http.MockTransport(handler)) as client:
        tts = ElevenLabsSpeech("v", api_key=KEY, client=client, **options)
        items = [item async for item in tts.synthesize(text)]
    return items, requests


def merged(items: list[bytes | TextTiming]) -> list[bytes | tuple[int, int, float, float | None]]:
    """Adjacent audio joined, timings as rounded tuples: what a listener can tell apart."""
    out: list[bytes | tuple[int, int, float, float | None]] = []
    for item in items:
        if isinstance(item, TextTiming):
            end = None if item.end is None else round(item.end, 6)
            out.append((item.char_start, item.char_end, round(item.start, 6), end))
        elif out and isinstance(out[-1], bytes):
            out[-1] += item
        else:
            out.append(item)
    return out


def words_of(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


@given(
    st.lists(st.sampled_from(["Hi", "there", "Zoë", "naïve,", "ok.", "2.5", "—"]), min_size=1),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
    st.lists(st.integers(min_value=1, max_value=12), min_size=8, max_size=8),
)
async def test_word_timings_accumulate_across_chunks(
    words: list[str], chunk_cuts: list[int], byte_cuts: list[int], audio_frames: list[int]
) -> None:
    # The text is cut into chunks anywhere (mid-word too); each chunk's times count from
    # its own audio, as ElevenLabs sends them; and the JSON lines reach the client cut
    # at arbitrary bytes.
    text = " ".join(words)
    cuts = sorted({0, len(text), *(cut % (len(text) + 1) for cut in chunk_cuts)})
    body = b""
    audio = b""
    absolute: list[float] = []  # when each character of the text starts in the segment
    for n, (a, b) in enumerate(itertools.pairwise(cuts)):
        chunk_audio = bytes([n % 256]) * (480 * audio_frames[n % 8])  # 10 ms per 480 B
        duration = len(chunk_audio) / (2 * RATE)
        starts = [duration * i / (b - a) for i in range(b - a)]  # within the chunk
        absolute += [len(audio) / (2 * RATE) + start for start in starts]
        body += timed_line(chunk_audio, text[a:b], starts)
        audio += chunk_audio
    items, _ = await speak_timed(split_at(body, byte_cuts), text)
    assert b"".join(item for item in items if isinstance(item, bytes)) == audio
    timings = [item for item in items if isinstance(item, TextTiming)]
    assert [(t.char_start, t.char_end) for t in timings] == words_of(text)
    assert [t.start for t in timings] == pytest.approx([absolute[a] for a, _ in words_of(text)])
    starts = [t.start for t in timings]
    assert starts == sorted(starts)
    # Each timing comes before the audio it starts in, never after it.
    heard = 0.0
    for item in items:
        if isinstance(item, TextTiming):
            assert item.start >= heard - 1e-9
        else:
            heard += len(item) / (2 * RATE)


async def test_word_timing_start_end_and_request() -> None:
    text = "Hello big world"
    first = timed_line(b"\1\0" * 2400, "Hello big", [0.01 * i for i in range(6)] + [0.06] * 3)
    # The second chunk starts 0.1 s into the segment; its times count from there.
    second = timed_line(b"\2\0" * 2400, " world", [0.01 * i for i in range(6)])
    items, [request] = await speak_timed([first, second], text, model_id="m")
    assert request.url.path == "/v1/text-to-speech/v/stream/with-timestamps"
    assert request.url.params["output_format"] == "pcm_24000"
    assert json.loads(request.content) == {"text": text, "model_id": "m"}
    assert merged(items) == [
        (0, 5, 0.0, 0.09),
        (6, 9, 0.06, 0.11),
        b"\1\0" * 2400,
        (10, 15, 0.11, 0.2),
        b"\2\0" * 2400,
    ]


async def test_word_split_between_chunks_has_no_end_and_last_line_needs_no_newline() -> None:
    body = timed_line(b"\1\0" * 240, "Spl", [0.0, 0.001, 0.002])
    body += timed_line(b"\2\0" * 240, "it", [0.0, 0.001]).rstrip(b"\n")
    items, _ = await speak_timed([body], "Split")
    assert merged(items) == [(0, 5, 0.0, None), b"\1\0" * 240 + b"\2\0" * 240]


async def test_whitespace_the_server_adds_or_drops_is_tolerated() -> None:
    text = "One  two\nthree "
    body = timed_line(b"\1\0" * 240, " One two", [0.0] * 8)
    body += timed_line(b"\1\0" * 240, "three", [0.0] * 5)
    items, _ = await speak_timed([body], text)
    timings = [item for item in items if isinstance(item, TextTiming)]
    assert [text[t.char_start : t.char_end] for t in timings] == ["One", "two", "three"]
    assert [t.start for t in timings] == [0.0, 0.0, 0.01]


@pytest.mark.parametrize(
    "alignment",
    [
        {
            "characters": list("Hullo"),
            "character_start_times_seconds": [0.0] * 5,
            "character_end_times_seconds": [0.0] * 5,
        },
        {
            "characters": list("Hello"),
            "character_start_times_seconds": [0.0] * 4,
            "character_end_times_seconds": [0.0] * 5,
        },
        {
            "characters": list("Hello"),
            "character_start_times_seconds": [0.0, -1, 0, 0, 0],
            "character_end_times_seconds": [0.0] * 5,
        },
        {
            "characters": list("Hello"),
            "character_start_times_seconds": [0.1] * 5,
            "character_end_times_seconds": [0.0] * 5,
        },
        {"characters": "Hello"},
        "Hello",
    ],
)
async def test_alignment_that_does_not_fit_the_text_gives_no_timings_and_keeps_the_audio(
    alignment: object, caplog: pytest.LogCaptureFixture
) -> None:
    good = timed_line(b"\1\0" * 240, "Hello ", [0.0] * 6)
    bad = json.dumps({"audio_base64": base64.b64encode(b"\2\0").decode(), "alignment": alignment})
    after = timed_line(b"\3\0" * 240, "world", [0.0] * 5)  # no timings once misaligned
    items, _ = await speak_timed([good + bad.encode() + b"\n" + after], "Hello world")
    assert merged(items) == [(0, 5, 0.0, 0.05), b"\1\0" * 240 + b"\2\0" + b"\3\0" * 240]
    assert "does not match the text" in caplog.text


async def test_objects_without_alignment_or_audio_are_fine() -> None:
    body = json.dumps({"audio_base64": base64.b64encode(b"\1\0").decode(), "alignment": None})
    body += "\n" + json.dumps({"audio_base64": None, "alignment": None}) + "\n\n"
    items, _ = await speak_timed([body.encode()], "Hi")
    assert items == [b"\1\0"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json\n", "not JSON"),
        (b'{"detail": "quota"}\n', r"without audio_base64 \(\['detail'\]\)"),
        (b'{"audio_base64": "***"}\n', "not base64"),
        (b'{"audio_base64": 5}\n', "not a string"),
        (b'{"audio_base64": "AAAA", "alig', "middle of a JSON object"),
    ],
)
async def test_a_body_that_is_not_timestamped_audio_raises_synthesis_error(
    body: bytes, message: str
) -> None:
    with pytest.raises(SynthesisError, match=message):
        await speak_timed([body], "Hi")


@pytest.mark.parametrize(
    ("output_format", "timestamps", "expected"),
    [
        ("pcm_16000", None, True),
        ("ulaw_8000", None, True),
        ("alaw_8000", True, True),
        ("pcm_24000", False, False),
        ("mp3_44100_128", None, False),
        ("opus_48000_64", False, False),
    ],
)
def test_timestamps_default_to_raw_formats(
    output_format: str, timestamps: bool | None, expected: bool
) -> None:
    tts = ElevenLabsSpeech("v", output_format=output_format, timestamps=timestamps)
    assert tts.provides_timings is expected


def test_timestamps_with_a_compressed_format_or_a_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError, match="timestamps=True needs a raw output_format"):
        ElevenLabsSpeech("v", output_format="mp3_44100_128", timestamps=True)
    with pytest.raises(TypeError, match="timestamps must be a bool"):
        ElevenLabsSpeech("v", timestamps="yes")  # type: ignore[arg-type]


async def test_timings_reach_the_audio_chunks_of_progressive_synthesizer() -> None:
    http = client_package()
    segments = [Segment(0, 0, 12, "First words."), Segment(1, 13, 29, "Then more words.")]

    def handler(request: Any) -> Any:
        text = json.loads(request.content)["text"]
        line = timed_line(b"\1\0" * 2400, text, [0.01 * i for i in range(len(text))])
        return http.Response(200, content=line)

    spoken: dict[int, list[tuple[str, float]]] = {0: [], 1: []}
    async with (
        http.AsyncClient(transport=http.MockTransport(handler)) as client,
        ProgressiveSynthesizer(ElevenLabsSpeech("v", client=client)).stream(segments) as chunks,
    ):
        async for chunk in chunks:
            speech = chunk.segment.speech_text
            spoken[chunk.segment.index] += [
                (speech[t.char_start : t.char_end], t.start) for t in chunk.timings
            ]
    assert spoken == {
        0: [("First", 0.0), ("words.", pytest.approx(0.06))],
        1: [("Then", 0.0), ("more", pytest.approx(0.05)), ("words.", pytest.approx(0.1))],
    }


async def test_a_retried_request_times_its_words_from_the_attempt_that_spoke() -> None:
    http = client_package()
    attempts = 0

    async def failing() -> AsyncIterator[bytes]:
        # Alignment without audio yet, then the connection drops: retried, since no
        # audio was yielded, and the timings of this attempt must not leak into the next.
        yield timed_line(b"", "Hi", [0.5, 0.6])
        raise http.ReadError("connection reset")

    def handler(request: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return http.Response(200, content=failing())
        return http.Response(200, content=timed_line(b"\1\0" * 240, "Hi", [0.0, 0.01]))

    async with http.AsyncClient(transport=http.MockTransport(handler)) as client:
        tts = ElevenLabsSpeech("v", client=client, retry=RetryPolicy(base_delay=0.001))
        items = [item async for item in tts.synthesize("Hi")]
    assert attempts == 2
    assert merged(items) == [(0, 2, 0.0, 0.06), b"\1\0" * 240]
