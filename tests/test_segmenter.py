"""Example-based tests for IncrementalSegmenter: each case of issue 3, en and de first.

Every example is checked three ways (whole text, one character at a time, LLM-like
tokens): the expected segments must not depend on the split.
"""

from __future__ import annotations

from typing import Any

import pytest

from e2estream import IncrementalSegmenter
from e2estream._normalize import normalize_speech
from helpers import PLAIN, run, segments, texts

# -- abbreviations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith and Prof. Jones met Mr. Brown. They talked.", 2),
        ("Use e.g. salt, i.e. the white one, etc. Then stir.", 2),
        ("It is cats vs. dogs, approx. five each. Fine.", 2),
        ("I live in the U.S. How about you?", 2),
        ("I work for the U.S. Government in Virginia.", 1),
        ("We met at 3 p.m. on Monday. Good.", 2),
        ("J. R. R. Tolkien wrote it. Yes.", 2),
        ("Please reply within 24 hrs. Thanks!", 2),
        ("Were Jane and co. at the party? No.", 2),
        ("Let's ask Jane and co. They should know.", 2),
        ("We make a good team, you and I. Did you see Albert I. Jones yesterday?", 2),
    ],
)
def test_english_abbreviations(text: str, expected: int) -> None:
    assert len(texts(text)) == expected, texts(text)


@pytest.mark.parametrize(
    "text",
    [
        "Das ist z. B. gut.",
        "Das ist z.B. gut.",
        "Das heißt d. h. mehr.",
        "Wir sprechen u. a. Spanisch.",
        "Äpfel, Birnen usw. und mehr.",
        "Rot bzw. Grün ist ok.",
        "Es kostet ca. 5 Euro.",
        "Er wohnt in Nr. 5 in der Berliner Str. 7 hier.",
        "Vgl. Kapitel 3 und ggf. Anhang B.",
        "Das steht auf S. 225 im Buch.",
        "Das war im 19. Jh. so.",
        "Wir trafen Dr. med. Meyer und Prof. Schulze.",
        "Sie besucht eine kath. Schule.",
        "Wir benötigen Zeitungen u. Ä. für das Projekt.",
    ],
)
def test_german_abbreviations_do_not_split(text: str) -> None:
    assert texts(text, "de") == [text]


def test_german_abbreviation_really_ends_a_sentence() -> None:
    assert texts("Wir brauchen Äpfel, Birnen usw. Dann gehen wir.", "de") == [
        "Wir brauchen Äpfel, Birnen usw.",
        "Dann gehen wir.",
    ]


# -- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Pi is 3.14 today.",
        "We have 1.000.000 users.",
        "Update to v1.2.3 now.",
        "It happened on 24.11.2026 here.",
        "Meet at 10:30 sharp.",
        "She has $100.00 in her bag.",
    ],
)
def test_english_numbers_do_not_split(text: str) -> None:
    assert texts(text) == [text]


def test_number_can_end_a_sentence() -> None:
    assert texts("She has $100.00. It is in her bag.") == ["She has $100.00.", "It is in her bag."]
    assert texts("Die Information steht auf Seite 12. Dort kannst du nachlesen.", "de") == [
        "Die Information steht auf Seite 12.",
        "Dort kannst du nachlesen.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Wir treffen uns am 3. Oktober in Berlin.",
        "Das war im 19. Jahrhundert so.",
        "Das ist die 2. Auflage des Buches.",
        "Was sind die Konsequenzen der Abstimmung vom 12. Juni?",
        "Wir haben 1.000.000 Euro und 5.300,25 Euro.",
        "Am 24.11.2026 um 10:30 Uhr beginnt es.",
    ],
)
def test_german_ordinals_and_numbers(text: str) -> None:
    assert texts(text, "de") == [text]


def test_list_numbering() -> None:
    assert texts("1. Open the settings\n2. Click save.") == [
        "1. Open the settings",
        "2. Click save.",
    ]
    assert texts("1. The first item 2. The second item") == [
        "1. The first item",
        "2. The second item",
    ]
    assert texts("a. The first item b. The second item c. The third") == [
        "a. The first item",
        "b. The second item",
        "c. The third",
    ]
    assert texts("1. Dies ist eine Punkteliste.", "de") == ["1. Dies ist eine Punkteliste."]


# -- URLs, files, ellipses, quotes -------------------------------------------------------


def test_urls_emails_and_file_names_stay_whole() -> None:
    assert texts(
        "Open https://docs.example.com/a.b?c=1 now. Then mail jane.doe@example.com. Ok"
    ) == [
        "Open https://docs.example.com/a.b?c=1 now.",
        "Then mail jane.doe@example.com.",
        "Ok",
    ]
    assert texts("Edit .env and index.html first. Done.") == [
        "Edit .env and index.html first.",
        "Done.",
    ]


