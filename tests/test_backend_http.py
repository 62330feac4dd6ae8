"""The shared HTTP machinery of the TTS backends, against a real server on 127.0.0.1.

A scripted starlette app on uvicorn (one per module, in a thread) answers each request
with the next step of the test's script; it records every request, and whether its
streamed body finished or was cut off by the client. The backends drive it with real
connections, on asyncio and trio, through their own client (httpx2 when installed, else
httpx) or a borrowed one of either package: the module passes with either package or
both installed. Also here: the pure helpers of ``_http``.

``Peer`` and its steps are imported by the OpenAI and ElevenLabs backend tests.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from e2estream import SynthesisError, SynthesisTimeout, TTSAuthenticationError, TTSHTTPError
from e2estream._http_messages import message_from_body
from e2estream._redact import redact_url
from e2estream.backends import ElevenLabsSpeech, HTTPTimeouts, OpenAISpeech, RetryPolicy
from e2estream.backends._guards import audio_media_type
from e2estream.backends._http_settings import retry_after
from live_server import LiveServer, client_package, serve

pytestmark = pytest.mark.anyio

Step = Callable[[Request, "Peer"], Awaitable[Response]]

#: Upper bound for anything the server waits on, so a failing test cannot hang it.
SERVER_WAIT = 10.0


@dataclass
class Recorded:
    method: str
    path: str  # raw, still percent-encoded
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Peer:
    """The scripted server's state, shared between the test and the server thread."""

    url: str = ""
    live: LiveServer | None = None
    script: list[Step] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    #: Set by the test to let a waiting step go on.
    gate: threading.Event = field(default_factory=threading.Event)
    #: Set by a streamed body when it ends, either way.
    finished: threading.Event = field(default_factory=threading.Event)
    #: True if the last streamed body ran to its end (False: the client went away).
    completed: bool | None = None

    def reset(self) -> None:
        self.gate.set()  # release whatever the previous test left waiting
        self.script = []
        self.requests = []
        self.gate = threading.Event()
        self.finished = threading.Event()
        self.completed = None

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        self.requests.append(
            Recorded(
                request.method,
                request.scope["raw_path"].decode(),
                dict(request.query_params),
                dict(request.headers),
                body,
            )
        )
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        return await step(request, self)

    async def wait_gate(self) -> None:
        # Polling keeps the wait cancellable, so a client disconnect ends it.
        with anyio.fail_after(SERVER_WAIT):
            while not self.gate.is_set():  # noqa: ASYNC110 - a threading.Event, set by the test
                await anyio.sleep(0.005)

    async def first_finished(self) -> bool:
        """Wait (in a thread) until a streamed body ended; return whether it completed."""
        ended = await anyio.to_thread.run_sync(self.finished.wait, SERVER_WAIT)
        assert ended, "the server's body never ended"
        assert self.completed is not None
        return self.completed


def stream(
    chunks: list[bytes],
    *,
    gate_after: int | None = None,
    fail_after: int | None = None,
    forever: bool = False,
    delay: float = 0.002,
    media_type: str = "audio/pcm",
) -> Step:
    """A step that streams ``chunks``, pausing between them.

    Args:
        gate_after: Wait for the test's gate after this many chunks.
        fail_after: Drop the connection (an exception in the app) after this many.
        forever: Keep sending the last chunk until the client goes away.
    """

    async def step(request: Request, peer: Peer) -> Response:
        async def body() -> AsyncIterator[bytes]:
            peer.completed = False
            try:
                for index, chunk in enumerate(chunks):
                    if index == gate_after:
                        await peer.wait_gate()
                    if index == fail_after:
                        raise RuntimeError("the test server drops the connection")
                    yield chunk
                    await anyio.sleep(delay)
                if fail_after == len(chunks):
                    raise RuntimeError("the test server drops the connection")
                with anyio.fail_after(SERVER_WAIT):
                    while forever:
                        yield chunks[-1]
                        await anyio.sleep(delay)
                peer.completed = True
            finally:
                peer.finished.set()

        return StreamingResponse(body(), media_type=media_type)

    return step


