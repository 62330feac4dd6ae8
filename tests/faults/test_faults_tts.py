"""TTS faults against the real HTTP backends (OpenAISpeech, ElevenLabsSpeech) over sockets.

Every test runs a three-sentence reply through ``stream_reply`` (or one request through
``synthesize``) against ``FaultServer``, whose fault hits the segment holding ``FAULT``
only. Each asserts: no text lost (the tokens make the reply, every segment is done,
the healthy segments have all their audio), no connection left behind (the server saw
each request end, and holds no connection once the backend is closed), and a clear
event or exception for the faulty segment.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from faultkit import (
    AsyncGeneratorWatch,
    Call,
    FaultServer,
    ServerDrop,
    collect,
    refused_url,
    serving,
)

from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ErrorEvent,
    Event,
    Segment,
    SegmentDoneEvent,
    SegmentEvent,
    SynthesisError,
    SynthesisTimeout,
    TokenEvent,
    TTSHTTPError,
    stream_reply,
)
from e2estream.backends import ElevenLabsSpeech, HTTPTimeouts, OpenAISpeech, RetryPolicy
from e2estream.backends._wav import wav_header
from e2estream.testing import split_like_llm
from live_server import client_package

pytestmark = pytest.mark.anyio

REPLY = "The first sentence is fine. The FAULT sentence is next. The last one is fine too."
SECRET = "sk-fault-suite-secret-0123456789"


def pcm_for(text: str) -> bytes:
    """Recognisable audio per text: 200 bytes of 16-bit frames."""
    return (text.encode() * 200)[:200]


async def healthy(call: Call) -> None:
    audio = pcm_for(call.text)
    await call.start(200, "audio/pcm")
    await call.chunk(audio[:100])
    await call.end(audio[100:])


def fault(handler: Callable[[Call], Any]) -> Callable[[Call], Any]:
    """Serve ``handler`` to the segment holding FAULT, ``healthy`` to the others."""

    async def route(call: Call) -> None:
        if "FAULT" in call.text:
            await handler(call)
        else:
            await healthy(call)

    return route


async def server_error_once(call: Call) -> None:
    if call.attempt == 0:
        await call.start(500, "application/json")
        await call.end(b'{"error": {"message": "transient"}}')
    else:
        await healthy(call)


async def too_many_requests_once(call: Call) -> None:
    if call.attempt == 0:
        await call.start_with(
            429, [(b"content-type", b"application/json"), (b"retry-after-ms", b"20")]
        )
        await call.end(b'{"error": {"message": "slow down"}}')
    else:
        await healthy(call)


async def server_error_always(call: Call) -> None:
    await call.start(503, "text/plain")
    await call.end(b"upstream unavailable")


async def hang_before_headers(call: Call) -> None:
    await call.until_disconnect()


async def hang_before_first_byte(call: Call) -> None:
    await call.start(200, "audio/pcm")
    await call.until_disconnect()


async def stall_mid_body(call: Call) -> None:
    await call.start(200, "audio/pcm")
    await call.chunk(pcm_for(call.text)[:100])
    await call.until_disconnect()


async def close_mid_body(call: Call) -> None:
    # An exception with the body unfinished: uvicorn drops the connection, as a crashed
    # server or a proxy timeout would.
    await call.start(200, "audio/pcm")
    await call.chunk(pcm_for(call.text)[:100])
    raise ServerDrop


async def empty_body(call: Call) -> None:
    await call.start(200, "audio/pcm")
    await call.end()


async def html_page(call: Call) -> None:
    await call.start(200, "text/html; charset=utf-8")
    await call.end(b"<html><body><h1>502 Bad Gateway</h1></body></html>")


async def octet_stream(call: Call) -> None:
    await call.start(200, "application/octet-stream")
    await call.end(pcm_for(call.text))


async def no_content_type(call: Call) -> None:
    await call.start(200, None)
    await call.end(pcm_for(call.text))


async def wav_16k(call: Call) -> None:
    await call.start(200, "audio/wav")
    await call.end(wav_header(AudioFormat("pcm_s16le", 16000, 1)) + pcm_for(call.text))


async def endless_audio(call: Call) -> None:
    await call.start(200, "audio/pcm")
    for _ in range(10_000):
        await call.chunk(b"\0" * 8192)
        await call.check_gone()
    await call.end()


async def gzip_bomb(call: Call) -> None:
    # Compressed although the client asked for identity: 300 KB that arrive as 300 bytes
    # and come out of httpx's decoder as one chunk.
    headers = [(b"content-type", b"audio/pcm"), (b"content-encoding", b"gzip")]
    await call.start_with(200, headers)
    await call.end(gzip.compress(b"\0" * 300_000))


HANDLERS = {
    "ok": healthy,
    "500-once": fault(server_error_once),
    "429-once": fault(too_many_requests_once),
    "503": fault(server_error_always),
    "hang": fault(hang_before_headers),
    "hang-headers": fault(hang_before_first_byte),
    "stall": fault(stall_mid_body),
    "close": fault(close_mid_body),
    "empty": fault(empty_body),
    "html": fault(html_page),
    "octet": fault(octet_stream),
    "no-type": fault(no_content_type),
    "wav16k": fault(wav_16k),
    "endless": fault(endless_audio),
    "gzip-bomb": fault(gzip_bomb),
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serving(FaultServer(HANDLERS)) as running:
        yield running


Backend = OpenAISpeech | ElevenLabsSpeech


def openai_backend(base: str, **options: Any) -> Backend:
    return OpenAISpeech(base_url=f"{base}/v1", **options)


def elevenlabs_backend(base: str, **options: Any) -> Backend:
    options.pop("response_format", None)
    options.pop("sample_rate", None)
    # The fault server speaks the plain /stream protocol (raw audio in the body).
    return ElevenLabsSpeech("voice", base_url=base, timestamps=False, **options)


class Backends:
    """Makes the backend under test, with its own client or a borrowed one of ``package``."""

    def __init__(self, kind: str, package: str) -> None:
        self.kind = kind
        self.package = package
        self.borrowed: list[Any] = []

    def __call__(self, base: str, **options: Any) -> Backend:
        if self.package != "own" and "client" not in options:
            options["client"] = client_package(self.package).AsyncClient()
            self.borrowed.append(options["client"])
        make = openai_backend if self.kind == "openai" else elevenlabs_backend
        return make(base, **options)

    async def close_borrowed(self) -> None:
        for client in self.borrowed:
            await client.aclose()


@pytest.fixture(
    params=[
        ("openai", "own"),
        ("elevenlabs", "own"),
        ("openai", "httpx2"),
        ("elevenlabs", "httpx2"),
    ],
    ids=lambda param: "-".join(param),
)
def make_backend(request: pytest.FixtureRequest) -> Backends:
    return Backends(*request.param)


def fast(max_retries: int = 2) -> RetryPolicy:
    """Retries with short waits."""
    return RetryPolicy(max_retries, base_delay=0.01, max_delay=0.05)


async def run_reply(backend: Backend, text: str = REPLY) -> list[Event]:
    events: list[Event] = []
    with AsyncGeneratorWatch() as watch:
        async with backend, stream_reply(split_like_llm(text), backend) as stream:
            async for event in stream:
                events.append(event)
        # Every request's body generators are finished, not left to the GC.
        assert watch.suspended() == []
    return events


def check_no_text_lost(events: list[Event], text: str = REPLY) -> dict[int, bytes]:
    """Tokens make the reply, every segment is done once; return each segment's audio."""
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == text
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.text == text
    segments = [e.segment for e in events if isinstance(e, SegmentEvent)]
    finished = [e.segment_index for e in events if isinstance(e, SegmentDoneEvent)]
    assert finished == [s.index for s in segments]
    audio: dict[int, bytes] = {s.index: b"" for s in segments}
    for event in events:
        if isinstance(event, AudioEvent):
            audio[event.segment_index] += event.data
    for segment in segments:
        if "FAULT" not in segment.text:
            assert audio[segment.index] == pcm_for(segment.speech_text)
    return audio