def test_text_is_never_changed() -> None:
    text = "Get v1.2.3 from docs.example.com, one.Two stays. Next."
    result = segments(text, **PLAIN)
    assert [s.text for s in result] == ["Get v1.2.3 from docs.example.com, one.Two stays.", "Next."]
    for segment in result:
        assert text[segment.start : segment.end].strip() == segment.text


def test_ellipses() -> None:
    assert texts("Wait... what? I don't know... Maybe later.") == [
        "Wait... what?",
        "I don't know...",
        "Maybe later.",
    ]
    assert texts("Warte… was? Na gut… Dann eben nicht.", "de") == [
        "Warte… was?",
        "Na gut…",
        "Dann eben nicht.",
    ]
    assert texts("It ends here...") == ["It ends here..."]


def test_double_punctuation_and_closers() -> None:
    assert texts("Really?! Yes!! Why?? Because.") == ["Really?!", "Yes!!", "Why??", "Because."]
    assert texts('She said, "This is great." She left.') == [
        'She said, "This is great."',
        "She left.",
    ]
    assert texts('He said "stop." she said.') == ['He said "stop." she said.']
    assert texts("It was late (very late.) And then? Nothing.") == [
        "It was late (very late.)",
        "And then?",
        "Nothing.",
    ]
    assert texts("She works at Yahoo! in the accounting department.") == [
        "She works at Yahoo! in the accounting department."
    ]


def test_german_quotes() -> None:
    assert texts("Er sagte: „Ich komme.“ Dann ging er. »Gut!« Ende.", "de") == [
        "Er sagte: „Ich komme.“",
        "Dann ging er.",
        "»Gut!«",
        "Ende.",
    ]
    assert texts("„Lass uns essen gehen!“, sagte die Mutter.", "de") == [
        "„Lass uns essen gehen!“, sagte die Mutter."
    ]


# -- markdown ------------------------------------------------------------------------


def test_markdown_lines_and_paragraphs() -> None:
    text = "# Title\nSome text here\n\n- item one\n- item two\n\n1. first\n2. second\n\nEnd"
    result = segments(text, **PLAIN)
    assert [s.text for s in result] == [
        "# Title",
        "Some text here",
        "- item one",
        "- item two",
        "1. first",
        "2. second",
        "End",
    ]
    assert [s.speech_text for s in result] == [
        "Title",
        "Some text here",
        "item one",
        "item two",
        "1. first",
        "2. second",
        "End",
    ]


@pytest.mark.parametrize(
    "tokens", [["Call ", "`", "push", "`", ".", " Then"], list("Call `push`. T")]
)
def test_sentence_ending_in_inline_code_is_released_by_the_next_word(tokens: list[str]) -> None:
    # A closing backtick waits for the next character (it may start a longer run);
    # after that, what follows is decided at once instead of waiting for the next
    # backtick or line end.
    segmenter = IncrementalSegmenter("en", **PLAIN)
    released = [segmenter.push(token) for token in tokens]
    assert [s.text for s in released[-1]] == ["Call `push`."]
    assert not any(released[:-1])


def test_code_block_is_one_unspoken_segment() -> None:
    text = "Here:\n```python\nx = 1. Y = 2\n\nprint(x)\n```\nDone. Now."
    result = segments(text, **PLAIN)
    assert [(s.text, s.kind, s.speech_text) for s in result] == [
        ("Here:", "text", "Here:"),
        ("```python\nx = 1. Y = 2\n\nprint(x)\n```", "code", ""),
        ("Done.", "text", "Done."),
        ("Now.", "text", "Now."),
    ]
    spoken = segments(text, speak_code=True, **PLAIN)
    assert spoken[1].speech_text == "x = 1. Y = 2\n\nprint(x)"


def test_code_block_is_never_cut_even_when_long() -> None:
    body = "\n".join(f"line {i}. More." for i in range(100))
    text = f"~~~\n{body}\n~~~\nAfter."
    result = segments(text, max_chars=40, min_chars=0, first_clause_chars=None)
    assert result[0].kind == "code"
    assert result[0].text == f"~~~\n{body}\n~~~"
    assert [s.text for s in result[1:]] == ["After."]


def test_unclosed_code_block_runs_to_the_end() -> None:
    result = segments("Intro.\n```\ncode. More code.", **PLAIN)
    assert [(s.text, s.kind) for s in result] == [
        ("Intro.", "text"),
        ("```\ncode. More code.", "code"),
    ]


