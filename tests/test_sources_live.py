"""``token_source`` against real peers over real sockets.

One Starlette app on uvicorn (127.0.0.1, a free port) speaks every wire format: OpenAI
chat-completions SSE, the Responses API's SSE, Anthropic's Messages SSE and Ollama's
NDJSON. It is driven by the real ``openai`` and ``anthropic`` SDK clients (``base_url``
pointed at it, a dummy key) and by plain httpx and httpx2 clients (each test of a
package that is not installed is skipped). Bodies go out in small explicit chunks
with a short pause after each, so that lines, CRLF pairs and UTF-8 characters arrive
split across network reads. The scenario is picked by the request's ``model`` field.
"""

from __future__ import annotations

import gc
import itertools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import anthropic
import anyio
import anyio.to_thread
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from e2estream import SourceError, token_source
from live_server import live_server

pytestmark = pytest.mark.anyio

# The SDKs' own stream classes leave their inner async generators suspended when they
# stop at [DONE] or are closed early (openai's AsyncStream breaks out of _iter_events;
# both SDKs use httpx2, whose aiter_bytes() abandons aiter_raw like httpx's does). Trio
# reports such generators as they are collected. That is the SDKs' business, not ours:
# the filters are scoped to the SDK tests, name the SDK modules only, and each such test
# collects garbage before it ends so that the warnings fire while the filter applies.
SDK_GENERATOR_WARNINGS = [
    pytest.mark.filterwarnings(f"ignore:Async generator '{module}\\.:ResourceWarning")
    for module in ("openai", "anthropic", "httpx2", "httpcore2")
]


def sdk_test(func: Any) -> Any:
    for mark in SDK_GENERATOR_WARNINGS:
        func = mark(func)
    return func


# ------------------------------------------------------------------ wire bodies --------

CHAT_TOKENS = ["Hel", "lo, wörld 👋", "\n\n", "日本語。", " Grüße!"]
CHAT_TEXT = "".join(CHAT_TOKENS)


def chat_chunk(content: str | None = None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def chat_payloads(tokens: list[str]) -> list[dict[str, Any]]:
    tool_call = {"index": 0, "id": "call_1", "type": "function"}
    tool_call["function"] = {"name": "f", "arguments": '{"x": 1}'}
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    return [
        chat_chunk("", role="assistant"),
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "created": 0},
        *(chat_chunk(token) for token in tokens[:2]),
        chat_chunk(None, tool_calls=[tool_call]),
        *(chat_chunk(token) for token in tokens[2:]),
        {**chat_chunk(), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**chat_chunk(), "choices": [], "usage": usage},
    ]


def sse_body(
    payloads: list[Any], *, newline: str = "\n", done: bool = True, keepalive: bool = True
) -> bytes:
    parts = []
    for i, payload in enumerate(payloads):
        if keepalive and i % 2 == 0:
            parts.append(f": keep-alive{newline}{newline}")
        event = ""
        if isinstance(payload, tuple):
            event, payload = f"event: {payload[0]}{newline}", payload[1]
        data = json.dumps(payload, ensure_ascii=False)
        parts.append(f"{event}data: {data}{newline}{newline}")
    if done:
        parts.append(f"data: [DONE]{newline}{newline}")
    return "".join(parts).encode()


def responses_payloads(tokens: list[str]) -> list[Any]:
    response = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response},
        {"type": "response.in_progress", "response": response},
        {"type": "response.reasoning_summary_text.delta", "delta": "thinking…", "item_id": "r"},
    ]
    events += [
        {"type": "response.output_text.delta", "delta": t, "item_id": "m", "output_index": 0}
        for t in tokens
    ]
    events += [
        {"type": "response.output_text.done", "text": "".join(tokens), "item_id": "m"},
        {"type": "response.completed", "response": {**response, "status": "completed"}},
    ]
    return [(event["type"], {**event, "sequence_number": i}) for i, event in enumerate(events)]


def anthropic_payloads(tokens: list[str]) -> list[Any]:
    usage = {"input_tokens": 3, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
        for t in tokens
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "tu_1", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"x": 1}'},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    return [(event["type"], event) for event in events]


ANTHROPIC_ERROR = (
    "error",
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
)