def by_text(default: Step, **steps: Step) -> Step:
    """A step that picks another by the request's text (requests may come concurrently)."""

    async def step(request: Request, peer: Peer) -> Response:
        body = await request.json()
        text = body.get("text") or body.get("input")
        return await steps.get(text, default)(request, peer)

    return step


def status(code: int, payload: Any = None, headers: dict[str, str] | None = None) -> Step:
    async def step(request: Request, peer: Peer) -> Response:
        return JSONResponse(payload or {"error": {"message": f"status {code}"}}, code, headers)

    return step


def stall_headers() -> Step:
    async def step(request: Request, peer: Peer) -> Response:
        await peer.wait_gate()
        return Response(b"late", media_type="audio/pcm")

    return step


@pytest.fixture(scope="module")
def server() -> Iterator[Peer]:
    peer = Peer()
    app = Starlette(routes=[Route("/{path:path}", peer.handle, methods=["POST"])])
    with serve(app) as live:
        peer.url = live.url
        peer.live = live
        yield peer
        peer.gate.set()


@pytest.fixture
def peer(server: Peer) -> Iterator[Peer]:
    server.reset()
    yield server
    server.gate.set()


#: Retries with short waits, for tests that do not time them.
FAST_RETRY = RetryPolicy(max_retries=3, base_delay=0.001)


def make_tts(peer: Peer, **kwargs: Any) -> OpenAISpeech:
    options: dict[str, Any] = {"retry": FAST_RETRY}
    options.update(kwargs)
    return OpenAISpeech(base_url=peer.url + "/v1", **options)


async def collect(audio: AsyncIterator[bytes], into: list[bytes] | None = None) -> list[bytes]:
    """Return the chunks; also append each to ``into`` as it comes (kept on an error)."""
    received = [] if into is None else into
    async for chunk in audio:
        received.append(chunk)
    return received


PCM = [bytes([n]) * 480 for n in range(1, 6)]


# --- streaming -----------------------------------------------------------------------


async def test_first_audio_arrives_before_the_server_finished(peer: Peer) -> None:
    peer.script = [stream(PCM, gate_after=1)]
    async with make_tts(peer) as tts:
        audio = tts.synthesize("Hello.")
        first = await audio.__anext__()
        # The server is still waiting for us: the audio was streamed, not buffered.
        assert not peer.finished.is_set()
        peer.gate.set()
        rest = await collect(audio)
    assert first + b"".join(rest) == b"".join(PCM)
    assert await peer.first_finished()


@pytest.mark.parametrize("package", ["httpx", "httpx2"])
async def test_borrowed_client_is_reused_for_concurrent_requests(peer: Peer, package: str) -> None:
    peer.script = [stream(PCM)]
    results: dict[str, bytes] = {}
    async with client_package(package).AsyncClient() as client:
        tts = make_tts(peer, client=client)

        async def run(text: str) -> None:
            results[text] = b"".join(await collect(tts.synthesize(text)))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "one")
            tg.start_soon(run, "two")
        await tts.aclose()
        assert not client.is_closed  # borrowed, not ours to close
    assert results == {"one": b"".join(PCM), "two": b"".join(PCM)}
    assert sorted(r.body["input"] for r in peer.requests) == ["one", "two"]


async def test_own_client_is_closed_by_aclose(peer: Peer) -> None:
    assert peer.live is not None
    assert await peer.live.wait_all_closed() == 0  # what earlier tests' clients held
    peer.script = [stream(PCM)]
    tts = make_tts(peer)
    assert b"".join(await collect(tts.synthesize("a"))) == b"".join(PCM)
    # The backend's own client keeps the connection for the next segment...
    assert peer.live.open_connections() == 1
    await tts.aclose()
    # ...and closing the backend closes that client, hence the connection.
    assert await peer.live.wait_all_closed() == 0
    await tts.aclose()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await collect(tts.synthesize("again"))


