"""Character classes and the patterns built from them, shared by every rule family."""

from __future__ import annotations

import re

#: Sentence terminators that need a following space (or line end) to end a sentence.
TERMS = ".!?…‼⁇⁈⁉"
#: Terminators that end a sentence at once, with or without a following space.
CJK_TERMS = "。！？｡"
#: Marks that may open the next sentence before its first letter.
OPENERS = "\"'“‘„‚«‹»›¿¡*_~[「『（"
BULLETS = "•⁃◦▪‣"
#: Clause marks (a dash only between spaces) where the first segment may end early.
CLAUSE_CHARS = ",;:—–-"
#: Closing quotes and brackets that may follow a terminator inside its run.
CLOSERS = "\"'“”‘’»«›‹)]}」』）】〕〉》*_~"
RUN_CHARS = frozenset(TERMS + CLOSERS)

#: Characters the scan loop stops at; everything else is skipped by the regex engine.
CANDIDATES = re.compile(r"[.!?…‼⁇⁈⁉。！？｡\n<`)•⁃◦▪‣]")
#: The same, plus clause marks, while the first segment may still end at a clause.
CLAUSE_CANDIDATES = re.compile(r"[.!?…‼⁇⁈⁉。！？｡\n<`)•⁃◦▪‣,;:—–-]")
#: Inside a tagged span only a line end or another tag can matter.
SPAN_CANDIDATES = re.compile(r"[\n<]")

# Runs are bounded so that a decision never re-reads an unbounded run on every push.
TERM_RUN = re.compile(
    r"[.!?…‼⁇⁈⁉]{1,16}(?:[\"'“”‘’»«›‹)\]}」』）】〕〉》*_~]{1,8}[.!?…‼⁇⁈⁉]{0,8}){0,4}"
)
CJK_RUN = re.compile(r"[。！？｡!?]{1,16}[\"'“”‘’»«›‹)\]}」』）】〕〉》]{0,8}")
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
