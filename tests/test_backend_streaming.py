"""ElevenLabs, Cartesia and Deepgram streaming backends against local servers, real sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from e2estream import (
    AudioEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    SegmentDoneEvent,
    SegmentEvent,
    StreamingSynthesizer,
    TTSAuthenticationError,
    stream_reply,
)
from e2estream.backends.cartesia import CartesiaSpeech
from e2estream.backends.deepgram import DeepgramSpeech
from e2estream.backends.elevenlabs_streaming import ElevenLabsStreamingSpeech
from e2estream.testing import scripted_tokens
from live_server import live_server
from ws_services import (
    Faults,
    Recorder,
    cartesia_app,
    deepgram_app,
    elevenlabs_app,
    pcm,
)

KEY = "sk-test-5ecret-k3y"
REPLY = "The museum opens at nine. Tickets cost twelve euros. Tours start every hour."
SENTENCES = [
    "The museum opens at nine. ",
    "Tickets cost twelve euros. ",
    "Tours start every hour. ",
]


@dataclass(frozen=True)
class Service:
    name: str
    app: Callable[[Recorder], Any]
    backend: Callable[[str], StreamingSynthesizer]
    auth_header: tuple[str, str]
    cancel: Callable[[Any], bool]  # is this received message the service's cancel?
    timings: bool

    def expected_messages(self, received: list[Any]) -> list[Any]:
        """What the docs say the client sends for SENTENCES, given the context id used."""
        if self.name == "elevenlabs":
            context = received[0]["context_id"]
            return [
                {"text": " ", "context_id": context},
                *({"text": text, "context_id": context, "flush": True} for text in SENTENCES),
            ]
        if self.name == "cartesia":
            base = {
                key: value
                for key, value in received[0].items()
                if key not in ("transcript", "continue")
            }
            out: list[Any] = []
            for text in SENTENCES:
                out.append({**base, "transcript": text, "continue": True})
                out.append({**base, "transcript": "", "continue": True, "flush": True})
            out.append({**base, "transcript": "", "continue": False})
            return out
        return [
            message
            for text in SENTENCES
            for message in ({"type": "Speak", "text": text}, {"type": "Flush"})
        ]


SERVICES = [
    Service(
        "elevenlabs",
        elevenlabs_app,
        lambda url: ElevenLabsStreamingSpeech("voice-1", api_key=KEY, base_url=url),
        ("xi-api-key", KEY),
        lambda message: message.get("close_context") is True,
        True,
    ),
    Service(
        "cartesia",
        cartesia_app,
        lambda url: CartesiaSpeech("voice-1", api_key=KEY, base_url=url),
        ("x-api-key", KEY),
        lambda message: message.get("cancel") is True,
        True,
    ),
    Service(
        "deepgram",
        deepgram_app,
        lambda url: DeepgramSpeech(api_key=KEY, base_url=url),
        ("authorization", f"Token {KEY}"),
        lambda message: message.get("type") == "Clear",
        False,
    ),
]


@pytest.fixture(params=SERVICES, ids=lambda service: service.name)
def service(request: pytest.FixtureRequest) -> Service:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def url(service: Service, recorder: Recorder) -> Iterator[str]:
    with live_server(service.app(recorder), ws="wsproto") as base:
        yield base


async def run_reply(backend: StreamingSynthesizer, text: str = REPLY) -> list[Event]:
    async with stream_reply(
        scripted_tokens(text, first_token_delay=0.01, tokens_per_second=500), backend
    ) as events:
        return [event async for event in events]


async def wait_for(condition: Callable[[], bool]) -> None:
    # The server runs in its own thread (its own event loop): no Event of ours can be
    # set from there, so poll, with a generous bound.
    with anyio.fail_after(5):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.01)


def audio_of(events: list[Event]) -> dict[int, bytes]:
    audio: dict[int, bytes] = {}
    for event in events:
        if isinstance(event, AudioEvent):
            audio[event.segment_index] = audio.get(event.segment_index, b"") + event.data
    return audio


@pytest.mark.anyio
async def test_a_reply_sends_what_the_docs_say_and_gets_ordered_audio(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    events = await run_reply(service.backend(url))
    await wait_for(lambda: recorder.disconnects == 1)  # closed, and every message seen

    assert not [event for event in events if isinstance(event, ErrorEvent)]
    received = recorder.all_received()
    sent = received[: len(service.expected_messages(received))]
    assert sent == service.expected_messages(received)
    assert len(recorder.connections) == 1
    name, value = service.auth_header
    assert recorder.connections[0]["headers"][name] == value
    segments = [event.segment for event in events if isinstance(event, SegmentEvent)]
    assert [segment.speech_text + " " for segment in segments] == SENTENCES
    audio = audio_of(events)
    assert [audio[segment.index] for segment in segments] == [pcm(text) for text in SENTENCES]
    order = [event.segment_index for event in events if isinstance(event, AudioEvent)]
    assert order == sorted(order)
    done = [event for event in events if isinstance(event, SegmentDoneEvent)]
    assert [event.segment_index for event in done] == [0, 1, 2] and not any(e.failed for e in done)


@pytest.mark.anyio
async def test_interrupt_sends_the_cancel_message(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(chunk_delay=0.01)  # the service is still speaking when cut off
    backend = service.backend(url)
    async with stream_reply(scripted_tokens(REPLY, tokens_per_second=500), backend) as reply:
        async for event in reply:
            # The second chunk: by then Cartesia's timestamps (a message after the first
            # chunk) have come too.
            if isinstance(event, AudioEvent) and event.segment_index == 1 and event.offset:
                assert event.reply_time is not None
                segment_start = event.reply_time - event.offset / 48000
                spoken = await reply.interrupt(played=segment_start + 0.05)
                break
    await wait_for(lambda: any(service.cancel(message) for message in recorder.all_received()))
    await wait_for(lambda: recorder.disconnects == 1)
    assert REPLY.startswith(spoken.text)
    assert spoken.segment_index == 1
    assert spoken.exact == service.timings
    if service.timings:
        # 0.05 s into "Tickets cost twelve euros." at 150 chars/s: the first word only.
        assert spoken.text == "The museum opens at nine. Tickets"


@pytest.mark.anyio
async def test_the_server_closing_mid_reply_fails_only_the_segment_heard(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(close_during="Tickets")  # after its first chunk
    events = await run_reply(service.backend(url))

    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert [event.segment_index for event in errors] == [1]
    audio = audio_of(events)
    assert audio[0] == pcm(SENTENCES[0]) and audio[2] == pcm(SENTENCES[2])
    assert len(recorder.connections) == 2
    # The sentence that was partly heard is not sent again (it would be heard twice).
    texts = [m.get("text") or m.get("transcript") for m in recorder.all_received()]
    assert texts.count(SENTENCES[1]) == 1
    assert texts.count(SENTENCES[2]) == 2 or texts.count(SENTENCES[2]) == 1
    assert isinstance(events[-1], DoneEvent)


@pytest.mark.anyio
async def test_a_service_error_message_becomes_an_error_event(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(error_after_chunks=0, once=False)
    events = await run_reply(service.backend(url), "Just one sentence.")
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert len(errors) == 1
    assert "reported an error" in str(errors[0].error) or "closed" in str(errors[0].error)
    assert KEY not in str(errors[0].error)


@pytest.mark.anyio
async def test_a_policy_close_becomes_an_error_event(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(close_after_chunks=0, close_code=1008, once=False)
    events = await run_reply(service.backend(url), "Just one sentence.")
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert len(errors) == 1 and "1008" in str(errors[0].error)
    assert not [event for event in events if isinstance(event, AudioEvent)]


@pytest.mark.anyio
async def test_wrong_audio_format_is_refused(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(wav_audio=True)
    events = await run_reply(service.backend(url), "Just one sentence.")
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert len(errors) == 1 and "WAV" in str(errors[0].error)


@pytest.mark.anyio
async def test_refused_connections_are_retried_before_any_audio(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(drop_connections=2)
    events = await run_reply(service.backend(url))
    assert not [event for event in events if isinstance(event, ErrorEvent)]
    assert set(audio_of(events)) == {0, 1, 2}


@pytest.mark.anyio
async def test_an_idle_close_between_sentences_reconnects(
    anyio_backend: str, service: Service, url: str, recorder: Recorder
) -> None:
    recorder.faults = Faults(idle_close=0.2)

    async def slow_llm() -> Any:
        yield SENTENCES[0]
        await anyio.sleep(1.5)  # much longer than the service waits, even on a loaded machine
        yield SENTENCES[1].rstrip()

    async with stream_reply(slow_llm(), service.backend(url)) as events:
        collected = [event async for event in events]
    assert not [event for event in collected if isinstance(event, ErrorEvent)]
    assert set(audio_of(collected)) == {0, 1}
    assert len(recorder.connections) >= 2


@pytest.mark.anyio
async def test_a_refused_key_is_not_retried_and_never_shown(
    anyio_backend: str,
    service: Service,
    url: str,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder.faults = Faults(refuse_connections=100)
    caplog.set_level(logging.DEBUG, logger="e2estream")
    backend = service.backend(url)
    events = await run_reply(backend, "One. Two.")
    errors = [event for event in events if isinstance(event, ErrorEvent)]
    assert len(errors) == 2
    assert all(isinstance(event.error, TTSAuthenticationError) for event in errors)
    assert len(recorder.connections) == 0 and recorder.faults.refuse_connections == 99
    shown = " ".join([caplog.text, repr(backend), *(str(event.error) for event in errors)])
    shown += " ".join(str(event.to_dict()) for event in events)
    assert KEY not in shown