async def test_blank_text_sends_no_request(peer: Peer) -> None:
    async with make_tts(peer) as tts:
        assert await collect(tts.synthesize(" \n")) == []
    assert peer.requests == []


async def test_empty_body_is_no_audio(peer: Peer) -> None:
    peer.script = [stream([])]
    async with make_tts(peer) as tts:
        assert await collect(tts.synthesize("Hi.")) == []
    assert len(peer.requests) == 1


# --- errors that are not retried -----------------------------------------------------


@pytest.mark.parametrize("code", [401, 403])
async def test_authentication_error_fails_at_once(peer: Peer, code: int) -> None:
    peer.script = [status(code, {"error": {"message": "Incorrect API key provided"}})]
    async with make_tts(peer, api_key="sk-test") as tts:
        with pytest.raises(TTSAuthenticationError) as info:
            await collect(tts.synthesize("Hi."))
    assert info.value.status_code == code
    assert info.value.message == "Incorrect API key provided"
    assert len(peer.requests) == 1


async def test_client_error_is_not_retried(peer: Peer) -> None:
    peer.script = [status(400, {"detail": [{"msg": "voice unknown"}, {"msg": "bad speed"}]})]
    async with make_tts(peer) as tts:
        with pytest.raises(TTSHTTPError) as info:
            await collect(tts.synthesize("Hi."))
    assert type(info.value) is TTSHTTPError
    assert info.value.status_code == 400
    assert info.value.message == "voice unknown; bad speed"
    assert len(peer.requests) == 1


async def test_json_instead_of_audio_is_an_error(peer: Peer) -> None:
    peer.script = [status(200, {"error": "oops"})]
    async with make_tts(peer) as tts:
        with pytest.raises(SynthesisError, match=r"'application/json' instead of audio: oops"):
            await collect(tts.synthesize("Hi."))
    assert len(peer.requests) == 1


# --- retries before the first audio byte ---------------------------------------------


async def test_429_with_retry_after_is_retried(
    peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="e2estream")
    peer.script = [status(429, headers={"Retry-After": "0.01"}), stream(PCM)]
    async with make_tts(peer, retry=RetryPolicy(max_retries=3, base_delay=5.0)) as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == b"".join(PCM)
    assert len(peer.requests) == 2
    # The wait came from Retry-After, not from the (here huge) backoff.
    [record] = [r for r in caplog.records if "retry" in r.getMessage()]
    assert isinstance(record.args, tuple)
    assert record.args[-1] == pytest.approx(0.01)


async def test_503_is_retried_until_success(peer: Peer) -> None:
    peer.script = [status(503), status(502), stream(PCM)]
    async with make_tts(peer) as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == b"".join(PCM)
    assert len(peer.requests) == 3
    assert peer.requests[0].body == peer.requests[2].body


async def test_retries_exhausted(peer: Peer) -> None:
    peer.script = [status(503, {"error": {"message": "overloaded"}})]
    async with make_tts(peer, retry=RetryPolicy(max_retries=2, base_delay=0.001)) as tts:
        with pytest.raises(TTSHTTPError) as info:
            await collect(tts.synthesize("Hi."))
    assert info.value.status_code == 503
    assert info.value.message == "overloaded"
    assert len(peer.requests) == 3


async def test_no_retries_when_max_retries_is_zero(peer: Peer) -> None:
    peer.script = [status(500)]
    async with make_tts(peer, retry=RetryPolicy(max_retries=0)) as tts:
        with pytest.raises(TTSHTTPError):
            await collect(tts.synthesize("Hi."))
    assert len(peer.requests) == 1


