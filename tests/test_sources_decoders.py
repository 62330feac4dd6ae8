"""Fast unit tests of the token-source core: the SSE and NDJSON decoders, the delta
extraction for every provider shape, and ``token_source``'s detection rules.

HTTP here goes through httpx's and httpx2's ``MockTransport``; the real-socket tests with
the real SDK clients are in ``test_sources_live.py``.
"""

from __future__ import annotations

import gc
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import anyio
import pytest
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from e2estream import SourceError, token_source
from e2estream._ndjson import NDJSONDecoder
from e2estream._sources_deltas import NDJSONDeltas, SniffingDeltas, SSEDeltas
from e2estream._sse import ServerSentEvent, SSEDecoder

pytestmark = pytest.mark.anyio


def feed_all(decoder: Any, chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.finish())
    return out


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def chat_chunk(content: str | None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def sse(*payloads: Any, newline: str = "\n") -> bytes:
    out = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        out.append(f"data: {data}{newline}{newline}")
    return "".join(out).encode()


# ------------------------------------------------------------------ SSEDecoder ---------


def test_sse_decoder_fields_comments_and_multiline_data() -> None:
    body = (
        b": keep-alive\n"
        b"retry: 1500\n"
        b"event: delta\n"
        b"id: 7\n"
        b"data: first\n"
        b"data:second\n"
        b"unknown: ignored\n"
        b"\n"
        b"data\n"  # a field name alone: empty value
        b"\n"
        b"event: lonely\n"  # no data: not dispatched, type resets
        b"\n"
        b"data: after\n\n"
    )
    assert feed_all(SSEDecoder(), [body]) == [
        ServerSentEvent(data="first\nsecond", event="delta", id="7", retry=1500),
        ServerSentEvent(data="", id="7"),
        ServerSentEvent(data="after", id="7"),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_sse_decoder_line_endings(newline: str) -> None:
    body = f"data: a{newline}data: b{newline}{newline}data: c{newline}{newline}".encode()
    expected = [ServerSentEvent(data="a\nb"), ServerSentEvent(data="c")]
    assert feed_all(SSEDecoder(), [body]) == expected
    # Byte by byte: every CR of a CRLF arrives alone, the LF in the next chunk.
    assert feed_all(SSEDecoder(), split_every(body, 1)) == expected


def test_sse_decoder_utf8_split_and_bom() -> None:
    body = "\ufeffdata: 👋 grüße\n\n".encode()
    expected = [ServerSentEvent(data="👋 grüße")]
    for cut in range(1, len(body)):
        assert feed_all(SSEDecoder(), split_at(body, [cut])) == expected


def test_sse_decoder_does_not_split_on_unicode_line_separators() -> None:
    body = "data: a\u2028b\x0cc\x1cd\n\n".encode()
    assert feed_all(SSEDecoder(), [body]) == [ServerSentEvent(data="a\u2028b\x0cc\x1cd")]


def test_sse_decoder_dispatches_pending_event_at_end_of_stream() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: no blank line") == []
    assert decoder.finish() == [ServerSentEvent(data="no blank line")]


def test_sse_decoder_long_line_in_many_chunks() -> None:
    text = "x" * 100_000
    body = f"data: {text}\n\n".encode()
    assert feed_all(SSEDecoder(), split_every(body, 7)) == [ServerSentEvent(data=text)]


# ------------------------------------------------------------------ NDJSONDecoder ------


def test_ndjson_decoder_lines_crlf_blank_and_last_line_without_newline() -> None:
    body = b'{"a": 1}\r\n\n  \n{"b": "\xc3\xa9"}\n{"c": 3}'
    assert feed_all(NDJSONDecoder(), split_every(body, 3)) == [{"a": 1}, {"b": "é"}, {"c": 3}]


def test_ndjson_decoder_invalid_line_raises_source_error() -> None:
    with pytest.raises(SourceError, match="not JSON"):
        NDJSONDecoder().feed(b'{"a": 1}\n<html>\n')


def test_ndjson_decoder_multiline_document() -> None:
    body = b'{\n  "message": {"content": "hi"},\n  "done": true\n}\n{"x": 1}\n'
    assert feed_all(NDJSONDecoder(multiline=True), split_every(body, 4)) == [
        {"message": {"content": "hi"}, "done": True},
        {"x": 1},
    ]
    with pytest.raises(SourceError, match="ended inside a JSON value"):
        feed_all(NDJSONDecoder(multiline=True), [b'{\n  "a": '])


# ------------------------------------------------------------------ SSE deltas ---------

OPENAI_SSE = (
    b": keep-alive\n\n"
    + sse(
        chat_chunk("", role="assistant"),  # role-only
        {"id": "x", "choices": [], "prompt_filter_results": []},  # empty choices (Azure)
        chat_chunk("Hel"),
        chat_chunk("lo, wörld 👋\n\n  "),  # text is never altered: newlines, spaces
        chat_chunk(None, tool_calls=[{"index": 0, "function": {"arguments": '{"a'}}]),
        chat_chunk("日本語。"),
        {"id": "x", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}},
    )
    + b": ping\n\n"
    + sse("[DONE]")
)
OPENAI_DELTAS = ["Hel", "lo, wörld 👋\n\n  ", "日本語。"]


def test_sse_deltas_openai_chat_chunks() -> None:
    assert feed_all(SSEDeltas(), [OPENAI_SSE]) == OPENAI_DELTAS


def test_sse_deltas_stop_at_done() -> None:
    decoder = SSEDeltas()
    assert decoder.feed(sse(chat_chunk("a"), "[DONE]", chat_chunk("after"))) == ["a"]
    assert decoder.done
    assert decoder.finish() == []


def test_sse_deltas_multiline_json_event() -> None:
    payload = json.dumps(chat_chunk("split"), indent=1).replace("\n", "\ndata: ")
    assert feed_all(SSEDeltas(), [f"data: {payload}\n\n".encode()]) == ["split"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (sse({"error": {"message": "Rate limit reached", "type": "rate_limit"}}), "Rate limit"),
        (sse({"error": "model crashed"}), "model crashed"),
        (b'event: error\ndata: {"message": "vLLM says no"}\n\n', "vLLM says no"),
        (b"event: error\ndata: plain text failure\n\n", "plain text failure"),
        (
            b'event: error\ndata: {"type": "error", "error": '
            b'{"type": "overloaded_error", "message": "Overloaded"}}\n\n',
            "Overloaded",
        ),
        (sse({"type": "error", "code": "server_error", "message": "Responses boom"}), "boom"),
        (
            sse({"type": "response.failed", "response": {"error": {"message": "failed!"}}}),
            "failed!",
        ),
        (b"data: not json\n\n", "not JSON"),
        (sse({"object": "error", "message": "bad request", "code": 400}), "bad request"),
    ],
)
def test_sse_deltas_in_stream_errors(body: bytes, message: str) -> None:
    decoder = SSEDeltas()
    assert decoder.feed(sse(chat_chunk("before"))) == ["before"]
    with pytest.raises(SourceError, match=message):
        feed_all(decoder, [body])


