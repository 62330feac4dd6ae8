"""LLM faults at the source layer: an httpx or httpx2 response read by ``token_source``.

``FaultServer`` plays an OpenAI-compatible chat-completions server that misbehaves.
Each test asserts: no text lost (what the server sent is what the consumer got, up to
the fault), no connection or half-run async generator left behind (the server saw the
request end, and ``AsyncGeneratorWatch`` finds no suspended generator once the block
returned), and a clear exception or event.

Leaving early (issue 10, item 3): whenever more body chunks are already buffered in the
client when the consumer leaves, a single read after closing the response does not
unwind httpx's chain of body generators; they must all be finished before the block
returns, on ``break``, a consumer that disconnects, a cancellation and an in-stream
error alike.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import anyio
import anyio.to_thread
import pytest
from faultkit import AsyncGeneratorWatch, Call, FaultServer, ServerDrop, serving

from e2estream import (
    DoneEvent,
    Event,
    SegmentEvent,
    SourceError,
    TokenEvent,
    stream_reply,
    token_source,
)
from e2estream.testing import FakeSynthesizer

pytestmark = pytest.mark.anyio

BURST = [f"token{i} " for i in range(60)]


def event(text: str) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


ERROR = b'data: {"error": {"message": "The model crashed.", "type": "server_error"}}\n\n'


class Burst:
    """Sends ``BURST`` (one write per event, all at once), then holds the connection open.

    ``sent`` is set once everything is written, so the test can make sure the events sit
    in the client's buffers before it starts reading.
    """

    def __init__(self, *, error_after: int | None = None) -> None:
        self.error_after = error_after
        self.sent = threading.Event()

    async def __call__(self, call: Call) -> None:
        await call.start(200, "text/event-stream")
        for i, token in enumerate(BURST):
            if i == self.error_after:
                await call.chunk(ERROR)
            await call.chunk(event(token))
        self.sent.set()
        await call.until_disconnect()


async def single(call: Call, body: bytes) -> None:
    await call.start(200, "text/event-stream")
    await call.end(body)


BIG_TOKEN = ("word " * 200_000)[:-1] + "."  # 1 MB without a sentence end until the last


async def big_token(call: Call) -> None:
    await single(call, event(BIG_TOKEN) + b"data: [DONE]\n\n")


async def no_text(call: Call) -> None:
    await single(call, b": keep-alive\n\ndata: [DONE]\n\n")


async def whitespace(call: Call) -> None:
    await single(call, event("   ") + event("\n\n\t") + b"data: [DONE]\n\n")


async def invalid_utf8(call: Call) -> None:
    # Bytes that are not UTF-8 inside the JSON string: \xff and a truncated sequence.
    body = b'data: {"choices": [{"index": 0, "delta": {"content": "Bad \xff byte \xe2\x82."}}]}\n\n'
    await single(call, body + b"data: [DONE]\n\n")


CONTROL_TEXT = "Red \x1b[31malert\x1b[0m now.\x00 Bell\x07 and DEL\x7f here. Broken \ud83d emoji."


async def control_characters(call: Call) -> None:
    # json.dumps escapes the controls and the lone surrogate as \u sequences, which is
    # how a JSON API can deliver them.
    await single(call, event(CONTROL_TEXT) + b"data: [DONE]\n\n")


async def drop_mid_stream(call: Call) -> None:
    await call.start(200, "text/event-stream")
    await call.chunk(event("Half a ") + event("reply"))
    raise ServerDrop


async def stall(call: Call) -> None:
    await call.start(200, "text/event-stream")
    await call.chunk(event("Then silence"))
    await call.until_disconnect()


async def proxy_error(call: Call) -> None:
    await call.start(502, "text/plain")
    await call.end(b"upstream https://svc:hunter22@llm.internal/v1?api_key=sk-leak failed")


BURSTS = {"burst": Burst(), "burst-error": Burst(error_after=3)}

HANDLERS: dict[str, Any] = {
    **BURSTS,
    "big-token": big_token,
    "no-text": no_text,
    "whitespace": whitespace,
    "invalid-utf8": invalid_utf8,
    "controls": control_characters,
    "drop": drop_mid_stream,
    "stall": stall,
    "proxy-error": proxy_error,
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serving(FaultServer(HANDLERS)) as running:
        yield running


async def wait_sent(fault: str) -> None:
    burst = BURSTS[fault]
    assert await anyio.to_thread.run_sync(burst.sent.wait, 10)
    burst.sent.clear()


async def check_request_ended(server: FaultServer, run: str, outcome: str) -> None:
    outcomes = await anyio.to_thread.run_sync(server.logs[run].wait_outcomes, 1)
    assert outcomes == [outcome]


# --- leaving early with chunks buffered (item 3) -------------------------------------------


async def test_break_with_chunks_buffered_finishes_every_generator(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/burst/v1/chat/completions", json={}) as response,
    ):
        await wait_sent("burst")
        with AsyncGeneratorWatch() as watch:
            source = token_source(response)
            received = []
            async for delta in source:
                received.append(delta)
                if len(received) == 2:
                    break
            await source.aclose()
            assert watch.suspended() == []
        assert received == BURST[:2]
        assert response.is_closed
    await check_request_ended(server, run, "client-left")


async def test_cancel_with_chunks_buffered_finishes_every_generator(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/burst/v1/chat/completions", json={}) as response,
    ):
        await wait_sent("burst")
        received: list[str] = []
        with AsyncGeneratorWatch() as watch:
            with anyio.CancelScope() as scope:
                source = token_source(response)
                try:
                    async for delta in source:
                        received.append(delta)
                        scope.cancel()
                finally:
                    await source.aclose()
            assert scope.cancelled_caught
            assert watch.suspended() == []
        assert received == BURST[:1]
    await check_request_ended(server, run, "client-left")


async def test_in_stream_error_with_chunks_buffered(http: ModuleType, server: FaultServer) -> None:
    run = server.new_run()
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/burst-error/v1/chat/completions", json={}) as response,
    ):
        await wait_sent("burst-error")
        received: list[str] = []
        with AsyncGeneratorWatch() as watch:
            source = token_source(response)
            with pytest.raises(SourceError, match="The model crashed"):
                async for delta in source:
                    received.append(delta)
            assert watch.suspended() == []
        assert received == BURST[:3]
    await check_request_ended(server, run, "client-left")


class ConsumerGone(Exception):
    """The host's transport to the listener failed (a WebSocket that closed)."""