async def test_connection_dropped_before_audio_is_retried(peer: Peer) -> None:
    peer.script = [stream(PCM, fail_after=0), stream(PCM)]
    async with make_tts(peer) as tts:
        audio = b"".join(await collect(tts.synthesize("Hi.")))
    assert audio == b"".join(PCM)
    assert len(peer.requests) == 2


async def test_connection_refused_is_retried_then_fails() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tts = OpenAISpeech(base_url=f"http://127.0.0.1:{port}/v1", retry=FAST_RETRY)
    async with tts:
        with pytest.raises(SynthesisError, match="could not get audio") as info:
            await collect(tts.synthesize("Hi."))
    assert not isinstance(info.value, TTSHTTPError)
    # The backend's own client is of the preferred package installed: httpx2, else httpx.
    assert isinstance(info.value.__cause__, client_package().ConnectError)


# --- failures after audio began -------------------------------------------------------


async def test_failure_after_first_byte_is_not_retried(peer: Peer) -> None:
    peer.script = [stream(PCM, fail_after=2), stream([b"never"])]
    received: list[bytes] = []
    async with make_tts(peer) as tts:
        with pytest.raises(SynthesisError, match="mid-stream"):
            await collect(tts.synthesize("Hi."), received)
    # Exactly the audio the server sent, once: no retry duplicated any of it.
    assert b"".join(received) == b"".join(PCM[:2])
    assert len(peer.requests) == 1


# --- timeouts -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["headers", "body"])
async def test_first_byte_timeout(peer: Peer, where: str) -> None:
    peer.script = [stall_headers() if where == "headers" else stream(PCM, gate_after=0)]
    async with make_tts(peer, timeouts=HTTPTimeouts(first_byte=0.2)) as tts:
        with pytest.raises(SynthesisTimeout, match="no audio"):
            await collect(tts.synthesize("Hi."))
    assert len(peer.requests) == 1  # a timeout is the latency budget: not retried


async def test_total_timeout_after_audio_began(peer: Peer) -> None:
    peer.script = [stream(PCM, gate_after=1)]
    received: list[bytes] = []
    async with make_tts(peer, timeouts=HTTPTimeouts(first_byte=None, total=0.6)) as tts:
        with pytest.raises(SynthesisTimeout, match="total timeout"):
            await collect(tts.synthesize("Hi."), received)
    assert b"".join(received) == PCM[0]
    assert not await peer.first_finished()  # and the response was closed


async def test_total_timeout_ignores_the_consumers_own_time(peer: Peer) -> None:
    peer.script = [stream(PCM[:3], delay=0)]
    received: list[bytes] = []
    async with make_tts(peer, timeouts=HTTPTimeouts(total=0.5)) as tts:
        async for chunk in tts.synthesize("Hi."):
            received.append(chunk)
            # A slow consumer (backpressure), not a slow server: 3 x 0.25 s > 0.5 s.
            await anyio.sleep(0.25)
    assert b"".join(received) == b"".join(PCM[:3])


# --- closing early --------------------------------------------------------------------


async def test_aclose_closes_the_response(peer: Peer) -> None:
    peer.script = [stream(PCM, forever=True)]
    async with make_tts(peer) as tts:
        audio = tts.synthesize("Hi.")
        await audio.__anext__()
        await audio.aclose()
        # The server saw the client go away, long before its own 10 s bound.
        assert not await peer.first_finished()


async def test_cancellation_closes_the_response(peer: Peer) -> None:
    peer.script = [stream(PCM, forever=True)]
    async with make_tts(peer) as tts:
        with anyio.CancelScope() as scope:
            async for _ in tts.synthesize("Hi."):
                scope.cancel()
        assert scope.cancelled_caught
        assert not await peer.first_finished()


# --- secrets --------------------------------------------------------------------------

SECRET = "sk-very-secret-key-0123456789"


