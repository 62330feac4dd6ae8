"""Abbreviation data of the German and English rules (src/e2estream/_lang/de.py, en.py).

German (``abbreviation_needs_starter``): a period after a listed abbreviation ends the
sentence only before a starter word ("usw. Das"), so an abbreviation followed by a
capitalised noun must not split; an abbreviation missing from the lists would. English:
a listed general abbreviation still ends the sentence before a capitalised word, but not
before a number ("Fig. 3"); a prepositive one ("Rev.", "incl.") never does.

Every case is checked three ways (whole text, one character at a time, LLM-like
tokens): the segments must not depend on how the text arrives.
"""

from __future__ import annotations

import pytest

from e2estream._lang import rules_for
from e2estream.testing import split_like_llm
from helpers import PLAIN, run


def texts(text: str, language: str) -> list[str]:
    """Sentence texts of ``text``, asserting they are the same for three tokenizations."""
    whole = run([text], language, **PLAIN)
    assert run(list(text), language, **PLAIN) == whole
    assert run(split_like_llm(text), language, **PLAIN) == whole
    return [segment.text for segment in whole]


# -- German: an abbreviation before a capitalised word (or a number) does not split -----


@pytest.mark.parametrize(
    "text",
    [
        # general abbreviations (may end a sentence, but only before a starter)
        "Der Aufbau ist in Abb. A im Anhang skizziert.",
        "Die Rohdaten stehen in Anh. B des Berichts.",
        "Bitte senden Sie Anl. C unterschrieben zurück.",
        "Er meinte die Hauptstadt (Anm. Redaktion: Berlin).",
        "Die alte Anschr. Hauptstraße 5 gilt nicht mehr.",
        "Das Lehrbuch, 3. Aufl. Berlin 2019, ist vergriffen.",
        "Die Zeitschrift, Ausg. März 2024, liegt im Regal.",
        "Wir spielen die bearb. Fassung von Müller.",
        "Er wohnt im Bez. Mitte von Berlin.",
        "Wir treffen uns am Bhf. Zoo um acht Uhr.",
        "Verkaufe einen Golf, Bj. 2015, mit wenig Kilometern.",
        "Die Geschichte geht weiter (Forts. Seite 5).",
        "Wir kaufen die Möbel bei Gebr. Müller in Köln.",
        "Das Schreiben endet mit gez. Weber und einem Stempel.",
        "Der Zug fährt ab München Hbf. Richtung Salzburg.",
        "Die Bäckerei Schmidt, Inh. Klaus Schmidt, hat geöffnet.",
        "Die Zeitschrift, Jg. 12, Heft 3, ist online.",
        "Die Baukunst des 12. Jhdt. Italiens beeindruckt mich.",
        "Sie besucht die 5. Kl. Gymnasium in Bonn.",
        "Die Firma Meyer Nachf. Inhaber Schulz hat geschlossen.",
        "Das regelt Pkt. B des Vertrags.",
        "Das Wort Haus (Pl. Häuser) ist sächlich.",
        "Bitte prüfen Sie Pos. B der Rechnung.",
        "Die Rede hielt Präs. Steinmeier in Berlin.",
        "Die Reg. Merkel beschloss das Gesetz.",
        "Siehe Rn. 12 des Kommentars.",
        "Siehe Rz. 7 der Begründung.",
        "Wir brauchen 5 Stk. Schrauben und Muttern.",
        "Das Buch erschien im Verl. Beck in München.",
        "Die Sitzung leitete der Vors. Peter Schmidt.",
        "Die Whg. Nummer 3 ist noch frei.",
        "Die Buchung für Zi. Nr. 12 ist bestätigt.",
        "Das Urteil (Az. 3 C 12/24) ist rechtskräftig.",
        "Das Gesetz steht im BGBl. I S. 1234 vom Juli.",
        "Das Kleid in Gr. M ist ausverkauft.",
        "Das eigtl. Problem liegt woanders.",
        "Der Preis versteht sich einschl. Verpackung und Versand.",
        "Wir ergreifen entspr. Maßnahmen noch heute.",
        "Bitte beachten Sie die erg. Hinweise im Anhang.",
        "Der Umsatz stieg ggü. Vorjahr um fünf Prozent.",
        "Wir kauften Äpfel, Birnen usf. Pflaumen gab es nicht.",
        "Es gibt zz. Probleme mit dem Server.",
        "Es gibt zzt. Probleme mit dem Server.",
        "Er lebte in der ehem. DDR bis 1989.",
        "Das ist ein ugs. Ausdruck für Geld.",
        "Das gilt bes. Kindern und Älteren gegenüber.",
        "Bitte geben Sie keine pers. Daten weiter.",
        "Es fallen zus. Kosten für den Versand an.",
        "Wir sehen uns Anf. Mai in Berlin.",
        "Die Hl. Schrift liegt auf dem Altar.",
        "Der röm. Kaiser Augustus regierte lange.",
        "Wir mögen die ital. Küche sehr.",
        "Das ist ein griech. Wort für Liebe.",
        "Er liest russ. Literatur im Original.",
        # academic degrees after "Dr."
        "Dr. phil. Anna Schmidt hält den Vortrag.",
        "Dr. jur. Hans Weber vertritt die Klägerin.",
        "Dr. rer. nat. Eva Braun leitet das Labor.",
        "Dr. med. dent. Jan Vogel behandelt Kinder.",
        "Dr. med. vet. Lena Roth behandelt Pferde.",
        "Dr. phil. habil. Karl Klein lehrt in Jena.",
        "Dr. theol. Martin Lang predigt heute.",
        # weekdays and months
        "Geöffnet Mo. 9 bis 17 Uhr und Di. 9 bis 12 Uhr.",
        "Die Sprechstunde ist Mi. 14 Uhr und Do. 10 Uhr.",
        "Sehr geehrte Fr. Müller, vielen Dank für Ihre Nachricht.",
        "Geöffnet Fr. 8 bis 12 Uhr.",
        "Geöffnet Sa. 10 bis 14 Uhr.",
        "Das war am 5. Feb. 2024 in Berlin.",
        "Das war am 5. Mrz. 2024 in Berlin.",
        "Das war am 5. Apr. 2024 in Berlin.",
        "Das war am 5. Jun. 2024 in Berlin.",
        "Das war am 5. Jul. 2024 in Berlin.",
        "Das war am 5. Aug. 2024 in Berlin.",
        "Das war am 5. Sep. 2024 in Berlin.",
        "Das war am 5. Sept. 2024 in Berlin.",
        "Das war am 5. Okt. 2024 in Berlin.",
        "Das war am 5. Nov. 2024 in Berlin.",
        "Das war am 5. Dez. 2024 in Berlin.",
        # prepositive: always followed by more text, even by a starter
        "Wir schreiben Ihnen bzgl. Ihrer Anfrage vom Montag.",
        "Wir passen ggfs. Termine und Preise an.",
        "Das gilt insb. Kindern gegenüber.",
        "Das gilt insbes. Kindern gegenüber.",
        "Bitte notieren Sie die lfd. Nummer der Rechnung.",
        "Er ist stellv. Vorsitzender des Vereins.",
        "Wir bestellen bei Fa. Meier in Bonn.",
        "Der Brief geht z. Hd. Herrn Müller an die Firma.",
        "Der Brief geht z.Hd. Frau Meier an die Firma.",
        "Das betrifft u. E. Sie als Mieter.",
        "Das betrifft m. W. Sie nicht.",
        # ordinal before an abbreviated noun, after a word that is no ordinal cue
        "Das Buch, 2. Ausg. Leipzig 1910, ist selten.",
        "Die Reihe, 4. Bd. Hamburg 2001, ist vollständig.",
        "Die Kinder, 7. Kl. Realschule, fahren weg.",
        "Die Zeitschrift, 12. Jg. Heft 3, ist online.",
        "Berlin, 3. Aufl. 2019.",
        "Rom, 12. Jhdt. Kirche und Kloster.",
    ],
)
def test_german_abbreviation_does_not_split(text: str) -> None:
    assert texts(text, "de") == [text]


