"""Control characters and lone surrogates in a reply never reach ``synthesize()``.

``Segment.text`` keeps the reply exactly as written; ``Segment.speech_text`` (what the
TTS gets) has no C0/C1 control but tab and line feed, no DEL and no lone surrogate.
And if one does reach an HTTP backend anyway (a custom normalizer, a direct call), it
is a clear :class:`~e2estream.SynthesisError`, not a raw ``UnicodeEncodeError``.
"""

from __future__ import annotations

import unicodedata
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import IncrementalSegmenter, SynthesisError, normalize_speech
from e2estream._normalize import remove_unspeakable
from e2estream.backends import ElevenLabsSpeech, OpenAISpeech
from live_server import client_package

# Everything, surrogates and controls included, plus the sequences a terminal-minded
# LLM or a broken decoder produces, so that they come up often.
ANY_CHARACTER = st.characters(exclude_categories=())
NASTY = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x08",
        "\x7f",
        "\x85",
        "\x9b",
        "\x9b31m",
        "\x1b",
        "\x1b[",
        "\x1b[1;31m",
        "\x1b[0m",
        "\x1b]0;title\x07",
        "\x1b]8;;http://x\x1b\\",
        "\x1bc",
        "\r\n",
        "\r",
        "\x0b",
        "\x0c",
        "\x1c",
        "\ud800",
        "\udfff",
        "\ud83d",
        ". ",
        "\n\n",
        "**",
        "`",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(st.text(ANY_CHARACTER, max_size=8), NASTY), max_size=40).map(
    "".join
)


def unspeakable(text: str) -> list[str]:
    """The characters of ``text`` that must not reach a TTS."""
    return [
        char for char in text if char not in "\t\n" and unicodedata.category(char) in ("Cc", "Cs")
    ]


@given(st.one_of(st.text(ANY_CHARACTER), HOSTILE_TEXT))
def test_remove_unspeakable_leaves_no_control_or_surrogate(text: str) -> None:
    cleaned = remove_unspeakable(text)
    assert unspeakable(cleaned) == []
    assert remove_unspeakable(cleaned) == cleaned
    assert unspeakable(normalize_speech(text)) == []


@given(st.text(st.characters(exclude_categories=("Cc", "Cs"))))
def test_text_without_controls_is_left_alone(text: str) -> None:
    assert remove_unspeakable(text) == text


@given(HOSTILE_TEXT)
def test_speech_text_of_every_segment_is_clean_and_text_is_as_written(text: str) -> None:
    segmenter = IncrementalSegmenter()
    segments = [*segmenter.push(text), *segmenter.flush()]
    for segment in segments:
        assert unspeakable(segment.speech_text) == []
        assert segment.text == text[segment.start : segment.end].strip()


@pytest.mark.parametrize(
    ("text", "speech"),
    [
        ("\x1b[1;31mAlert:\x1b[0m disk full.", "Alert: disk full."),
        ("Title\x1b]0;my terminal\x07 set.", "Title set."),
        ("Link \x1b]8;;http://example.com\x1b\\here\x1b]8;;\x1b\\.", "Link here."),
        # An unterminated string loses only its introducer, never the words after it.
        ("Odd \x1b]no terminator here.", "Odd no terminator here."),
        ("Nul\x00 and bell\x07 and del\x7f.", "Nul and bell and del."),
        ("C1 \x9b31mcsi\x85next.", "C1 csi\nnext."),
        ("Lines\r\nand\rbreaks\x0bhere\x1cnow.", "Lines\nand\nbreaks here now."),
        ("Broken \ud83d emoji \udc00.", "Broken emoji ."),
    ],
)
def test_what_is_removed(text: str, speech: str) -> None:
    assert normalize_speech(text) == speech


# --- the HTTP backends -------------------------------------------------------------------


def recording_client(http: ModuleType, seen: list[Any]) -> Any:
    def handler(request: Any) -> Any:
        seen.append(request)
        return http.Response(200, content=b"\0\0")

    return http.AsyncClient(transport=http.MockTransport(handler))


@pytest.mark.anyio
@pytest.mark.parametrize("package", ["httpx", "httpx2"])
@pytest.mark.parametrize("backend_name", ["openai", "elevenlabs"])
async def test_lone_surrogate_is_a_synthesis_error_and_sends_nothing(
    backend_name: str, package: str
) -> None:
    seen: list[Any] = []
    async with recording_client(client_package(package), seen) as client:
        tts: OpenAISpeech | ElevenLabsSpeech = (
            OpenAISpeech(client=client)
            if backend_name == "openai"
            else ElevenLabsSpeech("v", client=client, timestamps=False)
        )
        with pytest.raises(
            SynthesisError,
            match=r"field '(input|text)' at index 3 contains a lone surrogate \(U\+D800\)",
        ):
            async for _ in tts.synthesize("abc\ud800def"):
                pass
        # Controls are encodable: a direct call passes them on, escaped in the JSON.
        async for _ in tts.synthesize("bell\x07"):
            pass
    assert len(seen) == 1
    assert b"bell\\u0007" in seen[0].content
    assert seen[0].headers["accept-encoding"] == "identity"


@given(st.text(max_size=80), st.sampled_from(["none", "custom", "code"]))
def test_no_normalizer_lets_control_characters_through(text: str, mode: str) -> None:
    if mode == "code":
        segmenter = IncrementalSegmenter(speak_code=True)
        text = "```\n" + text + "\n```\n"
    else:
        segmenter = IncrementalSegmenter(normalize=None if mode == "none" else str.upper)
    segments = [*segmenter.push(text), *segmenter.flush()]
    for segment in segments:
        assert remove_unspeakable(segment.speech_text) == segment.speech_text
