"""Language data from public standards (src/e2estream/_lang): terminators, abbreviations.

* Terminators: Unicode's Sentence_Break STerm and ATerm (UAX #29), plus CLDR's Greek
  ``;``: the marks of other scripts end a sentence, with or without a space after them.
* Abbreviations: CLDR's sentence-break suppressions and LibreOffice's sentence
  exceptions, merged with the project's lists (the project's word wins).
* An abbreviation followed by a label (a number, a roman numeral, a letter, a letter
  with digits) or by another abbreviation continues the sentence.

Every example is checked three ways (whole text, one character at a time, LLM-like
tokens). The sentences are written for these tests.
"""

from __future__ import annotations

import unicodedata

import pytest

from e2estream._lang import rules_for
from e2estream._lang.cldr_suppressions import EXTRA_STERM, SUPPRESSIONS
from e2estream._lang.libreoffice_exceptions import EXCEPTIONS
from e2estream._lang.unicode_terminators import ATERM, STERM
from helpers import texts


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("hi", "आज मौसम अच्छा है।", "हम बाहर चलेंगे।"),
        ("hi", "क्या तुम आओगे?", "मुझे बताना॥"),
        ("ar", "هل قرأت الكتاب؟", "نعم قرأته."),
        ("ur", "یہ میرا گھر ہے۔", "وہ تمہارا ہے۔"),
        ("hy", "Այսօր եղանակը լավ է։", "Մենք կգնանք զբոսնելու։"),
        ("el", "Πού είναι ο σταθμός;", "Είναι κοντά."),
        ("el", "Πού είναι ο σταθμός\u037e", "Είναι κοντά."),
        ("am", "ዛሬ ጥሩ ቀን ነው።", "ወደ ገበያ እንሄዳለን።"),
        ("my", "ဒီနေ့ ရာသီဥတု ကောင်းတယ်။", "ကျွန်တော် သွားမယ်။"),
        ("zh", "今天天气很好。", "我们去公园吧！"),
        ("ja", "今日は晴れです。", "散歩に行きましょう？"),
        ("zh", "数据如下．", "请查看。"),
    ],
)
def test_terminators_of_other_scripts_end_a_sentence(
    language: str, first: str, second: str
) -> None:
    assert texts(f"{first} {second}", language) == [first, second]
    if language in ("zh", "ja", "my"):  # written without a space between sentences
        assert texts(first + second, language) == [first, second]


def test_a_full_width_point_between_digits_is_a_decimal_point() -> None:
    assert texts("円周率は３．１４です。はい。", "ja") == ["円周率は３．１４です。", "はい。"]


def test_greek_semicolon_is_a_terminator_only_in_greek() -> None:
    assert texts("Τι ώρα είναι; Είναι αργά.", "el") == ["Τι ώρα είναι;", "Είναι αργά."]
    assert texts("First this; Then that.", "en") == ["First this; Then that."]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Мы живём на ул. Садовой возле парка."),
        ("ru", "В 1990-х гг. Россия сильно изменилась."),
        ("ru", "Доклад сделал проф. Петров из Москвы."),
        ("ru", "Это было в 300 г. до н. э. в Греции."),
        ("pl", "Przyszli m.in. Anna i Tomek z pracy."),
        ("pl", "Kup owoce, np. Jabłka albo gruszki."),
        ("sv", "Vi besökte bl.a. Göteborg och Malmö."),
        ("da", "Vi mødte f.eks. Peter ved stationen."),
        ("cs", "Přijel např. Pavel se svou sestrou."),
        ("sk", "Prišiel napr. Juraj so svojím bratom."),
        ("nl", "Neem bijv. Jan als voorbeeld hier."),
        ("es", "Ella vive en EE. UU. desde hace años."),
        ("es", "Consulte el No. 7 del anexo."),
        ("it", "Vedi l'art. 12 della legge regionale."),
        ("it", "Ha parlato l'Ing. Bianchi alla riunione."),
        ("fr", "La partie A. Karpov vs. B. Spassky dura longtemps."),
        ("xx", "La partie A. Karpov vs. B. Spassky dura longtemps."),
        ("en", "The match A. Karpov vs. B. Spassky lasted long."),
    ],
)
def test_abbreviations_of_public_lists_do_not_split(language: str, text: str) -> None:
    assert texts(text, language) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "The raw data are in Fig. S1 of the supplement.",
        "The king is listed as No. IV in the register.",
        "The proof is in App. A of the paper.",
        "The fare was Rs. 3520 for two.",
        "This is governed by Sec. 4(b) of the act.",
        "He works for Samsung Co. Ltd. in Seoul.",
        "The meeting is on Mon. Jan. 5 at noon.",
        "Gen. Patton met Lt. Dan and Maj. Smith there.",
    ],
)
def test_an_abbreviation_before_a_label_continues_the_sentence(text: str) -> None:
    assert texts(text, "en") == [text]


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("en", "I met my friend Joe.", "He was late."),
        ("en", "We bought apples, pears etc.", "Then we went home."),
        ("ru", "Мы поехали в Москву.", "Там было холодно."),
        ("pl", "To był dobry dzień.", "Jutro też będzie."),
        ("es", "Le dije que no.", "Luego me fui."),
        ("sv", "Vi åkte hem.", "Sedan åt vi."),
    ],
)
def test_ordinary_sentence_ends_still_split(language: str, first: str, second: str) -> None:
    assert texts(f"{first} {second}", language) == [first, second]


def test_generated_terminators_are_unicode_sentence_terminators() -> None:
    # A sample every version of the data must hold, and nothing that is a letter.
    for char in "!?։؟۔।॥።။。！？｡‼":
        assert char in STERM
    assert set(".．") <= set(ATERM)
    for char in STERM + ATERM:
        # Punctuation (or unassigned in the older Unicode of this Python's unicodedata).
        assert unicodedata.category(char) in ("Po", "Cn"), hex(ord(char))
    assert EXTRA_STERM["el"] == ";\u037e"


def test_public_abbreviation_lists_cover_the_languages() -> None:
    for code in ("en", "de", "fr", "es", "it", "pt", "ru"):
        assert len(SUPPRESSIONS[code]) >= 15, code
    for code in ("nl", "pl", "sv", "da", "sk"):
        assert len(EXCEPTIONS[code]) >= 100, code
    # Entries are abbreviations as written (a few in the sources lack the final period).
    entries = [entry for lists in (*SUPPRESSIONS.values(), *EXCEPTIONS.values()) for entry in lists]
    assert sum(entry.endswith(".") for entry in entries) >= 0.99 * len(entries)


def test_the_project_lists_win_over_the_public_ones() -> None:
    # CLDR suppresses a break after "Joe." and German "So."; the project does not.
    assert "Joe" not in rules_for("en").never_final
    assert "so" not in rules_for("de").abbreviations
    # The project's own never-final list (US states, issue 9) wins over "may end".
    assert "Calif" in rules_for("en").never_final
    assert "calif" not in rules_for("en").abbreviations
    assert "bijv" in rules_for("nl").never_final