def test_sse_deltas_error_null_is_not_an_error() -> None:
    chunk = {**chat_chunk("ok"), "error": None}
    assert feed_all(SSEDeltas(), [sse(chunk)]) == ["ok"]


def test_sse_deltas_anthropic_raw_events() -> None:
    body = (
        b"event: message_start\n"
        b'data: {"type": "message_start", "message": {"content": [], "role": "assistant"}}\n\n'
        b"event: content_block_start\n"
        b'data: {"type": "content_block_start", "index": 0, '
        b'"content_block": {"type": "text", "text": ""}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type": "content_block_delta", "index": 0, '
        b'"delta": {"type": "text_delta", "text": "Hi there"}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type": "content_block_delta", "index": 1, '
        b'"delta": {"type": "input_json_delta", "partial_json": "{\\"a"}}\n\n'
        b"event: content_block_delta\n"
        b'data: {"type": "content_block_delta", "index": 2, '
        b'"delta": {"type": "thinking_delta", "thinking": "hmm"}}\n\n'
        b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    assert feed_all(SSEDeltas(), split_every(body, 11)) == ["Hi there"]


def test_sse_deltas_responses_api_events() -> None:
    body = sse(
        {"type": "response.created", "response": {"id": "r", "output": []}},
        {"type": "response.reasoning_summary_text.delta", "delta": "thinking"},
        {"type": "response.output_text.delta", "delta": "Hello"},
        {"type": "response.refusal.delta", "delta": "no"},
        {"type": "response.output_text.delta", "delta": " there"},
        {"type": "response.output_text.done", "text": "Hello there"},
        {"type": "response.completed", "response": {"id": "r", "error": None}},
    )
    assert feed_all(SSEDeltas(), [body]) == ["Hello", " there"]


def test_sse_deltas_legacy_completions_and_other_choices() -> None:
    body = sse(
        {"choices": [{"index": 0, "text": "legacy"}]},
        {"choices": [{"index": 1, "delta": {"content": "second choice"}}]},
    )
    assert feed_all(SSEDeltas(), [body]) == ["legacy"]


chunk_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=12)