def ollama_chat_lines(tokens: list[str]) -> bytes:
    lines = [
        {
            "model": "llama",
            "created_at": "2025-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": t},
            "done": False,
        }
        for t in tokens
    ]
    lines.append({"model": "llama", "message": {"role": "assistant", "content": ""}, "done": True})
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def ollama_generate_lines(tokens: list[str]) -> bytes:
    lines: list[dict[str, Any]] = [{"model": "llama", "response": t, "done": False} for t in tokens]
    lines.append({"model": "llama", "response": "", "done": True, "done_reason": "stop"})
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def network_chunks(body: bytes, size: int = 64) -> list[bytes]:
    """Split ``body`` every ``size`` bytes and also inside the first multi-byte characters
    and the first CRLF pair, so each test body reaches the client cut where it hurts."""
    cuts = set(range(size, len(body), size))
    for needle, offset in (("👋".encode(), 2), ("ö".encode(), 1), ("日".encode(), 1), (b"\r\n", 1)):
        at = body.find(needle)
        if at != -1:
            cuts.add(at + offset)
    bounds = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def splits_utf8_and_crlf(chunks: list[bytes]) -> tuple[bool, bool]:
    """Whether some chunk boundary falls inside a UTF-8 character / a CRLF pair."""
    pairs = list(itertools.pairwise(chunks))
    # A boundary cuts a character exactly when the next byte is a continuation byte.
    inside_char = any(0x80 <= b[0] <= 0xBF for _, b in pairs)
    inside_crlf = any(a.endswith(b"\r") and b.startswith(b"\n") for a, b in pairs)
    return inside_char, inside_crlf


# ------------------------------------------------------------------ the server ---------

#: Set by the server when a streaming body ends because the client went away.
DISCONNECTED = threading.Event()