def _texts(exc: BaseException | None) -> str:
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("code", [401, 503])
async def test_api_key_never_appears_in_errors_reprs_or_logs(
    peer: Peer, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    caplog.set_level(logging.DEBUG)
    # A careless server that echoes the key it was sent.
    peer.script = [status(code, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})]
    tts = make_tts(peer, api_key=SECRET, retry=RetryPolicy(max_retries=1, base_delay=0.001))
    assert SECRET not in repr(tts)
    assert SECRET not in str(tts)
    async with tts:
        with pytest.raises(TTSHTTPError) as info:
            await collect(tts.synthesize("Hi."))
    assert peer.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert "Incorrect API key provided: ***" in str(info.value)
    assert SECRET not in _texts(info.value)
    assert SECRET not in caplog.text
    assert all(SECRET not in str(record.args) for record in caplog.records)


async def test_api_key_not_in_mid_stream_error(peer: Peer) -> None:
    peer.script = [stream(PCM, fail_after=1)]
    async with make_tts(peer, api_key=SECRET) as tts:
        with pytest.raises(SynthesisError) as info:
            await collect(tts.synthesize("Hi."))
    assert SECRET not in _texts(info.value)


async def test_credentials_in_a_url_the_server_echoes_are_redacted(peer: Peer) -> None:
    leaked = f"https://admin:{SECRET}@cdn.example/a.pcm?key={SECRET}&voice=nova"
    peer.script = [status(400, {"error": {"message": f"could not fetch {leaked}"}})]
    async with make_tts(peer) as tts:
        with pytest.raises(TTSHTTPError) as info:
            await collect(tts.synthesize("Hi."))
    assert "could not fetch https://***@cdn.example/a.pcm?key=***&voice=nova" in str(info.value)
    assert SECRET not in _texts(info.value)