def test_code_block_released_when_its_closing_fence_line_ends() -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    assert segmenter.push("```\nx\n```") == []
    released = segmenter.push("\n")
    assert [s.kind for s in released] == ["code"]


def test_emphasis_and_links_do_not_confuse_boundaries() -> None:
    result = segments(
        "This is **important.** Next [see the docs](https://x.example/a.b). *Really.* Ok.", **PLAIN
    )
    assert [s.text for s in result] == [
        "This is **important.**",
        "Next [see the docs](https://x.example/a.b).",
        "*Really.*",
        "Ok.",
    ]
    assert [s.speech_text for s in result] == [
        "This is important.",
        "Next see the docs.",
        "Really.",
        "Ok.",
    ]


@pytest.mark.parametrize("text", ["Compute 3 * 7 now", "Set my_variable to 2", "a * b _ c"])
def test_lone_emphasis_marker_never_holds_back_the_reply(text: str) -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    released = segmenter.push(text + ". Next sentence. And")
    assert [s.text for s in released] == [text + ".", "Next sentence."]


# -- SSML-like tags ------------------------------------------------------------------


def test_tags_are_never_cut() -> None:
    text = (
        'Say <break time="1s"/> this. <spell>A. B. C.</spell> '
        'Then <lang xml:lang="de">Hallo. Welt.</lang> End.'
    )
    assert texts(text) == [
        'Say <break time="1s"/> this.',
        "<spell>A. B. C.</spell>",
        'Then <lang xml:lang="de">Hallo. Welt.</lang>',
        "End.",
    ]


def test_tag_split_across_tokens_is_not_cut() -> None:
    text = 'Wait <break time="2s"/> now.\nOk <spell>U. S.</spell> yes.'
    pieces = [
        "Wait <bre",
        "ak ti",
        'me="2',
        's"/',
        "> now.\nOk <sp",
        "ell>U. ",
        "S.</sp",
        "ell> yes.",
    ]
    assert run(pieces, **PLAIN) == run([text], **PLAIN)
    assert [s.text for s in run(pieces, **PLAIN)] == [
        'Wait <break time="2s"/> now.',
        "Ok <spell>U. S.</spell> yes.",
    ]


def test_a_tag_split_across_tokens_does_not_hold_back_the_sentences_after_it() -> None:
    # The scan waits at a "<" until its ">" arrives; once it has, the next sentence end
    # is released as soon as the word after it starts (it once waited for a backtick or
    # a line end, like inline code).
    segmenter = IncrementalSegmenter("en", **PLAIN)
    pieces = ["Hello <", "b", ">", " world", ".", " The", " cat", " sat", ".", " And"]
    released = [[s.text for s in segmenter.push(piece)] for piece in pieces]
    assert released[5] == ["Hello <b> world."]
    assert released[9] == ["The cat sat."]


def test_unclosed_span_ends_at_a_paragraph_break() -> None:
    assert texts("A <spell>B. C. Dee.\n\nNext. Part.") == ["A <spell>B. C. Dee.", "Next.", "Part."]


def test_a_less_than_sign_is_not_a_tag() -> None:
    assert texts("Is 3 < 5? Yes. And a<b too. Ok.") == ["Is 3 < 5?", "Yes.", "And a<b too.", "Ok."]


# -- other languages -----------------------------------------------------------------


def test_spanish_and_french_punctuation() -> None:
    assert texts("¿Qué tal? ¡Muy bien! Gracias, Sr. López.", "es") == [
        "¿Qué tal?",
        "¡Muy bien!",
        "Gracias, Sr. López.",
    ]
    assert texts("Bonjour ! Comment ça va ? « Très bien ! » dit-il. M. Dupont arrive.", "fr") == [
        "Bonjour !",
        "Comment ça va ?",
        "« Très bien ! » dit-il.",
        "M. Dupont arrive.",
    ]


@pytest.mark.parametrize("language", ["zh", "ja"])
def test_cjk_terminators_end_at_once(language: str) -> None:
    assert texts("你好。今天天气很好！你呢？「好的。」然后", language) == [
        "你好。",
        "今天天气很好！",
        "你呢？",
        "「好的。」",
        "然后",
    ]
    segmenter = IncrementalSegmenter(language, **PLAIN)
    assert [s.text for s in segmenter.push("你好。今")] == ["你好。"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "Il sig. Rossi è arrivato. Poi è partito."),
        ("nl", "Dhr. Jansen kwam bijv. laat. Daarna ging hij."),
        ("pt", "O Sr. Silva chegou. Depois saiu."),
    ],
)
def test_more_languages(language: str, text: str) -> None:
    assert len(texts(text, language)) == 2