# -- German: an abbreviation before a starter ends the sentence --------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Wir kauften Äpfel, Birnen, Pflaumen usf.", "Das war genug für den Winter."),
        ("Wir treffen uns am Fr.", "Dann reden wir in Ruhe."),
        ("Alle Messwerte stehen im Anh.", "Dort findest du auch die Tabellen."),
        ("Den Verlauf zeigt die Abb.", "Hier sieht man den Anstieg deutlich."),
        ("Der Zug endet in Köln Hbf.", "Wir steigen dort um."),
        ("Das Buch erschien in der 3. Aufl.", "Sie ist leider vergriffen."),
        ("Die Kirche stammt aus dem 12. Jhdt.", "Sie wurde später erweitert."),
        ("Die Praxis ist geschlossen bis einschl. Mo.", "Am Dienstag sind wir wieder da."),
        ("Wir kommen am 5. Okt.", "Dann ist alles fertig."),
    ],
)
def test_german_abbreviation_before_a_starter_ends_the_sentence(first: str, second: str) -> None:
    assert texts(f"{first} {second}", "de") == [first, second]


# -- German: ordinary words stay out of the lists, so they end sentences -----------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Komm doch mal.", "Wir warten schon."),
        ("Ich gebe es dir.", "Morgen reden wir weiter."),
        ("Mach es genau so.", "Alles wird gut."),
        ("Öffne den Tab.", "Klicke dann auf Speichern."),
        ("Das ist mein Freund Jan.", "Morgen kommt er zu Besuch."),
        ("Forscher fanden ein neues Gen.", "Weitere Studien folgen."),
        ("Die Maut gilt nur für Lkw.", "Autos sind davon befreit."),
        ("Das kostet 50 Euro zzgl. MwSt.", "Versand ist kostenlos."),
        ("Nehmen Sie die Tablette zweimal tägl.", "Trinken Sie viel Wasser."),
        ("Die Stadt hat 80.000 Einw.", "Berlin ist viel größer."),
        ("Das erklärt er auf S. 12 ff.", "Weitere Belege fehlen."),
    ],
)
def test_german_ordinary_word_still_ends_the_sentence(first: str, second: str) -> None:
    assert texts(f"{first} {second}", "de") == [first, second]