@given(
    tokens=st.lists(chunk_text, max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=40),
    keepalive=st.booleans(),
)
def test_sse_any_chunking_gives_the_same_deltas(
    tokens: list[str], newline: str, cuts: list[int], keepalive: bool
) -> None:
    events = []
    for token in tokens:
        if keepalive:
            events.append(f": keep-alive{newline}{newline}")
        payload = json.dumps(chat_chunk(token), ensure_ascii=False)
        events.append(f"data: {payload}{newline}{newline}")
    body = ("".join(events) + f"data: [DONE]{newline}{newline}").encode()
    expected = [token for token in tokens if token]
    assert feed_all(SSEDeltas(), [body]) == expected
    assert feed_all(SSEDeltas(), split_at(body, cuts)) == expected


@given(
    tokens=st.lists(chunk_text, max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=30),
)
async def test_token_source_any_chunking_gives_the_same_deltas(
    tokens: list[str], cuts: list[int]
) -> None:
    # The same property end to end, through the async shell and with CRLF line endings.
    body = sse(*(chat_chunk(t) for t in tokens), "[DONE]", newline="\r\n")
    chunks = split_at(body, cuts)
    deltas = await collect(token_source(agen(chunks), format="sse"))
    assert deltas == [token for token in tokens if token]


@given(
    tokens=st.lists(chunk_text, max_size=12),
    cuts=st.lists(st.integers(min_value=1, max_value=3000), max_size=40),
)
def test_ndjson_any_chunking_gives_the_same_deltas(tokens: list[str], cuts: list[int]) -> None:
    lines = [
        json.dumps({"message": {"role": "assistant", "content": t}, "done": False}) for t in tokens
    ]
    body = ("\n".join([*lines, '{"done": true}']) + "\n").encode()
    expected = [token for token in tokens if token]
    assert feed_all(NDJSONDeltas(), split_at(body, cuts)) == expected


# ------------------------------------------------------------------ NDJSON deltas ------


def test_ndjson_deltas_ollama_chat_generate_and_done() -> None:
    body = (
        b'{"message": {"role": "assistant", "content": "Hi"}, "done": false}\n'
        b'{"message": {"role": "assistant", "content": "", "thinking": "hmm"}, "done": false}\n'
        b'{"message": {"role": "assistant", "content": "", "tool_calls": [{}]}, "done": false}\n'
        b'{"response": " there", "done": false}\n'
        b'{"message": {"role": "assistant", "content": ""}, "done": true}\n'
        b'{"response": "after done"}\n'
    )
    decoder = NDJSONDeltas()
    assert feed_all(decoder, [body]) == ["Hi", " there"]
    assert decoder.done


def test_ndjson_deltas_error() -> None:
    with pytest.raises(SourceError, match="model 'x' not found"):
        feed_all(NDJSONDeltas(), [b'{"response": "a"}\n{"error": "model \'x\' not found"}\n'])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\n: hello\n\n" + sse(chat_chunk("sse")), ["sse"]),
        (b"\r\nevent: x\r\n" + sse(chat_chunk("sse2"), newline="\r\n"), ["sse2"]),
        (b'\n{"response": "nd"}\n{"response": "json"}', ["nd", "json"]),
        (b"", []),
    ],
)
def test_sniffing_picks_the_format(body: bytes, expected: list[str]) -> None:
    assert feed_all(SniffingDeltas("text/plain"), split_every(body, 3)) == expected
    assert feed_all(SniffingDeltas("text/plain"), [body]) == expected


def test_sniffing_rejects_an_unknown_format() -> None:
    with pytest.raises(SourceError, match="format='sse'"):
        feed_all(SniffingDeltas("text/html"), [b"<html><body>Bad gateway</body></html>\n"])


# ------------------------------------------------------------------ token_source -------


def is_closed(response: Any) -> bool:
    return bool(response.is_closed)


async def collect(source: AsyncIterator[str]) -> list[str]:
    return [delta async for delta in source]


@dataclass
class Obj:
    """A shape-only stand-in built from keyword attributes."""

    attrs: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.attrs[name]
        except KeyError:
            raise AttributeError(name) from None