def errors(events: list[Event]) -> list[ErrorEvent]:
    return [e for e in events if isinstance(e, ErrorEvent)]


def fault_segment(events: list[Event]) -> Segment:
    return next(
        e.segment for e in events if isinstance(e, SegmentEvent) and "FAULT" in e.segment.text
    )


def fault_index(events: list[Event]) -> int:
    return fault_segment(events).index


async def check_connections(
    server: FaultServer, run: str, requests: int, backends: Backends | None = None
) -> None:
    if backends is not None:
        await backends.close_borrowed()
    log = server.logs[run]
    outcomes = await anyio.to_thread.run_sync(log.wait_outcomes, requests)
    assert len(outcomes) == requests
    assert await server.wait_all_closed() == 0


# --- recoverable faults: the segment still speaks ----------------------------------------


@pytest.mark.parametrize(
    "fault_name", ["500-once", "429-once", "octet", "no-type"], ids=lambda name: name
)
async def test_recoverable_fault_loses_nothing(
    server: FaultServer, make_backend: Backends, fault_name: str
) -> None:
    run = server.new_run()
    backend = make_backend(f"{server.url}/{run}/{fault_name}", retry=fast(2))
    events = await run_reply(backend)
    audio = check_no_text_lost(events)
    assert errors(events) == []
    assert audio[fault_index(events)] == pcm_for(fault_segment(events).speech_text)
    retried = fault_name in ("500-once", "429-once")
    await check_connections(server, run, 4 if retried else 3, make_backend)
    assert server.logs[run].outcomes.count("complete") == (4 if retried else 3)


# --- faults that fail the segment, and only that segment ---------------------------------

FIRST_BYTE = HTTPTimeouts(first_byte=0.3)
TOTAL = HTTPTimeouts(total=0.3)