@pytest.mark.parametrize(
    "word",
    [
        "so", "mal", "bei", "wo", "an", "um", "am", "er", "es", "die", "den", "dir", "gen",
        "tab", "jan", "mär", "lkw", "pkw", "kfz", "mwst", "tägl", "einw", "ff",
    ],
)  # fmt: skip
def test_german_ordinary_words_are_no_abbreviations(word: str) -> None:
    rules = rules_for("de")
    assert word not in rules.abbreviations
    assert word not in rules.prepositive


def test_german_fr_is_weekday_or_title() -> None:
    rules = rules_for("de")
    assert "fr" in rules.abbreviations
    assert "fr" not in rules.prepositive


# -- English ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # prepositive: never ends a sentence, not even before a capitalised word
        "Rev. Martin Luther King Jr. gave a famous speech.",
        "We met Fr. John after Mass.",
        "Atty. Gen. Smith issued a statement.",
        "Asst. Prof. Lee teaches the course.",
        "She is an Assoc. Prof. at Yale.",
        "Pvt. Ryan was rescued in the end.",
        "Cpl. Jones led the patrol.",
        "Det. Harris solved the case.",
        "Insp. Morse drove a Jaguar.",
        "Msgr. Kelly celebrated Mass.",
        "They flew into Denver Intl. Airport yesterday.",
        "Visit Yellowstone Natl. Park this summer.",
        "The price is $50 incl. VAT and shipping.",
        "The price is $40 excl. VAT and shipping.",
        "We visited two cities, viz. London and Paris.",
        "Bruce Springsteen, a.k.a. The Boss, played for hours.",
        # general abbreviations before a number
        "Take County Rd. 9 north.",
        "Take Hwy. 101 south to the coast.",
        "The office is in Bldg. 5 on campus.",
        "Substitute Eq. 3 into the model.",
        "See Eqs. 3 and 4 for the proof.",
        "See Ref. 12 for the original data.",
        "See Refs. 12 and 14 for details.",
        "Read Ch. 3 before the exam.",
        "See Sect. 2 for the definitions.",
        "See Para. 4 of the contract.",
        "The wait is avg. 15 minutes on weekdays.",
        "Order Qty. 20 before Friday.",
        "It happened on Mar. 15 last year.",
        "The quote is from Smith, ibid. 45 in the notes.",
    ],
)
def test_english_abbreviation_does_not_split(text: str) -> None:
    assert texts(text, "en") == [text]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("We live on Abbey Rd.", "The studio is next door."),
        ("It happened in Mar.", "Then it snowed for a week."),
        ("The results are in Ch.", "They look good."),
        ("She said no.", "The others agreed."),
        ("We sat.", "5 minutes passed."),
        ("Look at the sun.", "3 birds flew by."),
    ],
)
def test_english_sentence_end_after_abbreviation_or_word(first: str, second: str) -> None:
    assert texts(f"{first} {second}", "en") == [first, second]


@pytest.mark.parametrize("word", ["in", "sat", "sun", "tab", "art", "rt", "chap"])
def test_english_ordinary_words_are_no_abbreviations(word: str) -> None:
    rules = rules_for("en")
    assert word not in rules.abbreviations
    assert word not in rules.prepositive