@pytest.mark.parametrize("language", ["xx", "", "en-US", "de_AT", "tlh"])
def test_unknown_or_regional_language_codes_work(language: str) -> None:
    assert texts("Hello there. General Kenobi.", language) == ["Hello there.", "General Kenobi."]


# -- policy knobs --------------------------------------------------------------------


def test_min_chars_merges_short_sentences_but_not_the_first() -> None:
    result = texts("Yes. Sure. Fine. This one is long enough. Ok.", min_chars=12)
    # "Sure." and then "Sure. Fine." are still shorter than 12: merged with the next.
    assert result == ["Yes.", "Sure. Fine. This one is long enough.", "Ok."]
    merged = texts("Yes. Sure. Fine. This one is long enough.", min_chars=12, merge_first=True)
    assert merged == ["Yes. Sure. Fine.", "This one is long enough."]


def test_min_chars_does_not_merge_across_lines() -> None:
    assert texts("- Yes.\n- No.\n", min_chars=20) == ["- Yes.", "- No."]


def test_first_segment_may_end_at_a_clause() -> None:
    text = "Sure, here is the plan for today: first we go, then we stay. Later, we eat."
    assert texts(text, first_clause_chars=20) == [
        "Sure, here is the plan for today:",
        "first we go, then we stay.",
        "Later, we eat.",
    ]
    assert texts("Well — that depends, on you. Ok.", first_clause_chars=4) == [
        "Well —",
        "that depends, on you.",
        "Ok.",
    ]


def test_first_clause_never_cuts_numbers_or_times() -> None:
    assert texts("At 10:30 we had 1,000 guests and more. Ok.", first_clause_chars=1) == [
        "At 10:30 we had 1,000 guests and more.",
        "Ok.",
    ]


def test_max_chars_prefers_a_clause_boundary() -> None:
    text = (
        "This is a long sentence, with clauses; and more words here, "
        "and even more words until the end."
    )
    result = texts(text, max_chars=60)
    assert result == [
        "This is a long sentence, with clauses; and more words here,",
        "and even more words until the end.",
    ]
    assert all(len(t) <= 60 for t in result)


def test_max_chars_falls_back_to_a_word_boundary() -> None:
    result = texts("word " * 30, max_chars=22)
    assert all(len(t) <= 22 for t in result)
    assert " ".join(result) == ("word " * 30).strip()


def test_max_chars_never_cuts_a_url_or_a_tag() -> None:
    url = "https://example.com/" + "a" * 50
    result = texts(f'see {url} and <break time="1s"/> more words', max_chars=20)
    assert url in result[1] or url in result[0]
    assert any('<break time="1s"/>' in t for t in result)
    for t in result:
        assert t.count("<") == t.count(">")


def test_first_max_chars_caps_the_first_segment_only() -> None:
    text = (
        "Bring your insurance card and a list of your current medications today. "
        "The second sentence is long too and has no comma in it at all."
    )
    assert texts(text, first_max_chars=40) == [
        "Bring your insurance card and a list of",
        "your current medications today.",
        "The second sentence is long too and has no comma in it at all.",
    ]
    # Off (the default), the first sentence is one segment.
    assert texts(text)[0] == text.split(". ")[0] + "."


def test_first_max_chars_prefers_a_clause_mark_and_never_cuts_a_url() -> None:
    assert texts("If you arrive early, the café next door serves coffee.", first_max_chars=40) == [
        "If you arrive early,",
        "the café next door serves coffee.",
    ]
    url = "https://example.com/" + "a" * 40
    result = texts(f"Open {url} and then wait. Done.", first_max_chars=10)
    assert result[0] == "Open" and url in result[1]


def test_first_max_chars_below_max_chars_wins_and_a_short_first_sentence_is_untouched() -> None:
    rest = "Then " + "word " * 19
    assert texts("Sure! " + rest, first_max_chars=30, max_chars=100) == ["Sure!", rest.strip()]
    first = texts("word " * 20, first_max_chars=50, max_chars=12)[0]
    assert len(first) <= 12


# -- flush_partial, flush, reset, errors ----------------------------------------------


def test_flush_partial_hands_over_up_to_the_last_word_boundary() -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    assert segmenter.push("Hello wonderful wor") == []
    partial = segmenter.flush_partial()
    assert [s.text for s in partial] == ["Hello wonderful"]
    rest = segmenter.push("ld. Bye") + segmenter.push(" now.") + segmenter.flush()
    assert [s.text for s in rest] == ["world.", "Bye now."]
    assert rest[0].start == partial[0].end


