"""Segmenters share their language's tables: none may see another's state through them.

What depends only on the language (the rule table, the candidate patterns, the prefix
sets) is built once per language and shared by every segmenter of it. These tests run
several segmenters side by side, as a server runs its replies, and check that each
gives exactly what it gives alone: whatever the languages, the settings, the order of
their pushes and when each one was made. And that the codes that name one language
share its rules, while the codes of no known language get the neutral ones.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from e2estream import IncrementalSegmenter, Segment
from e2estream.testing import split_like_llm
from helpers import run_segmenter
from test_segmenter_differential import KNOBS, LANGUAGES, fuzz_settings, hard_texts

#: Settings that share a language's tables but read them differently (the first
#: segment's candidates with and without clause marks, the span tags).
SHARING_KNOBS: list[dict[str, Any]] = [
    *KNOBS,
    {"first_clause_chars": 0, "min_chars": 0},
    {"span_tags": {"b", "spell"}, "first_clause_chars": None},
]

replies = st.tuples(hard_texts, st.sampled_from(LANGUAGES), st.sampled_from(SHARING_KNOBS))


@fuzz_settings
@given(st.lists(replies, min_size=2, max_size=4), st.randoms(use_true_random=False))
def test_side_by_side_segmenters_give_what_each_gives_alone(
    plan: list[tuple[str, str, dict[str, Any]]], rng: Any
) -> None:
    # Each segmenter is made at its first push, so that some are new while others are
    # mid-reply; the pushes interleave in a random order; the last reply is flushed,
    # reset, and segments its text again, beside the others.
    pending = [split_like_llm(text) for text, _, _ in plan]
    segmenters: list[IncrementalSegmenter | None] = [None] * len(plan)
    got: list[list[Segment]] = [[] for _ in plan]
    while any(pending):
        which = rng.choice([i for i, pieces in enumerate(pending) if pieces])
        _, language, knob = plan[which]
        segmenter = segmenters[which]
        if segmenter is None:
            segmenter = segmenters[which] = IncrementalSegmenter(language, **knob)
        got[which] += segmenter.push(pending[which].pop(0))
    for which, (text, language, knob) in enumerate(plan):
        segmenter = segmenters[which] or IncrementalSegmenter(language, **knob)
        got[which] += segmenter.flush()
        assert got[which] == run_segmenter([text], language, knob)


@fuzz_settings
@given(hard_texts, hard_texts, st.sampled_from(LANGUAGES), st.sampled_from(SHARING_KNOBS))
def test_a_segmenter_made_after_another_one_worked_is_as_a_first_one(
    first: str, second: str, language: str, knob: dict[str, Any]
) -> None:
    alone = run_segmenter(split_like_llm(second), language, knob)
    # One segmenter of the same language, another policy, left mid-reply.
    busy = IncrementalSegmenter(language, **SHARING_KNOBS[len(first) % len(SHARING_KNOBS)])
    for piece in split_like_llm(first):
        busy.push(piece)
    assert run_segmenter(split_like_llm(second), language, knob) == alone
    busy.flush()
    assert run_segmenter(split_like_llm(second), language, knob) == alone


#: Codes that name one language (the primary subtag counts, in any case).
SAME_LANGUAGE = {
    "en": ["en-US", "EN", "en_GB", "En-au"],
    "de": ["de-CH", "DE", "de_AT"],
    "el": ["el-GR", "EL"],  # Greek: known from CLDR's terminators alone (";")
}
#: Codes no list here knows: they all get the neutral rules.
UNKNOWN = ["xx", "tlh", "zz-ZZ", "qaa", "x", ""]


@fuzz_settings
@given(hard_texts, st.sampled_from(sorted(SAME_LANGUAGE)), st.sampled_from(KNOBS))
def test_the_codes_of_one_language_segment_alike(
    text: str, language: str, knob: dict[str, Any]
) -> None:
    expected = run_segmenter([text], language, knob)
    for code in SAME_LANGUAGE[language]:
        assert run_segmenter(split_like_llm(text), code, knob) == expected, code


@fuzz_settings
@given(hard_texts, st.sampled_from(KNOBS))
def test_every_unknown_code_gets_the_neutral_rules(text: str, knob: dict[str, Any]) -> None:
    expected = run_segmenter([text], UNKNOWN[0], knob)
    for code in UNKNOWN[1:]:
        assert run_segmenter(split_like_llm(text), code, knob) == expected, code


def test_a_language_known_only_from_public_lists_is_not_neutral() -> None:
    # Greek has no module of its own: CLDR adds ";" (the Greek question mark) to its
    # terminators. A cache keyed too coarsely would give it the neutral rules.
    text = "Γεια σου; Τι κάνεις; Καλά"
    plain = {"min_chars": 0, "first_clause_chars": None}
    assert [s.text for s in run_segmenter([text], "el", plain)] == [
        "Γεια σου;",
        "Τι κάνεις;",
        "Καλά",
    ]
    assert [s.text for s in run_segmenter([text], "xx", plain)] == [text]


def test_one_segmenters_never_cut_region_does_not_hold_back_anothers_cut() -> None:
    # The first holds inline code (a region never cut) open over the indexes where the
    # second, capped at 12 characters, must cut between words.
    capped: dict[str, Any] = {"max_chars": 12, "min_chars": 0, "first_clause_chars": None}
    words = "one two three four five six seven eight"
    alone = run_segmenter([words], "en", capped)
    assert [s.text for s in alone] == ["one two", "three four", "five six", "seven eight"]
    holding = IncrementalSegmenter("en", **{**capped, "max_chars": 60})
    assert holding.push("`a b c d e f g h i j k l m n o p` and") == []
    other = IncrementalSegmenter("en", **capped)
    assert other.push(words) + other.flush() == alone
    assert [s.text for s in holding.flush()] == ["`a b c d e f g h i j k l m n o p` and"]


@fuzz_settings
@given(
    st.lists(st.sampled_from(["", " ", "\n", "\t", "\n\n", ".", "a", "`", "<"]), max_size=6),
    hard_texts,
    st.sampled_from(SHARING_KNOBS),
)
def test_reset_after_blank_or_tiny_pushes_gives_a_fresh_segmenter(
    before: list[str], text: str, knob: dict[str, Any]
) -> None:
    # reset() skips the work when nothing was pushed since the last one: a push of
    # whitespace alone is something, and must be forgotten (offsets start at 0 again).
    segmenter = IncrementalSegmenter("en", **knob)
    for piece in before:
        segmenter.push(piece)
    segmenter.reset()
    got = [s for piece in split_like_llm(text) for s in segmenter.push(piece)]
    assert got + segmenter.flush() == run_segmenter([text], "en", knob)
