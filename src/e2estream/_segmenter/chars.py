"""Character classes and the patterns built from them, shared by every rule family."""

from __future__ import annotations

import functools
import re

from .._lang.unicode_terminators import ATERM, STERM


def _split_terminators() -> tuple[str, str]:
    """Unicode's terminators (UAX #29 STerm and ATerm), by how a sentence ends after them.

    The Latin-script marks (ASCII and the General and Supplemental Punctuation blocks:
    ``. ! ? ‼ ‽ ⁇``) end a sentence only before a space, and a period is often no end at
    all ("3.14", "Dr."). The marks of other scripts (``。 ！ ։ । ؟ ۔ ። ။ ．``) are
    written only at a sentence's end, often with no space after them.
    """
    spaced = ""
    at_once = ""
    for char in STERM + ATERM:
        if char.isascii() or "\u2000" <= char <= "\u2e7f":
            spaced += char
        else:
            at_once += char
    return spaced + "…", at_once


#: Terminators that need a following space (or line end) to end a sentence.
TERMS, AT_ONCE_TERMS = _split_terminators()
#: Marks that may open the next sentence before its first letter.
OPENERS = "\"'“‘„‚«‹»›¿¡*_~[「『（"
BULLETS = "•⁃◦▪‣"
#: Clause marks (a dash only between spaces) where the first segment may end early.
CLAUSE_CHARS = ",;:—–-"
#: Period-like terminators of other scripts that sit between digits in numbers ("３．１４").
NUMBER_POINTS = "．﹒"
#: Closing quotes and brackets that may follow a terminator inside its run.
CLOSERS = "\"'“”‘’»«›‹)]}」』）】〕〉》*_~"
RUN_CHARS = frozenset(TERMS + CLOSERS)

# Terminators beyond the BMP (Brahmi, Sharada, ...) are matched as "any astral
# character": a class that lists them makes the regex engine test each one, five times
# slower on every delta; the rule table then skips astral characters that are none.
_CLASS = re.escape("".join(c for c in TERMS + AT_ONCE_TERMS if ord(c) < 0x10000))
_CLASS += "\U00010000-\U0010ffff"
_SPACED = re.escape(TERMS)
_CLOSER_CLASS = re.escape(CLOSERS)


@functools.cache
def candidates(extra_terms: str = "", clauses: bool = False) -> re.Pattern[str]:
    """The characters the scan stops at; everything else is skipped by the regex engine.

    Args:
        extra_terms: Terminators a language adds (Greek ``;``).
        clauses: Stop at clause marks too (while the first segment may end at one).
    """
    clause = re.escape(CLAUSE_CHARS) if clauses else ""
    return re.compile(f"[{_CLASS}{re.escape(extra_terms)}\n<`){BULLETS}{clause}]")


CANDIDATES = candidates()
#: Inside a tagged span only a line end or another tag can matter.
SPAN_CANDIDATES = re.compile(r"[\n<]")

# Runs are bounded so that a decision never re-reads an unbounded run on every push.
TERM_RUN = re.compile(f"[{_SPACED}]{{1,16}}(?:[{_CLOSER_CLASS}]{{1,8}}[{_SPACED}]{{0,8}}){{0,4}}")
AT_ONCE_RUN = re.compile(f"[{re.escape(AT_ONCE_TERMS)}!?]{{1,16}}[{_CLOSER_CLASS}]{{0,8}}")
WHITESPACE = re.compile(r"\s*")
SHORT_WHITESPACE = re.compile(r"\s{0,16}")
NON_SPACE = re.compile(r"\S")
SPACE = re.compile(r"\s")
LETTERS = re.compile(r"[^\W\d_]+")
NUMBER = re.compile(r"[#$€£¥%+±(-]*\d[\d.,:/'%-]*\Z")
MULTI_PERIOD = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}\Z")
CLAUSE_MARK = re.compile(r"[,;:—–](?=\s)|(?<=\s)-(?=\s)")

BACK = 40  # how far back the word before a period may reach
WORD_LEAD = "\"'“‘„‚«‹([{¿¡*_~"  # stripped before the word before a period
PREV_STRIP = "\"'“‘„‚«‹([{*_~,;:"  # stripped around the token before that
MAX_WS_WAIT = 16  # after this much whitespace (no newline) a boundary is decided
MAX_WORD = 24  # a following word this long is no starter, month or ordinal noun


def is_upper_start(char: str) -> bool:
    """Does ``char`` start a capitalised word (or a word of a script without case)?"""
    return char.isupper() or (char.isalpha() and not char.islower())