async def test_consumer_disconnect_through_stream_reply(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    events: list[Event] = []
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0)
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/burst/v1/chat/completions", json={}) as response,
    ):
        await wait_sent("burst")
        with AsyncGeneratorWatch() as watch:
            with pytest.raises(ConsumerGone):
                async with stream_reply(response, tts) as stream:
                    async for item in stream:
                        events.append(item)
                        if isinstance(item, TokenEvent) and item.offset > 0:
                            raise ConsumerGone
            assert watch.suspended() == []
        assert response.is_closed
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert tokens == BURST[: len(tokens)]
    assert tts.statistics.open_streams == 0
    await check_request_ended(server, run, "client-left")


# --- LLM faults ----------------------------------------------------------------------------


async def reply_through_pipeline(
    http: ModuleType, server: FaultServer, fault: str
) -> tuple[list[Event], str]:
    run = server.new_run()
    events: list[Event] = []
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0, chars_per_second=1e6)
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/{fault}/v1/chat/completions", json={}) as response,
    ):
        with AsyncGeneratorWatch() as watch:
            async with stream_reply(response, tts) as stream:
                async for item in stream:
                    events.append(item)
            assert watch.suspended() == []
    await check_request_ended(server, run, "complete")
    assert tts.statistics.open_streams == 0
    return events, run


def tokens_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent))