# --- pure helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.example/v1/audio/speech", "https://api.example/v1/audio/speech"),
        ("https://me:pw@api.example/v1", "https://***@api.example/v1"),
        ("https://token@api.example/v1", "https://***@api.example/v1"),
        (
            "https://api.example/v1?key=abc&api_key=def&voice=nova&x-api-key=g",
            "https://api.example/v1?key=***&api_key=***&voice=nova&x-api-key=***",
        ),
        (
            "https://s3.example/a?X-Amz-Signature=abc&token=t&access_token=u&password=p",
            "https://s3.example/a?X-Amz-Signature=***&token=***&access_token=***&password=***",
        ),
        (
            "https://api.example/v1?output_format=pcm_24000",
            "https://api.example/v1?output_format=pcm_24000",
        ),
        ("https://api.example/v1#fragment", "https://api.example/v1"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(client_package().URL(url)) == shown


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_chunk_bytes": 0},
        {"max_chunk_bytes": 1.5},
        {"max_response_bytes": 0},
        {"max_response_bytes": -1},
    ],
)
def test_invalid_response_limits(kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        OpenAISpeech(**kwargs)
    with pytest.raises(ValueError, match=name):
        ElevenLabsSpeech("voice", **kwargs)


@pytest.mark.parametrize(
    ("content_type", "audio"),
    [
        ("audio/pcm", True),
        ("audio/L16; rate=24000", True),
        ("AUDIO/MPEG", True),
        ("application/octet-stream", True),
        ("application/ogg", True),
        (None, True),
        ("text/html; charset=utf-8", False),
        ("application/json", False),
        ("text/plain", False),
        ("application/problem+json", False),
        ("video/mp4", False),
    ],
)
def test_audio_media_types(content_type: str | None, audio: bool) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert audio_media_type(client_package().Response(200, headers=headers))[0] is audio


def _response(**headers: str) -> Any:
    return client_package().Response(429, headers=headers)


def test_retry_after_forms() -> None:
    assert retry_after(_response()) is None
    assert retry_after(_response(**{"retry-after": "3"})) == 3.0
    assert retry_after(_response(**{"retry-after": "0.5"})) == 0.5
    assert retry_after(_response(**{"retry-after": "-1"})) is None
    assert retry_after(_response(**{"retry-after": "soon"})) is None
    assert retry_after(_response(**{"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    past = formatdate(0, usegmt=True)
    assert retry_after(_response(**{"retry-after": past})) == 0.0
    future = retry_after(_response(**{"retry-after": formatdate(2**32, usegmt=True)}))
    assert future is not None
    assert future > 1e6


def test_backoff_is_capped_jittered_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=5.0)
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (10, 5.0)]:
        delays = {policy.delay(retry) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert policy.delay(0, _response(**{"retry-after": "2"})) == 2.0
    assert policy.delay(0, _response(**{"retry-after": "60"})) == 5.0  # capped


def test_settings_defaults_and_where_they_go() -> None:
    assert RetryPolicy() == RetryPolicy(max_retries=2, base_delay=0.25, max_delay=8.0)
    assert HTTPTimeouts() == HTTPTimeouts(first_byte=15.0, total=120.0, connect=10.0, read=30.0)
    tts = OpenAISpeech()
    assert (tts.retry, tts.timeouts) == (RetryPolicy(), HTTPTimeouts())
    custom = ElevenLabsSpeech("v", retry=RetryPolicy(max_retries=0), timeouts=HTTPTimeouts(None))
    assert custom.retry.max_retries == 0
    assert custom.timeouts.first_byte is None
    assert repr(RetryPolicy()).startswith("RetryPolicy(max_retries=2,")


INVALID_SETTINGS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: HTTPTimeouts(first_byte=0), ValueError, r"HTTPTimeouts\.first_byte must be positive"),
    (lambda: HTTPTimeouts(total=-1), ValueError, r"HTTPTimeouts\.total must be positive"),
    (lambda: HTTPTimeouts(connect=math.inf), ValueError, r"HTTPTimeouts\.connect"),
    (lambda: HTTPTimeouts(read="30"), TypeError, r"HTTPTimeouts\.read must be a number"),  # type: ignore[arg-type]
    (lambda: RetryPolicy(max_retries=-1), ValueError, r"RetryPolicy\.max_retries must be >= 0"),
    (lambda: RetryPolicy(max_retries=1.5), TypeError, r"RetryPolicy\.max_retries must be an int"),  # type: ignore[arg-type]
    (lambda: RetryPolicy(max_retries=True), TypeError, r"RetryPolicy\.max_retries"),
    (lambda: RetryPolicy(base_delay=-1), ValueError, r"RetryPolicy\.base_delay must be finite"),
    (lambda: RetryPolicy(max_delay=math.nan), ValueError, r"RetryPolicy\.max_delay"),
    (lambda: RetryPolicy(max_delay=None), TypeError, r"RetryPolicy\.max_delay .*not None"),  # type: ignore[arg-type]
    (lambda: OpenAISpeech(retry=3), TypeError, r"retry must be RetryPolicy\(.*not 3"),  # type: ignore[arg-type]
    (lambda: OpenAISpeech(timeouts=30.0), TypeError, r"timeouts must be HTTPTimeouts\("),  # type: ignore[arg-type]
    (lambda: ElevenLabsSpeech("v", timeouts=RetryPolicy()), TypeError, r"HTTPTimeouts"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "error", "match"), INVALID_SETTINGS)
def test_invalid_settings(make: Callable[[], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": {"message": "bad key", "type": "invalid_request_error"}}', "bad key"),
        (b'{"detail": {"status": "quota_exceeded", "message": "quota"}}', "quota"),
        (b'{"detail": "Not found"}', "Not found"),
        (b"<html>\n  Bad   Gateway\n</html>", "<html> Bad Gateway </html>"),
        (b"", "Service Unavailable"),
        (b"x" * 2000, "x" * 497 + "..."),
    ],
)
def test_error_message_extraction(body: bytes, message: str) -> None:
    assert message_from_body(body, "Service Unavailable") == message