async def paced(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
        # Each chunk goes out in its own write; the pause keeps the client from reading
        # several at once, so the splits above really reach token_source's decoder.
        await anyio.sleep(0.001)


async def endless() -> AsyncIterator[bytes]:
    try:
        for i in range(100_000):
            yield sse_body([chat_chunk(f"t{i} ")], done=False, keepalive=False)
            await anyio.sleep(0.005)
    finally:
        DISCONNECTED.set()


async def stall() -> AsyncIterator[bytes]:
    try:
        yield sse_body([chat_chunk("only ")], done=False, keepalive=False)
        await anyio.sleep(60)
    finally:
        DISCONNECTED.set()


async def linger(body: bytes) -> AsyncIterator[bytes]:
    try:
        yield body
        for _ in range(100_000):
            await anyio.sleep(0.005)
            yield b": still here\n\n"
    finally:
        DISCONNECTED.set()


def stream(body: bytes, media_type: str) -> Response:
    return StreamingResponse(paced(network_chunks(body)), media_type=media_type)


async def chat_completions(request: Request) -> Response:
    model = (await request.json())["model"]
    payloads = chat_payloads(CHAT_TOKENS)
    if model == "chat":
        return stream(sse_body(payloads), "text/event-stream")
    if model == "chat-crlf":
        return stream(sse_body(payloads, newline="\r\n"), "text/event-stream")
    if model == "chat-error":
        error = {"error": {"message": "The model is overloaded.", "type": "server_error"}}
        body = sse_body([*payloads[:4], error], done=False)
        return stream(body, "text/event-stream")
    if model == "chat-plain":  # a gateway that mislabels its SSE
        return stream(sse_body(payloads), "text/plain")
    if model == "chat-linger":  # keeps the connection open after [DONE]
        return StreamingResponse(linger(sse_body(payloads)), media_type="text/event-stream")
    if model == "stall":  # one token, then silence until the client goes away
        return StreamingResponse(stall(), media_type="text/event-stream")
    if model == "endless":
        return StreamingResponse(endless(), media_type="text/event-stream")
    if model == "unauthorized":
        error = {"error": {"message": "Incorrect API key provided: sk-test.", "code": "401"}}
        return JSONResponse(error, status_code=401)
    raise AssertionError(model)


async def responses(request: Request) -> Response:
    model = (await request.json())["model"]
    payloads = responses_payloads(CHAT_TOKENS)
    if model == "responses-error":
        error = {"type": "error", "code": "server_error", "message": "Responses failed."}
        payloads = [*payloads[:4], ("error", {**error, "sequence_number": 4})]
    return stream(sse_body(payloads, done=False), "text/event-stream")


async def messages(request: Request) -> Response:
    model = (await request.json())["model"]
    payloads = anthropic_payloads(CHAT_TOKENS)
    if model == "claude-error":
        payloads = [*payloads[:5], ANTHROPIC_ERROR]
    return stream(sse_body(payloads, done=False, newline="\r\n"), "text/event-stream")


async def ollama_chat(request: Request) -> Response:
    model = (await request.json())["model"]
    body = ollama_chat_lines(CHAT_TOKENS)
    if model == "missing":
        body = body.split(b"\n")[0] + b'\n{"error": "model \'missing\' not found"}\n'
    return stream(body, "application/x-ndjson")


async def ollama_generate(request: Request) -> Response:
    return stream(ollama_generate_lines(CHAT_TOKENS), "application/x-ndjson")


class DropMidStream:
    """Raw ASGI: starts an SSE body, sends two events, then returns without finishing.

    uvicorn then closes the connection with the chunked body unterminated: what a
    crashed server or a proxy timeout looks like to the client.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for payload in chat_payloads(CHAT_TOKENS)[2:4]:
            body = sse_body([payload], done=False, keepalive=False)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            await anyio.sleep(0.001)


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/api/chat", ollama_chat, methods=["POST"]),
        Route("/api/generate", ollama_generate, methods=["POST"]),
        Route("/drop/v1/chat/completions", DropMidStream(), methods=["POST"]),
    ]
)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with live_server(app) as url:
        yield url


async def collect(source: AsyncIterator[str]) -> list[str]:
    return [delta async for delta in source]


async def collect_into(received: list[str], source: AsyncIterator[str]) -> None:
    async for delta in source:
        received.append(delta)


CHAT_REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}], "stream": True}
TOKENS_WITHOUT_EMPTY = [t for t in CHAT_TOKENS if t]


def test_bodies_really_split_characters_and_crlf() -> None:
    # The premise of the live tests: their chunking cuts UTF-8 characters and CRLF pairs.
    for body in (
        sse_body(chat_payloads(CHAT_TOKENS), newline="\r\n"),
        sse_body(anthropic_payloads(CHAT_TOKENS), newline="\r\n", done=False),
    ):
        assert splits_utf8_and_crlf(network_chunks(body)) == (True, True)
    for body in (
        sse_body(chat_payloads(CHAT_TOKENS)),
        sse_body(responses_payloads(CHAT_TOKENS), done=False),
        ollama_chat_lines(CHAT_TOKENS),
        ollama_generate_lines(CHAT_TOKENS),
    ):
        assert splits_utf8_and_crlf(network_chunks(body))[0]


# ------------------------------------------------------------------ OpenAI SDK ---------


@sdk_test
async def test_openai_async_chat_completions(base_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        for model in ("chat", "chat-crlf"):
            stream = await client.chat.completions.create(model=model, **CHAT_REQUEST)
            assert await collect(token_source(stream)) == TOKENS_WITHOUT_EMPTY
            del stream
    gc.collect()


@sdk_test
async def test_openai_sync_chat_completions(base_url: str) -> None:
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        # The sync client blocks: create the stream in a thread, as a host would.
        stream = await anyio.to_thread.run_sync(
            lambda: client.chat.completions.create(model="chat", **CHAT_REQUEST)
        )
        assert await collect(token_source(stream)) == TOKENS_WITHOUT_EMPTY
        assert stream.response.is_closed


@sdk_test
async def test_openai_responses_api(base_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        stream = await client.responses.create(model="responses", input="Hi", stream=True)
        assert await collect(token_source(stream)) == TOKENS_WITHOUT_EMPTY
        stream = await client.responses.create(model="responses-error", input="Hi", stream=True)
        source = token_source(stream)
        assert await source.__anext__() == CHAT_TOKENS[0]
        # The SDK passes the Responses API's error event through; token_source raises it.
        with pytest.raises(SourceError, match=r"^Responses failed\.$"):
            await collect(source)
        del stream, source
    gc.collect()


@sdk_test
async def test_openai_in_stream_error_raised_by_the_sdk(base_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        stream = await client.chat.completions.create(model="chat-error", **CHAT_REQUEST)
        received: list[str] = []
        # The SDK raises its own APIError for an in-stream error object; token_source
        # lets SDK exceptions through unchanged, after the deltas that came before.
        with pytest.raises(openai.APIError, match=r"The model is overloaded\."):
            await collect_into(received, token_source(stream))
        assert received == CHAT_TOKENS[:2]
        del stream
    gc.collect()


@sdk_test
async def test_openai_connection_dropped_mid_stream(base_url: str) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{base_url}/drop/v1", api_key="sk-test", max_retries=0
    ) as client:
        stream = await client.chat.completions.create(model="chat", **CHAT_REQUEST)
        received: list[str] = []
        with pytest.raises(openai.APIConnectionError):
            await collect_into(received, token_source(stream))
        assert received == CHAT_TOKENS[:2]
        del stream
    gc.collect()


@sdk_test
async def test_openai_early_close_disconnects(base_url: str) -> None:
    DISCONNECTED.clear()
    async with openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        stream = await client.chat.completions.create(model="endless", **CHAT_REQUEST)
        source = token_source(stream)
        assert await source.__anext__() == "t0 "
        await source.aclose()
        assert stream.response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)
        del stream, source
    gc.collect()


@sdk_test
async def test_openai_sync_early_close_disconnects(base_url: str) -> None:
    DISCONNECTED.clear()
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        stream = await anyio.to_thread.run_sync(
            lambda: client.chat.completions.create(model="endless", **CHAT_REQUEST)
        )
        source = token_source(stream)
        assert [await source.__anext__() for _ in range(2)] == ["t0 ", "t1 "]
        await source.aclose()
        assert stream.response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)


async def cancel_while_reading(source: AsyncIterator[str]) -> list[str]:
    """Read ``source`` until the first delta, then cancel while the next read waits."""
    received: list[str] = []
    first = anyio.Event()

    async def consume() -> None:
        async for delta in source:
            received.append(delta)
            first.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await first.wait()
        await anyio.sleep(0.05)  # the consumer is back in the blocking read by now
        tg.cancel_scope.cancel()
    return received


@sdk_test
async def test_openai_sync_cancelled_while_the_server_stalls(base_url: str) -> None:
    # The worker thread is blocked on the socket when the cancellation comes: it must not
    # hold the cancellation up, and closing must still end the request (the server sees
    # the disconnect; a plain close() from another thread would not get that far).
    DISCONNECTED.clear()
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as client:
        stream = await anyio.to_thread.run_sync(
            lambda: client.chat.completions.create(model="stall", **CHAT_REQUEST)
        )
        source = token_source(stream)
        assert await cancel_while_reading(source) == ["only "]
        await source.aclose()
        assert stream.response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)


# ------------------------------------------------------------------ Anthropic SDK ------


@sdk_test
async def test_anthropic_async_messages(base_url: str) -> None:
    request: dict[str, Any] = {
        "model": "claude-test",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk-ant-test") as client:
        stream = await client.messages.create(stream=True, **request)
        assert await collect(token_source(stream)) == TOKENS_WITHOUT_EMPTY
        # The helper stream repeats each text delta as a "text" event: read once only.
        async with client.messages.stream(**request) as helper:
            assert await collect(token_source(helper)) == TOKENS_WITHOUT_EMPTY
        del stream, helper
    gc.collect()


@sdk_test
async def test_anthropic_sync_messages(base_url: str) -> None:
    with anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test") as client:
        stream = await anyio.to_thread.run_sync(
            lambda: client.messages.create(
                model="claude-test",
                max_tokens=100,
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
            )
        )
        assert await collect(token_source(stream)) == TOKENS_WITHOUT_EMPTY


@sdk_test
async def test_anthropic_error_event_raised_by_the_sdk(base_url: str) -> None:
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk-ant-test") as client:
        stream = await client.messages.create(
            model="claude-error",
            max_tokens=100,
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        )
        with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
            await collect(token_source(stream))
        del stream
    gc.collect()


# ------------------------------------------------------------------ SDKs' raw responses


@sdk_test
async def test_the_sdks_raw_streaming_responses(base_url: str) -> None:
    # with_streaming_response hands out the SDK's own HTTP response (an httpx2.Response
    # for openai 3.x and anthropic 2.x), unparsed: token_source reads its SSE itself.
    async with (
        openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="sk-test") as oai,
        oai.chat.completions.with_streaming_response.create(model="chat", **CHAT_REQUEST) as raw,
    ):
        assert await collect(token_source(raw.http_response)) == TOKENS_WITHOUT_EMPTY
        assert raw.http_response.is_closed
    request: dict[str, Any] = {"model": "claude-test", "max_tokens": 100, "stream": True}
    async with (
        anthropic.AsyncAnthropic(base_url=base_url, api_key="sk-ant-test") as claude,
        claude.messages.with_streaming_response.create(
            messages=[{"role": "user", "content": "Hi"}], **request
        ) as raw_messages,
    ):
        response = raw_messages.http_response
        assert await collect(token_source(response)) == TOKENS_WITHOUT_EMPTY
        assert response.is_closed
    gc.collect()


# ------------------------------------------------------------------ httpx and httpx2 ---


@pytest.mark.parametrize("model", ["chat", "chat-crlf", "chat-plain"])
async def test_httpx_openai_compatible_sse(base_url: str, http: ModuleType, model: str) -> None:
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", "/v1/chat/completions", json={**CHAT_REQUEST, "model": model}) as r,
    ):
        assert await collect(token_source(r)) == TOKENS_WITHOUT_EMPTY
        assert r.is_closed


async def test_httpx_responses_and_anthropic_sse(base_url: str, http: ModuleType) -> None:
    async with http.AsyncClient(base_url=base_url) as client:
        for path in ("/v1/responses", "/v1/messages"):
            async with client.stream("POST", path, json={"model": "x"}) as response:
                assert await collect(token_source(response)) == TOKENS_WITHOUT_EMPTY


@pytest.mark.parametrize(
    ("path", "model", "message"),
    [
        ("/v1/chat/completions", "chat-error", r"^The model is overloaded\.$"),
        ("/v1/responses", "responses-error", r"^Responses failed\.$"),
        ("/v1/messages", "claude-error", r"^Overloaded$"),
        ("/api/chat", "missing", r"^model 'missing' not found$"),
        ("/v1/chat/completions", "unauthorized", r"^HTTP 401 Unauthorized: Incorrect API key"),
    ],
)
async def test_httpx_in_stream_errors(
    base_url: str, http: ModuleType, path: str, model: str, message: str
) -> None:
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", path, json={**CHAT_REQUEST, "model": model}) as response,
    ):
        with pytest.raises(SourceError, match=message):
            await collect(token_source(response))
        assert response.is_closed


async def test_httpx_connection_dropped_mid_stream(base_url: str, http: ModuleType) -> None:
    received: list[str] = []
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", "/drop/v1/chat/completions", json=CHAT_REQUEST) as response,
    ):
        with pytest.raises(http.RemoteProtocolError):
            await collect_into(received, token_source(response))
    assert received == CHAT_TOKENS[:2]


@pytest.mark.parametrize(("path", "format"), [("/api/chat", "auto"), ("/api/generate", "ndjson")])
async def test_httpx_ollama_ndjson(base_url: str, http: ModuleType, path: str, format: Any) -> None:
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", path, json={"model": "llama", "prompt": "Hi"}) as response,
    ):
        assert await collect(token_source(response, format=format)) == TOKENS_WITHOUT_EMPTY


async def test_httpx_early_close_disconnects(base_url: str, http: ModuleType) -> None:
    # Not filtered: over a real socket, closing early must leave no half-run async
    # generator behind (trio would report one as a ResourceWarning, an error here).
    DISCONNECTED.clear()
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", "/v1/chat/completions", json={"model": "endless"}) as response,
    ):
        source = token_source(response)
        assert [await source.__anext__() for _ in range(3)] == ["t0 ", "t1 ", "t2 "]
        await source.aclose()
        assert response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)
        del source
    gc.collect()


async def test_httpx_server_lingering_after_done(base_url: str, http: ModuleType) -> None:
    # The stream ends at [DONE] even though the server keeps the connection open; the
    # short drain then gives up and the connection is closed.
    DISCONNECTED.clear()
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", "/v1/chat/completions", json={"model": "chat-linger"}) as r,
    ):
        assert await collect(token_source(r)) == TOKENS_WITHOUT_EMPTY
        assert r.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)
    gc.collect()


async def test_httpx_cancelled_consumer_closes_response(base_url: str, http: ModuleType) -> None:
    DISCONNECTED.clear()
    received: list[str] = []
    async with (
        http.AsyncClient(base_url=base_url) as client,
        client.stream("POST", "/v1/chat/completions", json={"model": "endless"}) as response,
    ):
        with anyio.CancelScope() as scope:
            source = token_source(response)
            try:
                async for delta in source:
                    received.append(delta)
                    if len(received) == 2:
                        scope.cancel()
            finally:
                await source.aclose()
        assert scope.cancelled_caught
        assert response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)
    gc.collect()


async def test_sync_httpx_client_cancelled_while_the_server_stalls(
    base_url: str, http: ModuleType
) -> None:
    DISCONNECTED.clear()
    with http.Client(base_url=base_url) as client:
        request = client.build_request("POST", "/v1/chat/completions", json={"model": "stall"})
        response = await anyio.to_thread.run_sync(lambda: client.send(request, stream=True))
        source = token_source(response)
        assert await cancel_while_reading(source) == ["only "]
        await source.aclose()
        assert response.is_closed
        assert await anyio.to_thread.run_sync(DISCONNECTED.wait, 10)


async def test_sync_httpx_client(base_url: str, http: ModuleType) -> None:
    with http.Client(base_url=base_url) as client:
        request = client.build_request("POST", "/api/chat", json={"model": "llama"})
        response = await anyio.to_thread.run_sync(lambda: client.send(request, stream=True))
        # token_source reads a sync response in a worker thread, so the event loop stays
        # free while the socket blocks, and closes it (in a thread) at the end.
        assert await collect(token_source(response)) == TOKENS_WITHOUT_EMPTY
        assert response.is_closed