def o(**attrs: Any) -> Obj:
    return Obj(attrs)


def openai_chunk(content: str | None, index: int = 0) -> Obj:
    return o(choices=[o(index=index, delta=o(content=content, role=None, tool_calls=None))])


async def agen(items: list[Any], closed: list[bool] | None = None) -> AsyncIterator[Any]:
    try:
        for item in items:
            yield item
    finally:
        if closed is not None:
            closed.append(True)


async def test_str_sources_unchanged() -> None:
    assert await collect(token_source(["a", "", " b\n"])) == ["a", " b\n"]
    assert await collect(token_source(agen(["x", "y"]))) == ["x", "y"]


async def test_sdk_shaped_chunks() -> None:
    items = [
        openai_chunk(""),
        openai_chunk(None),
        o(choices=[]),
        openai_chunk("A"),
        openai_chunk("ignored", index=1),
        o(type="response.output_text.delta", delta="B"),
        o(type="response.created", response=o(id="r")),
        o(type="content_block_delta", delta=o(type="text_delta", text="C")),
        o(type="content_block_delta", delta=o(type="input_json_delta", partial_json="{")),
        o(type="text", text="C", snapshot="C"),  # Anthropic helper event: a repeat
        o(type="message_start", message=o(content=[])),
        o(type="AIMessageChunk", content="D"),  # LangChain
        o(content=[{"type": "text", "text": "E"}, {"type": "tool_use", "id": "t"}]),
        o(message=o(role="assistant", content="F")),  # Ollama client ChatResponse
        o(response="G", done=False),  # Ollama client GenerateResponse
        {"choices": [{"index": 0, "delta": {"content": "H"}}]},  # a parsed JSON chunk
    ]
    assert await collect(token_source(agen(items))) == list("ABCDEFGH")
    assert await collect(token_source(items)) == list("ABCDEFGH")


async def test_more_chunk_shapes() -> None:
    items = [
        o(choices=[o(index=0, text="A")]),  # legacy completions
        o(content=["B", o(type="text", text="C"), o(type="image", url="x")]),
        {"content": "D"},
        {"type": "response.output_text.delta", "delta": "E"},
        [1, 2],  # a JSON array on the wire: skipped
    ]
    assert await collect(token_source(agen(items[:4]))) == ["A", "BC", "D", "E"]
    assert feed_all(SSEDeltas(), [sse(items[3], [1, 2], 42)]) == ["E"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (o(type="response.failed", response=o(error=o(message="quota"))), "quota"),
        (o(type="error", error=o(type="overloaded", message="busy")), "busy"),
        (o(type="error", error={"code": 7}), '{"code": 7}'),
    ],
)
async def test_sdk_shaped_failures(item: Obj, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        await collect(token_source([item]))


def test_event_error_with_a_non_object_payload() -> None:
    with pytest.raises(SourceError, match="oops"):
        feed_all(SSEDeltas(), [b'event: error\ndata: "oops"\n\n'])


async def test_http_error_with_a_plain_text_body(http: ModuleType) -> None:
    async with (
        mock_client(http, b"upstream timed out\n", "text/plain", status=504) as client,
        client.stream("POST", "http://llm/v1/chat/completions") as response,
    ):
        with pytest.raises(SourceError, match=r"^HTTP 504 Gateway Timeout: upstream timed out$"):
            await collect(token_source(response))


async def test_sdk_shaped_error_event() -> None:
    items = [
        o(type="response.output_text.delta", delta="A"),
        o(type="error", message="server overloaded", code="x"),
    ]
    source = token_source(agen(items))
    assert await source.__anext__() == "A"
    with pytest.raises(SourceError, match="server overloaded"):
        await source.__anext__()


@pytest.mark.parametrize("obj", ["text", b"bytes", 42, object()])
def test_unknown_objects_raise_type_error_listing_accepted(obj: object) -> None:
    with pytest.raises(TypeError, match=r"httpx\.Response.*LangChain"):
        token_source(obj)


def test_context_manager_hint() -> None:
    class Manager:
        async def __aenter__(self) -> None: ...

        async def __aexit__(self, *args: object) -> None: ...

    with pytest.raises(TypeError, match=r"enter it first \(async with"):
        token_source(Manager())

    class SyncManager:
        def __enter__(self) -> None: ...

        def __exit__(self, *args: object) -> None: ...

    with pytest.raises(TypeError, match=r"enter it first \(with"):
        token_source(SyncManager())


def test_bad_format_raises_value_error() -> None:
    with pytest.raises(ValueError, match="format"):
        token_source([], format="xml")  # type: ignore[arg-type]


async def test_unknown_item_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"cannot read an item.*int"):
        await collect(token_source(agen(["ok", 3])))
    with pytest.raises(TypeError, match=r"pass the httpx\.Response itself"):
        await collect(token_source(agen([b"data: x\n\n"])))