# (fault, backend options, error type, message pattern, requests of the faulty segment,
#  how the server saw the faulty segment's last request end)
FAILING = [
    ("503", {"retry": fast(1)}, TTSHTTPError, "HTTP 503: upstream unavailable", 2, "complete"),
    ("hang", {"timeouts": FIRST_BYTE}, SynthesisTimeout, "no audio", 1, "client-left"),
    ("hang-headers", {"timeouts": FIRST_BYTE}, SynthesisTimeout, "no audio", 1, "client-left"),
    ("stall", {"timeouts": TOTAL}, SynthesisTimeout, "total timeout", 1, "client-left"),
    ("close", {}, SynthesisError, "failed mid-stream", 1, "dropped"),
    ("html", {}, SynthesisError, "'text/html' instead of audio: .*502 Bad Gateway", 1, "complete"),
    (
        "endless",
        {"max_response_bytes": 64 * 1024},
        SynthesisError,
        "max_response_bytes=65536",
        1,
        "client-left",
    ),
    (
        "gzip-bomb",
        {"max_chunk_bytes": 100_000},
        SynthesisError,
        "max_chunk_bytes=100000",
        1,
        "complete",
    ),
]


@pytest.mark.parametrize(
    ("fault_name", "options", "kind", "message", "requests", "outcome"),
    FAILING,
    ids=[case[0] for case in FAILING],
)
async def test_failing_segment_is_an_error_event_and_the_reply_goes_on(
    server: FaultServer,
    make_backend: Backends,
    fault_name: str,
    options: dict[str, Any],
    kind: type[Exception],
    message: str,
    requests: int,
    outcome: str,
) -> None:
    run = server.new_run()
    backend = make_backend(f"{server.url}/{run}/{fault_name}", **{"retry": fast(), **options})
    events = await run_reply(backend)
    check_no_text_lost(events)
    [error] = errors(events)
    assert error.segment_index == fault_index(events)
    assert isinstance(error.error, kind)
    assert re.search(message, str(error.error)), str(error.error)
    [done] = [
        e
        for e in events
        if isinstance(e, SegmentDoneEvent) and e.segment_index == error.segment_index
    ]
    assert done.failed
    # The faulty request ended as the fault says, and nothing stays open.
    await check_connections(server, run, 2 + requests, make_backend)
    assert server.logs[run].outcomes_of("FAULT")[-1] == outcome, server.logs[run].ended


async def test_empty_body_yields_no_audio_and_closes(
    server: FaultServer, make_backend: Backends
) -> None:
    # The backend layer cannot tell an empty body from a blank text's silence; that an
    # empty audio for a non-blank segment is an error is the pipeline's rule.
    run = server.new_run()
    async with make_backend(f"{server.url}/{run}/empty") as backend:
        assert await collect(backend.synthesize("A FAULT here.")) == b""
    await check_connections(server, run, 1, make_backend)
    assert server.logs[run].outcomes == ["complete"]


async def test_wav_of_another_sample_rate_is_refused(server: FaultServer) -> None:
    run = server.new_run()
    backend = OpenAISpeech(
        base_url=f"{server.url}/{run}/wav16k/v1", response_format="wav", sample_rate=24000
    )
    async with backend:
        with pytest.raises(SynthesisError, match=r"16000 Hz.*pass sample_rate=16000"):
            await collect(backend.synthesize("A FAULT here."))
    await check_connections(server, run, 1)


async def test_refused_connection(make_backend: Backends) -> None:
    backend = make_backend(refused_url(), retry=fast(1))
    events = await run_reply(backend, "One sentence here. And another one.")
    await make_backend.close_borrowed()
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == (
        "One sentence here. And another one."
    )
    failures = errors(events)
    assert [e.segment_index for e in failures] == [0, 1]
    assert all(isinstance(e.error, SynthesisError) for e in failures)
    assert all("could not get audio" in str(e.error) for e in failures)


# --- which clients are accepted -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["openai", "elevenlabs"])
def test_a_client_of_another_kind_is_a_clear_type_error(kind: str) -> None:
    make = openai_backend if kind == "openai" else elevenlabs_backend
    http = client_package()
    with http.Client() as sync_client, pytest.raises(TypeError, match="use AsyncClient"):
        make("http://localhost", client=sync_client)
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient or an httpx2\.AsyncClient, not a"):
        make("http://localhost", client=object())


# --- secrets in every error ------------------------------------------------------------


async def test_credentials_in_urls_are_redacted(
    make_backend: Backends, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = refused_url().replace("http://", f"http://user:{SECRET}@")
    package = client_package(None if make_backend.package == "own" else make_backend.package)
    async with package.AsyncClient(params={"api_key": SECRET, "token": SECRET}) as client:
        backend = make_backend(base, api_key=SECRET, client=client, retry=fast(1))
        events = await run_reply(backend, "A FAULT sentence.")
    [error] = errors(events)
    message = str(error.error)
    assert "http://***@127.0.0.1:" in message
    assert "api_key=***" in message
    assert "token=***" in message
    texts = [message, repr(error.error), str(error.to_dict()), caplog.text, repr(backend)]
    texts += [str(record.args) for record in caplog.records]
    cause: BaseException | None = error.error
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    assert [text for text in texts if SECRET in text] == []
