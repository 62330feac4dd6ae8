"""Property tests for IncrementalSegmenter: the guarantees of issue 3.

* tokenization invariance (with and without the policy knobs);
* coverage: ordered, contiguous spans covering every non-space character, exact slices;
* no premature release: ``push`` never returns a segment a later character could change;
* lookahead: a segment is released by the first non-space character after it (for
  ordinary sentence ends), within a bounded window always;
* linear time, by the lines of segmenter code run (a trace function), never a timer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import e2estream
from e2estream import IncrementalSegmenter, Segment
from e2estream.testing import split_like_llm
from helpers import run_segmenter as run
from helpers import split_at_cuts as split

# Fragments chosen to hit every rule: abbreviations, initials, numbers, ordinals, list
# markers, ellipses, quotes, brackets, markdown, fences, tags, CJK, long words.
FRAGMENTS = [
    "Dr", "Mr", "U.S", "e.g", "z", "B", "d", "h", "usw", "etc", "a.m", "I", "The", "How",
    "how", "Juni", "am", "vom", "12", "3", "1.000", "3.14", "v1.2.3", "x", "Ä", "é", "ß",
    "word", "Seite", "hrs", "Thanks", "co", "Co",
    ".", ".", ".", "!", "?", "…", "...", ". . .", "?!", ",", ";", ":", " — ", " - ",
    " ", " ", " ", "  ", "\n", "\n\n", "\t",
    '"', "“", "”", "„", "«", "»", "'", "(", ")", "[", "]",
    "*", "**", "_", "~~", "`", "```", "~~~", "#", "- ", "1. ", "2. ", "a) ", "• ",
    "<", ">", "<spell>", "</spell>", '<break time="1s"/>', '<lang xml:lang="de">', "</lang>",
    "。", "！", "你好", "「", "」",
    "https://docs.example.com/a.b", "jane.doe@example.com", ".env", "index.html",
    "y" * 30, " The", " I", " how", " 3", " U.S", " e.g", " Juni", " word", " (", " `x`",
]  # fmt: skip

KNOBS: list[dict[str, Any]] = [
    {"min_chars": 0, "first_clause_chars": None, "max_chars": None},
    {},
    {"min_chars": 8, "merge_first": True, "first_clause_chars": 5, "max_chars": 25},
    {"max_chars": 12, "min_chars": 0, "first_clause_chars": None},
    {"first_max_chars": 15, "first_clause_chars": None, "min_chars": 0},
]
LANGUAGES = ["en", "de", "fr", "es", "zh", "xx"]

texts = st.lists(st.sampled_from(FRAGMENTS), max_size=50).map("".join)
knobs = st.sampled_from(KNOBS)
languages = st.sampled_from(LANGUAGES)


def released_at(text: str, language: str, knob: dict[str, Any]) -> list[tuple[Segment, int]]:
    """Segments released by ``push`` with one-character tokens, with how much was pushed."""
    segmenter = IncrementalSegmenter(language, **knob)
    out: list[tuple[Segment, int]] = []
    for pushed, char in enumerate(text, 1):
        out += [(segment, pushed) for segment in segmenter.push(char)]
    return out


@given(texts, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), knobs, languages)
def test_tokenization_invariance(
    text: str, cuts: list[int], knob: dict[str, Any], language: str
) -> None:
    whole = run([text], language, knob)
    assert run(list(text), language, knob) == whole
    assert run(split(text, cuts), language, knob) == whole
    assert run(split_like_llm(text), language, knob) == whole


# Sentence ends as LLMs write them, which push() decides on its fast paths: a word, a
# terminator, maybe closing quotes or brackets, a space, the next word.
_BEFORE = ["word", "Dr", "z. B", "d", "U.S", "55", "3", "item 1", "great", "e.g", "hrs", "Str"]
_RUNS = [".", "!", "?", "...", "?!", '."', ".)", "!”", "?«", ".'", '.")', ". . .", "…"]
_AFTER = ["The", "the", "How", "how", "42", "Juni", "Oktober", "I", "(", '"Hi', "Über", "é"]
sentence_ends = st.lists(
    st.tuples(st.sampled_from(_BEFORE), st.sampled_from(_RUNS), st.sampled_from(_AFTER)).map(
        lambda parts: f"{parts[0]}{parts[1]} {parts[2]} "
    ),
    min_size=1,
    max_size=8,
).map("".join)


@given(sentence_ends, st.lists(st.integers(min_value=0, max_value=10_000), max_size=8), knobs)
def test_sentence_ends_are_tokenization_invariant(
    text: str, cuts: list[int], knob: dict[str, Any]
) -> None:
    for language in ("en", "de", "fr"):
        whole = run([text], language, knob)
        assert run(split_like_llm(text), language, knob) == whole
        assert run(list(text), language, knob) == whole
        assert run(split(text, cuts), language, knob) == whole


@given(texts, knobs, languages)
def test_coverage(text: str, knob: dict[str, Any], language: str) -> None:
    result = run([text], language, knob)
    end = 0
    for index, segment in enumerate(result):
        assert segment.index == index
        assert segment.start == end  # contiguous, ordered, non-overlapping
        assert segment.end > segment.start
        assert segment.text
        assert segment.text == text[segment.start : segment.end].strip()
        assert segment.kind in ("text", "code")
        end = segment.end
    assert not text[end:].strip()  # every non-space character is covered
    if result:
        assert result[0].start == 0


@given(texts, texts, texts, knobs, languages)
def test_push_never_releases_what_a_later_character_could_change(
    prefix: str, tail_a: str, tail_b: str, knob: dict[str, Any], language: str
) -> None:
    segmenter = IncrementalSegmenter(language, **knob)
    early = segmenter.push(prefix)
    for tail in (tail_a, tail_b):
        assert run([prefix + tail], language, knob)[: len(early)] == early


@given(texts, knobs, languages)
def test_lookahead_is_bounded(text: str, knob: dict[str, Any], language: str) -> None:
    # Every boundary is decided within a bounded window after the next segment's first
    # character: the next word at most (initials, "U.S.", ordinals), or a tag. The window
    # is two of the longest fragments (a tag, then a long word); 3,000 examples needed at
    # most 38 characters past the base, and a segmenter that waited for more text than
    # that (or for the flush) would run past it on these texts of up to 50 fragments.
    window = 2 * max(len(fragment) for fragment in FRAGMENTS)
    for segment, pushed in released_at(text, language, knob):
        rest = text[segment.end :]
        next_char = segment.end + len(rest) - len(rest.lstrip())
        assert pushed <= max(next_char + 1, segment.end + 17) + window


# Ordinary prose: words (inline code too), sentence ends, line ends. Here the strict
# guarantee holds.
words = st.sampled_from(["the", "cat", "sat", "We", "It", "big", "Hello", "world", "`x`", "`a b`"])
enders = st.sampled_from([". ", "! ", "? ", ".\n", "\n", "?\n", "! \n\n", ", "])
prose = st.lists(st.tuples(st.lists(words, min_size=1, max_size=5), enders), max_size=12).map(
    lambda parts: "".join(" ".join(ws).capitalize() + end for ws, end in parts)
)


@given(prose)
def test_lookahead_for_ordinary_sentence_ends(text: str) -> None:
    plain = {"min_chars": 0, "first_clause_chars": None, "max_chars": None}
    released = released_at(text, "en", plain)
    assert [s for s, _ in released] == run([text], "en", plain)[: len(released)]
    for segment, pushed in released:
        rest = text[segment.end :]
        next_char = segment.end + len(rest) - len(rest.lstrip())
        # No later than the first non-space character after the boundary...
        assert pushed <= next_char + 1
        # ...and at once for unambiguous ends: a line end, or "?" after a plain word.
        plain_question = segment.text.endswith("?") and not segment.text.endswith("`?")
        if text[segment.end] == "\n" or plain_question:
            assert pushed <= segment.end + 1


_PACKAGE = str(Path(e2estream.__file__).parent / "_segmenter")


def work_for(pieces: list[str], knob: dict[str, Any]) -> int:
    """Lines of the segmenter's code run to push ``pieces`` and flush: its work.

    Counted with a trace function, through the public API: no counter in the code.
    The regex engine's work inside one call is not counted; the benchmark times it
    (doubling inputs, ``benchmarks/segmentation.py``).
    """
    lines = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(_PACKAGE) else None

    segmenter = IncrementalSegmenter("en", **knob)
    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        for piece in pieces:
            segmenter.push(piece)
        segmenter.flush()
    finally:
        sys.settrace(previous)
    return lines


@settings(max_examples=25)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join), knobs)
def test_work_per_character_is_bounded(unit: str, knob: dict[str, Any]) -> None:
    # Growth check on the work: the work added by the last half of a text may not grow
    # with the text before it: linear work gives the same increment for each doubling
    # after the first, quadratic work 4x the increment. (Increments, not totals: the
    # first max_chars characters of a segment cost less than the rest, a constant that
    # would blur a comparison of totals.) And each character costs a bounded amount.
    small = unit * (300 // len(unit) + 1)
    w1, w2, w4 = (work_for(list(small * times), knob) for times in (1, 2, 4))
    assert w4 - w2 <= 2.5 * (w2 - w1) + 2000  # quadratic work would be 4x
    assert w4 <= 400 * 4 * len(small) + 2000


@pytest.mark.parametrize("unit", ["word ", "x" * 400 + " ", "<b>w</b> ", "a, b ", "`c` d. "])
@pytest.mark.parametrize("knob", KNOBS)
def test_one_giant_delta_costs_linear_work(unit: str, knob: dict[str, Any]) -> None:
    # A non-streamed reply arrives as one delta: its work (and its segments) must be
    # those of the same text streamed, however many segments it holds.
    texts = [unit * (times * 4000 // len(unit)) for times in (1, 2, 4)]
    w1, w2, w4 = (work_for([text], knob) for text in texts)
    assert w4 - w2 <= 2.5 * (w2 - w1) + 2000
    big = texts[-1]
    assert run([big], "en", knob) == run(split(big, list(range(0, len(big), 997))), "en", knob)


def test_pathological_inputs_stay_linear() -> None:
    cases = [
        "<" * 3000,
        "`" * 3000,
        "a`b" * 1000,
        " " * 3000,
        "x" * 3000,
        "```\n" + "code line. More code\n" * 200,
        "<spell>" + "a. B. " * 500,
        "U.S. " + "H" * 3000,
        ". " * 1500,
        "1. " * 1000,
        ".<spell>" * 400,  # tags after a terminator are looked past a few at most
    ]
    for text in cases:
        for knob in KNOBS:
            work = work_for(list(text), knob)
            assert work <= 400 * len(text) + 2000, (text[:20], knob)
            half = work_for(list(text[: len(text) // 2]), knob)
            assert work <= 2.5 * half + 2000, (text[:20], knob)


@given(
    texts,
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    st.lists(st.booleans(), max_size=12),
    knobs,
)
def test_flush_partial_keeps_coverage_and_cuts_between_words(
    text: str, cuts: list[int], partial_after: list[bool], knob: dict[str, Any]
) -> None:
    segmenter = IncrementalSegmenter("en", **knob)
    result: list[Segment] = []
    partial: list[Segment] = []
    for number, piece in enumerate(split(text, cuts)):
        result += segmenter.push(piece)
        if number < len(partial_after) and partial_after[number]:
            handed = segmenter.flush_partial()
            partial += handed
            result += handed
    result += segmenter.flush()
    end = 0
    for index, segment in enumerate(result):
        assert (segment.index, segment.start) == (index, end)
        assert segment.text == text[segment.start : segment.end].strip()
        end = segment.end
    assert not text[end:].strip()
    for segment in partial:
        # Cut at a space, never inside a word, and never inside code.
        assert text[segment.end].isspace()
        assert segment.kind == "text"
