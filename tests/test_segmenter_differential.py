"""Differential fuzz of IncrementalSegmenter: how the text arrives never changes the segments.

For random texts built from the shapes that are hard to segment (abbreviations, numbers,
list markers, quotes, markup, CJK, other scripts), feeding the text token by token
(:func:`e2estream.testing.split_like_llm`), in random pieces, and one character at a time
must give exactly the segments that feeding it whole gives, for every policy setting.

The normal run tries a few hundred examples. The ``thorough`` hypothesis profile
(``HYPOTHESIS_PROFILE=thorough`` or ``pytest --hypothesis-profile=thorough``) tries
100,000: run it after any change to the segmenter (``nox -s bench`` does).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2estream import IncrementalSegmenter
from e2estream.testing import split_like_llm
from helpers import run_segmenter as run
from helpers import split_at_cuts as split

_THOROUGH = settings().max_examples >= settings.get_profile("thorough").max_examples
_EXAMPLES = 100_000 if _THOROUGH else 300
fuzz_settings = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Each family is a list of fragments; a text is a random sequence of fragments glued by
# random separators, so every rule meets every other rule at a token boundary.
ABBREVIATIONS = [
    "Dr.",
    "Mr.",
    "Mrs.",
    "Prof.",
    "St.",
    "U.S.",
    "U.S.A.",
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "approx.",
    "Inc.",
    "Co.",
    "Ltd.",
    "Jr.",
    "a.m.",
    "p.m.",
    "Fig.",
    "No.",
    "Nr.",
    "Sec.",
    "App.",
    "Rs.",
    "Calif.",
    "Gen.",
    "z. B.",
    "z.B.",
    "d. h.",
    "usw.",
    "bzw.",
    "ca.",
    "Str.",
    "vgl.",
    "S.",
    "Jh.",
    "M.",
    "Mme.",
    "p.",
    "av.",
    "Sra.",
    "EE. UU.",
    "art.",
    "ул.",
    "гг.",
    "проф.",
    "т. е.",
    "J.",
    "A.",
    "B.",
    "Sun.",
    "Tab.",
    "Bros.",
    "Dist.",
    "Hauptstr.",
    "стр.",
]
NUMBERS = [
    "3",
    "12",
    "42",
    "1.000",
    "3.14",
    "2,5",
    "10:30",
    "v1.2.3",
    "1999",
    "IV",
    "S1",
    "4(b)",
    "$5",
    "20%",
    "3.",
    "12.",
    "19.",
    "0.5",
    "1/2",
    "#7",
    "-3",
]
WORDS = [
    "the",
    "The",
    "cat",
    "How",
    "how",
    "It",
    "I",
    "Juni",
    "Oktober",
    "am",
    "vom",
    "Seite",
    "word",
    "Thanks",
    "Über",
    "é",
    "ß",
    "Straße",
    "Hello",
    "world",
    "co",
    "in",
    "yes",
    "y" * 30,
    "Smith",
    "Spassky",
    "Karpov",
    "Kapitel",
    "Anhang",
    "Москва",
    "он",
    "Он",
]
TERMINATORS = [".", ".", "!", "?", "…", "...", ". . .", "?!", "!!", ".\u200b"]
CLAUSE = [",", ";", ":", " — ", " - ", " – "]
QUOTES = ['"', "“", "”", "„", "«", "»", "« ", " »", "'", "‘", "’", "(", ")", "[", "]", "「", "」"]
MARKUP = [
    "*",
    "**",
    "_",
    "~~",
    "`",
    "`x`",
    "`a. b`",
    "```",
    "```\n",
    "\n```\n",
    "~~~",
    "#",
    "## ",
    "<",
    ">",
    "<spell>",
    "</spell>",
    '<break time="1s"/>',
    '<lang xml:lang="de">',
    "</lang>",
    "<b>",
    "</b>",
    "[link](https://example.com/a.b)",
    "https://docs.example.com/a.b",
    "jane.doe@example.com",
    ".env",
    "index.html",
]
LISTS = ["- ", "* ", "1. ", "2. ", "3. ", "10. ", "100. ", "a) ", "b) ", "1) ", "1.) ", "• ", "◦ "]
LISTS += ["i. ", "\n- ", "\n1. ", "- 1. ", "• 2. ", "\n2) ", "\nb. "]
CJK = ["。", "！", "？", "你好", "我们", "東京", "です", "．", "、", "」", "「"]
SCRIPTS = [
    "नमस्ते",
    "।",
    "॥",
    "مرحبا",
    "؟",
    "۔",
    "Բարեւ",
    "։",
    "Γεια",
    ";",
    "ሰላም",
    "።",
    "မင်္ဂလာပါ",
    "။",
    "Привет",
    "שלום",
    "‼",
    "⁉",
]
SEPARATORS = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", "", " \n"]

FAMILIES = [ABBREVIATIONS, NUMBERS, WORDS, WORDS, TERMINATORS, CLAUSE, QUOTES, MARKUP, LISTS]
FAMILIES += [CJK, SCRIPTS]

fragment = st.one_of(*(st.sampled_from(family) for family in FAMILIES))
hard_texts = st.lists(
    st.tuples(fragment, st.sampled_from(SEPARATORS)).map("".join), max_size=40
).map("".join)

KNOBS: list[dict[str, Any]] = [
    {"min_chars": 0, "first_clause_chars": None, "max_chars": None},
    {},
    {"min_chars": 8, "merge_first": True, "first_clause_chars": 5, "max_chars": 25},
    {"max_chars": 12, "min_chars": 0, "first_clause_chars": None},
    {"first_max_chars": 15, "first_clause_chars": None, "min_chars": 0},
    {"max_chars": 60, "speak_code": True, "normalize": None},
]
LANGUAGES = ["en", "de", "fr", "es", "it", "ru", "bg", "hi", "zh", "ja", "xx"]


@fuzz_settings
@given(
    hard_texts,
    st.lists(st.integers(min_value=0, max_value=100_000), max_size=16),
    st.sampled_from(KNOBS),
    st.sampled_from(LANGUAGES),
)
def test_any_split_gives_the_segments_of_the_whole_text(
    text: str, cuts: list[int], knob: dict[str, Any], language: str
) -> None:
    whole = run([text], language, knob)
    assert run(split_like_llm(text), language, knob) == whole
    assert run(split(text, cuts), language, knob) == whole
    assert run(list(text), language, knob) == whole


@fuzz_settings
@given(hard_texts, hard_texts, st.sampled_from(KNOBS), st.sampled_from(LANGUAGES))
def test_a_reused_segmenter_gives_the_segments_of_a_fresh_one(
    first: str, second: str, knob: dict[str, Any], language: str
) -> None:
    # After flush() (and after reset()) the next reply is segmented as if by a new
    # segmenter, whatever state the previous reply left behind.
    segmenter = IncrementalSegmenter(language, **knob)
    for piece in split_like_llm(first):
        segmenter.push(piece)
    segmenter.flush()
    again = [s for piece in split_like_llm(second) for s in segmenter.push(piece)]
    assert again + segmenter.flush() == run([second], language, knob)
    for piece in list(first):
        segmenter.push(piece)
    segmenter.reset()
    again = [s for piece in list(second) for s in segmenter.push(piece)]
    assert again + segmenter.flush() == run([second], language, knob)


@fuzz_settings
@given(
    hard_texts,
    st.lists(st.integers(min_value=0, max_value=100_000), max_size=16),
    st.sampled_from(KNOBS),
    st.sampled_from(LANGUAGES),
)
def test_what_is_released_depends_only_on_the_text_pushed_so_far(
    text: str, cuts: list[int], knob: dict[str, Any], language: str
) -> None:
    # Not only the segments but the moment each is released: after any prefix of the
    # reply, pushing it in pieces has released exactly what one push of the whole prefix
    # releases. push()'s shortcuts skip the scan; this is what shows that they never
    # hold back a segment the scan would release (nor release one early).
    for pieces in (split_like_llm(text), split(text, cuts)):
        assert_released_like_one_push(pieces, language, knob)


def assert_released_like_one_push(pieces: list[str], language: str, knob: dict[str, Any]) -> None:
    segmenter = IncrementalSegmenter(language, **knob)
    released = []
    pushed = ""
    for piece in pieces:
        pushed += piece
        released += segmenter.push(piece)
        assert released == IncrementalSegmenter(language, **knob).push(pushed), pushed


# Shapes longer than the random texts reach: the bounds of push()'s shortcuts.
LONG_TEXTS = [
    "Look at `" + "x = 1; " * 60 + "and it goes on. Then a sentence.",  # unclosed inline code
    "Say <" + "b " * 150 + "then. The end.",  # a "<" that never becomes a tag
    "A long first sentence with many words " * 12 + "ends here. Next one.",
    "```\n" + "code line\n" * 40 + "```\nAfter the fence. Done.",
]


@pytest.mark.parametrize("text", LONG_TEXTS)
@pytest.mark.parametrize("knob", KNOBS)
def test_long_shapes_are_released_like_one_push(text: str, knob: dict[str, Any]) -> None:
    assert_released_like_one_push(split_like_llm(text), "en", knob)
    assert_released_like_one_push(list(text), "en", knob)