def test_flush_partial_never_cuts_a_tag_span_or_code() -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    segmenter.push("Say <spell>A B C")
    assert [s.text for s in segmenter.flush_partial()] == ["Say"]
    segmenter.push("</spell> ok")
    code = IncrementalSegmenter(**PLAIN)
    code.push("```\nx = 1\ny")
    assert code.flush_partial() == []
    assert IncrementalSegmenter().flush_partial() == []


def test_push_after_flush_starts_a_new_reply() -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    segmenter.push("One. Two")
    segmenter.flush()
    assert segmenter.flush() == []
    again = segmenter.push("Three. Four") + segmenter.flush()
    assert [(s.index, s.start, s.text) for s in again] == [(0, 0, "Three."), (1, 6, "Four")]


def test_reset_forgets_the_buffer() -> None:
    segmenter = IncrementalSegmenter(**PLAIN)
    segmenter.push("Half a sent")
    segmenter.reset()
    assert [s.text for s in segmenter.push("New.") + segmenter.flush()] == ["New."]


@pytest.mark.parametrize("bad", [None, b"bytes", 3, ["a"]])
def test_push_rejects_non_str(bad: Any) -> None:
    with pytest.raises(TypeError, match="push"):
        IncrementalSegmenter().push(bad)


@pytest.mark.parametrize(
    ("knobs", "error", "match"),
    [
        ({"max_chars": 0}, ValueError, "max_chars"),
        ({"min_chars": -1}, ValueError, "min_chars"),
        ({"first_clause_chars": -5}, ValueError, "first_clause_chars"),
        ({"first_max_chars": 0}, ValueError, "first_max_chars"),
        ({"first_max_chars": 2.5}, TypeError, "first_max_chars"),
        ({"max_chars": "10"}, TypeError, "max_chars"),
        ({"min_chars": None}, TypeError, "min_chars"),
        ({"min_chars": True}, TypeError, "min_chars"),
        ({"normalize": "yes"}, TypeError, "normalize"),
    ],
)
def test_bad_knobs_are_rejected(knobs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        IncrementalSegmenter("en", **knobs)


def test_bad_language_type() -> None:
    with pytest.raises(TypeError, match="language"):
        IncrementalSegmenter(3)  # type: ignore[arg-type]


def test_empty_and_whitespace_only_input() -> None:
    assert run([""]) == []
    assert run(["   ", "\n\n", "\t"]) == []


def test_custom_normalizer_and_none() -> None:
    shout = segments("hi there. Ok", normalize=str.upper, **PLAIN)
    assert [s.speech_text for s in shout] == ["HI THERE.", "OK"]
    raw = segments("**bold** text", normalize=None, **PLAIN)
    assert raw[0].speech is None


def test_segment_to_dict_round_trip() -> None:
    (segment,) = segments("# Hi", **PLAIN)
    assert segment.to_dict() == {
        "index": 0,
        "start": 0,
        "end": 4,
        "text": "# Hi",
        "kind": "text",
        "speech": "Hi",
    }


# -- speech normalizer ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speech"),
    [
        ("**Note:** see [the docs](https://docs.example.com/a) 🙂", "Note: see the docs"),
        ("Visit https://www.example.com/path?q=1.", "Visit example.com."),
        ("## Heading", "Heading"),
        ("- item", "item"),
        ("* item with *emphasis*", "item with emphasis"),
        ("1. Open the settings", "1. Open the settings"),
        ("Use `pip install x` now", "Use pip install x now"),
        ("3 * 7 = 21", "3 * 7 = 21"),
        ("my_variable and snake_case_name", "my_variable and snake_case_name"),
        ("~~old~~ new", "old new"),
        ("---", ""),
        ("| a | b |", "a, b"),
        ("|---|---|", ""),
        ("Great 🎉🎉!", "Great!"),
        ('Wait <break time="1s"/> ok', 'Wait <break time="1s"/> ok'),
        ("> quoted", "quoted"),
        ("![alt text](img.png)", "alt text"),
    ],
)
def test_normalize_speech(text: str, speech: str) -> None:
    assert normalize_speech(text) == speech


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The request took 200 ms. The server was slow.", 2),
        ("Ms. Smith measured 200 ms in total.", 1),
        ("We met at 5. Dr. Smith was late.", 2),
        ("Es kostet 5 St. Danach ist alles gut.", 2),
        ("Ich wohne in Haus 5 Nr. 3 im Erdgeschoss.", 1),
    ],
)
def test_title_after_a_number_is_a_unit(text: str, expected: int) -> None:
    language = "de" if "Es " in text or "Ich " in text else "en"
    assert len(texts(text, language)) == expected