async def test_a_one_megabyte_token_arrives_whole(http: ModuleType, server: FaultServer) -> None:
    run = server.new_run()
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/big-token/v1/chat/completions", json={}) as response,
    ):
        with AsyncGeneratorWatch() as watch:
            source = token_source(response)
            deltas = [delta async for delta in source]
            assert watch.suspended() == []
    assert deltas == [BIG_TOKEN]
    await check_request_ended(server, run, "complete")


@pytest.mark.parametrize("fault", ["no-text", "whitespace"])
async def test_no_speakable_text_is_a_complete_empty_reply(
    http: ModuleType, server: FaultServer, fault: str
) -> None:
    events, _ = await reply_through_pipeline(http, server, fault)
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.text == ("" if fault == "no-text" else "   \n\n\t")
    assert [e for e in events if isinstance(e, SegmentEvent)] == []


async def test_invalid_utf8_becomes_replacement_characters(
    http: ModuleType, server: FaultServer
) -> None:
    events, _ = await reply_through_pipeline(http, server, "invalid-utf8")
    # Nothing is dropped silently: each invalid sequence is one visible U+FFFD.
    assert tokens_of(events) == "Bad \ufffd byte \ufffd."


async def test_control_characters_and_surrogates_never_reach_the_tts(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    tts = FakeSynthesizer(ttfb=0, realtime_factor=0, chars_per_second=1e6)
    events: list[Event] = []
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/controls/v1/chat/completions", json={}) as response,
        stream_reply(response, tts) as stream,
    ):
        async for item in stream:
            events.append(item)
    # The display text is the reply exactly as the LLM wrote it...
    assert tokens_of(events) == CONTROL_TEXT
    segments = [e.segment for e in events if isinstance(e, SegmentEvent)]
    assert "".join(s.text for s in segments).replace(" ", "") == CONTROL_TEXT.replace(" ", "")
    # ...and the TTS got the words only (the NUL after "now." hides that sentence end
    # from the segmenter, which sees the display text).
    assert " ".join(tts.statistics.texts) == "Red alert now. Bell and DEL here. Broken emoji."
    await check_request_ended(server, run, "complete")


async def test_connection_dropped_mid_stream_raises_after_the_text_so_far(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    events: list[Event] = []
    async with http.AsyncClient(base_url=server.url) as client:
        with AsyncGeneratorWatch() as watch:
            async with client.stream("POST", f"/{run}/drop/v1/chat/completions", json={}) as r:
                with pytest.raises(http.RemoteProtocolError):
                    async with stream_reply(r, FakeSynthesizer(ttfb=0)) as stream:
                        async for item in stream:
                            events.append(item)
            assert watch.suspended() == []
    assert tokens_of(events) == "Half a reply"
    await check_request_ended(server, run, "dropped")


async def test_a_stalled_llm_can_be_given_up_on(http: ModuleType, server: FaultServer) -> None:
    run = server.new_run()
    events: list[Event] = []
    async with http.AsyncClient(base_url=server.url) as client:
        with AsyncGeneratorWatch() as watch:
            async with client.stream("POST", f"/{run}/stall/v1/chat/completions", json={}) as r:
                with anyio.move_on_after(0.3) as scope:
                    async with stream_reply(r, FakeSynthesizer(ttfb=0)) as stream:
                        async for item in stream:
                            events.append(item)
            assert watch.suspended() == []
    assert scope.cancelled_caught
    assert tokens_of(events) == "Then silence"
    await check_request_ended(server, run, "client-left")


async def test_an_http_error_names_the_status_and_hides_credentials(
    http: ModuleType, server: FaultServer
) -> None:
    run = server.new_run()
    async with (
        http.AsyncClient(base_url=server.url) as client,
        client.stream("POST", f"/{run}/proxy-error/v1/chat/completions", json={}) as response,
    ):
        with pytest.raises(SourceError) as info:
            async for _ in token_source(response):
                pass
    message = str(info.value)
    assert message.startswith("HTTP 502 Bad Gateway: upstream https://***@llm.internal/v1")
    assert "api_key=***" in message
    assert "hunter22" not in message
    assert "sk-leak" not in message
    await check_request_ended(server, run, "complete")