async def test_early_close_closes_upstream() -> None:
    closed: list[bool] = []
    source = token_source(agen(["a", "b", "c"], closed))
    assert await source.__anext__() == "a"
    await source.aclose()
    assert closed == [True]


async def test_close_only_stream_is_closed() -> None:
    # The Anthropic SDK's AsyncStream has an async close() and no aclose().
    class CloseOnly:
        closed = False

        def __init__(self) -> None:
            self._items = agen(["a", "b"])

        def __aiter__(self) -> AsyncIterator[str]:
            return self._items

        async def close(self) -> None:
            self.closed = True
            await self._items.aclose()  # type: ignore[attr-defined]

    stream = CloseOnly()
    source = token_source(stream)
    assert await source.__anext__() == "a"
    await source.aclose()
    assert stream.closed


async def test_bytes_with_forced_format() -> None:
    body = OPENAI_SSE
    assert await collect(token_source(agen(split_every(body, 5)), format="sse")) == OPENAI_DELTAS
    assert await collect(token_source(split_every(body, 5), format="sse")) == OPENAI_DELTAS
    nd = b'{"response": "a"}\n{"response": "b"}\n'
    assert await collect(token_source(agen([nd]), format="ndjson")) == ["a", "b"]
    with pytest.raises(TypeError, match="reads bytes"):
        await collect(token_source(agen(["str"]), format="sse"))


# ---------------------------------------------- MockTransport, of httpx and of httpx2


def mock_client(
    http: ModuleType, body: bytes, content_type: str | None, status: int = 200, chunk: int = 3
) -> Any:
    async def stream() -> AsyncIterator[bytes]:
        for piece in split_every(body, chunk):
            yield piece

    def handler(request: Any) -> Any:
        headers = {"content-type": content_type} if content_type else {}
        return http.Response(status, headers=headers, content=stream())

    return http.AsyncClient(transport=http.MockTransport(handler))


@pytest.mark.parametrize(
    ("content_type", "format"),
    [
        ("text/event-stream; charset=utf-8", "auto"),
        (None, "auto"),  # sniffed
        ("application/json", "auto"),  # sniffed: a proxy mislabelling SSE
        ("text/plain", "auto"),  # sniffed
        ("application/json", "sse"),  # forced
    ],
)
async def test_httpx_response_sse(http: ModuleType, content_type: str | None, format: Any) -> None:
    async with (
        mock_client(http, OPENAI_SSE, content_type) as client,
        client.stream("POST", "http://llm/v1/chat/completions") as response,
    ):
        assert await collect(token_source(response, format=format)) == OPENAI_DELTAS
        assert response.is_closed


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/json", None])
async def test_httpx_response_ndjson(http: ModuleType, content_type: str | None) -> None:
    body = b'{"message": {"content": "a"}, "done": false}\n{"message": {"content": "b"}}\n'
    async with (
        mock_client(http, body, content_type) as client,
        client.stream("POST", "http://llm/api/chat") as response,
    ):
        assert await collect(token_source(response)) == ["a", "b"]


async def test_httpx_response_already_read(http: ModuleType) -> None:
    body = json.dumps({"choices": [{"index": 0, "message": {"content": "whole"}}]}, indent=2)
    async with mock_client(http, body.encode(), "application/json") as client:
        response = await client.post("http://llm/v1/chat/completions")
        assert await collect(token_source(response)) == ["whole"]


async def test_httpx_error_status_raises_with_server_message(http: ModuleType) -> None:
    body = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request"}}'
    async with (
        mock_client(http, body, "application/json", status=401) as client,
        client.stream("POST", "http://llm/v1/chat/completions") as response,
    ):
        with pytest.raises(SourceError, match=r"^HTTP 401 Unauthorized: Incorrect API key"):
            await collect(token_source(response))
        assert response.is_closed


