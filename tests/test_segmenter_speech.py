"""The shortcuts of the speech text: a plain sentence skips the work, and gives the same.

``normalize_speech`` returns a text with no markup, control character or lone surrogate
stripped, after one search; and the segmenter does not run ``remove_unspeakable`` again
on what the default normalizer made. These differential tests hold each shortcut
against the full path it skips.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from e2estream import normalize_speech
from e2estream.testing import split_like_llm
from helpers import run_segmenter
from test_segmenter_differential import KNOBS, LANGUAGES, fuzz_settings, hard_texts

# Plain text, and every kind of character some rule of normalize_speech reads: markdown,
# URLs, emoji, controls, escape sequences, a lone surrogate, odd spaces and breaks.
_PIECES = list("ab Z.,:;!?-_*~`#>|/+[]()\\\"' \t\x00\x07\x1b\x7f\x85\x9b\u2028\u00a0é•◦")
_PIECES += ["www.", "  ", "https://x.example/a", "\ud800", "\x1b[31m", "😀", "\u200d", "❤️"]
speech_inputs = st.one_of(st.text(), st.lists(st.sampled_from(_PIECES)).map("".join))


@fuzz_settings
@given(speech_inputs)
def test_a_trailing_line_break_changes_nothing_in_the_speech(text: str) -> None:
    # A text with a line break always takes the full path; the same text without it
    # takes the shortcut whenever it holds nothing to remove.
    assert normalize_speech(text + "\n") == normalize_speech(text)


def test_a_plain_sentence_is_spoken_as_written() -> None:
    sentence = "  Otherwise restart the device and wait about 30 seconds, then try again. "
    assert normalize_speech(sentence) == sentence.strip()
    # One character of markup or control anywhere, and the full path runs.
    assert normalize_speech("Restart the *device* now.") == "Restart the device now."
    assert normalize_speech("Restart the\x07 device.") == "Restart the device."
    assert normalize_speech("Restart  the device.") == "Restart the device."
    assert normalize_speech("See www.example.com/a now.") == "See example.com now."


@fuzz_settings
@given(
    st.one_of(hard_texts, speech_inputs),
    st.sampled_from(KNOBS[:5]),  # (the last one has no normalizer)
    st.sampled_from(LANGUAGES),
)
def test_the_default_normalizer_gives_what_any_wrapper_of_it_gives(
    text: str, knob: dict[str, Any], language: str
) -> None:
    # The segmenter trusts normalize_speech to remove what no TTS should get, and runs
    # remove_unspeakable only after other normalizers: a wrapper takes that path.
    def wrapped(display: str) -> str:
        return normalize_speech(display)

    expected = run_segmenter([text], language, {**knob, "normalize": wrapped})
    assert run_segmenter(split_like_llm(text), language, knob) == expected


@fuzz_settings
@given(speech_inputs, st.sampled_from(KNOBS[:5]))
def test_another_normalizers_speech_is_still_cleaned(text: str, knob: dict[str, Any]) -> None:
    # Only the default normalizer is trusted to remove control characters itself.
    def shout(display: str) -> str:
        return display.upper()

    for segment in run_segmenter(split_like_llm(text), "en", {**knob, "normalize": shout}):
        spoken = segment.speech_text
        assert not any(
            char in "\x00\x07\x1b\x7f\x9b" or "\ud800" <= char <= "\udfff" for char in spoken
        ), spoken