# MockTransport's body stream ignores aclose(), so httpx's inner generators stay
# suspended after an early close and trio reports them when they are collected. Over a
# real socket token_source finishes them (test_sources_live.py checks that, unfiltered).
@pytest.mark.filterwarnings("ignore:Async generator 'httpx\\.:ResourceWarning")
@pytest.mark.filterwarnings("ignore:Async generator 'httpx2\\.:ResourceWarning")
async def test_httpx_early_close_closes_response(http: ModuleType) -> None:
    async with (
        mock_client(http, OPENAI_SSE, "text/event-stream", chunk=len(OPENAI_SSE)) as client,
        client.stream("POST", "http://llm/v1/chat/completions") as response,
    ):
        source = token_source(response)
        assert await source.__anext__() == "Hel"
        assert not is_closed(response)
        await source.aclose()
        assert response.is_closed
    del source, response
    gc.collect()  # while the filter above is in force


def test_sync_httpx_response(http: ModuleType) -> None:
    import anyio

    def handler(request: Any) -> Any:
        def body() -> Iterator[bytes]:
            yield from split_every(OPENAI_SSE, 4)

        return http.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    with (
        http.Client(transport=http.MockTransport(handler)) as client,
        client.stream("POST", "http://llm/v1/chat/completions") as response,
    ):
        # Sync responses block on the socket; they are read in a worker thread (no
        # ``response`` attribute on an httpx.Response, so detection is by its stream).
        assert anyio.run(collect, token_source(response)) == OPENAI_DELTAS
        assert response.is_closed


def test_an_error_body_that_never_ends_is_given_up(http: ModuleType) -> None:
    # A server that answers an error status and then stalls its body: the message read
    # is bounded (5 s), so the status still surfaces, with the part of the body read.
    async def stalled() -> AsyncIterator[bytes]:
        yield b'{"error": {"message": "over'
        await anyio.sleep_forever()

    def handler(request: Any) -> Any:
        return http.Response(503, headers={"content-type": "application/json"}, content=stalled())

    async def main() -> tuple[str, float]:
        async with (
            http.AsyncClient(transport=http.MockTransport(handler)) as client,
            client.stream("POST", "http://llm/v1/chat/completions") as response,
        ):
            started = anyio.current_time()
            with pytest.raises(SourceError) as info:
                await collect(token_source(response))
            return str(info.value), anyio.current_time() - started

    clock = trio.testing.MockClock(autojump_threshold=0)
    message, took = anyio.run(main, backend="trio", backend_options={"clock": clock})
    assert message == 'HTTP 503 Service Unavailable: {"error": {"message": "over'
    assert took == pytest.approx(5.0)


def as_object(value: Any) -> Any:
    """The SDK-object form of a parsed JSON value: mappings become attribute objects."""
    if isinstance(value, dict):
        return Obj({key: as_object(item) for key, item in value.items()})
    if isinstance(value, list):
        return [as_object(item) for item in value]
    return value


WIRE_CHUNKS: list[dict[str, Any]] = [
    {"choices": [{"index": 0, "delta": {"content": "chat"}}]},
    {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
    {"choices": [{"index": 1, "delta": {"content": "n=2"}}, {"index": 0, "delta": {}}]},
    {"choices": [{"index": 0, "message": {"content": "a whole reply"}}]},
    {"choices": [{"index": 0, "text": "legacy"}]},
    {"choices": []},
    {"type": "response.output_text.delta", "delta": "responses"},
    {"type": "response.completed", "response": {"status": "completed"}},
    {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "claude"}},
    {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": "{"}},
    {"type": "message_start", "message": {"content": []}},
    {"message": {"role": "assistant", "content": "ollama chat"}, "done": False},
    {"response": "ollama generate", "done": False},
    {"content": "langchain"},
    {"content": [{"type": "text", "text": "block"}, {"type": "tool_use", "id": "t"}, "s"]},
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    {"type": "error", "message": "responses error", "code": "x"},
    {"type": "response.failed", "response": {"error": {"message": "it failed"}}},
    {"error": {"message": "vLLM error"}},
    {"object": "error", "message": "object error"},
]


async def outcome(chunk: Any) -> list[str] | str:
    try:
        return await collect(token_source([chunk]))
    except SourceError as exc:
        return f"SourceError: {exc}"


@pytest.mark.parametrize("chunk", WIRE_CHUNKS)
async def test_a_chunk_reads_the_same_as_json_and_as_an_sdk_object(chunk: dict[str, Any]) -> None:
    # One table of shapes serves both: the parsed JSON of a wire chunk and the SDK object
    # with the same fields give the same text, or the same error.
    assert await outcome(chunk) == await outcome(as_object(chunk))
