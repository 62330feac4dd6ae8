"""Does a period end a sentence? Abbreviations, numbers, ordinals, initials, "U.S.".

The language's data (:mod:`e2estream._lang`) says which words are abbreviations, which
never end a sentence (titles, "e.g."), which words open a sentence, and around which
words a number with a period is an ordinal. Every look back is bounded by ``BACK``
characters and by the segment's start, so a decision reads a bounded window.
"""

from __future__ import annotations

import re

from .chars import BACK, LETTERS, MAX_WORD, MULTI_PERIOD, NUMBER, PREV_STRIP, WORD_LEAD
from .state import ScanState

__all__ = ["period_ends_sentence", "plain_word", "prefixes"]

_ELISION = re.compile(r"['’]")
# What may follow an abbreviation in the same sentence: a roman numeral ("No. IV"), a
# letter with digits ("Fig. S1"), or one letter ("App. A").
_LABEL = re.compile(r"[IVXLCDM]{2,8}|[^\W\d_]\d+[^\W\d_]?|[^\W\d_]")


def prefixes(words: frozenset[str]) -> frozenset[str]:
    """Every non-empty prefix of every word (to stop waiting for a word early)."""
    return frozenset(word[:end] for word in words for end in range(1, len(word) + 1))


def prev_token(text: str, end: int, seg: int) -> tuple[int, str]:
    """The whitespace-delimited token ending at ``end`` (not before ``seg``), and its start."""
    lo = max(seg, end - BACK)
    start = text.rfind(" ", lo, end) + 1 or lo
    token = text[start:end]
    if "\n" in token or "\t" in token:
        # Other whitespace is rare: look for it only inside the (short) token.
        start = max(start, text.rfind("\n", start, end) + 1, text.rfind("\t", start, end) + 1)
        token = text[start:end]
    return start, token


def plain_word(st: ScanState, text: str, i: int, seg: int, shortest: int = 2) -> bool:
    """Is the token before ``i`` an ordinary word that cannot be an abbreviation?"""
    _, token = prev_token(text, i, seg)
    word = token.lstrip(WORD_LEAD)
    if not word.isalpha() or len(word) < shortest:
        return False
    lower = word.lower()
    return lower not in st.rules.abbreviations and lower not in st.rules.prepositive


def _unit_after_number(st: ScanState, lower: str, text: str, start: int, seg: int) -> bool:
    """Is the title-like word at ``start`` a unit after a number ("200 ms.")?"""
    return (
        lower in st.rules.number_units
        and start >= seg + 2
        and text[start - 1] == " "
        and text[start - 2].isdigit()
    )


def period_ends_sentence(
    st: ScanState, text: str, i: int, k: int, upper: bool, seg: int, final: bool
) -> bool | None:
    """Does the period at ``i`` end a sentence?

    Args:
        st: The scan state (language data).
        text: The buffer.
        i: Index of the period.
        k: Index of the next word's first character, a capital (``upper``) or a digit.
        upper: Whether the next word starts with a capital (else with a digit).
        seg: Index where the segment starts (no look back before it).
        final: Whether the text ends here (no more text can come).

    Returns:
        True or False, or None while the next word may still become a deciding word.
    """
    rules = st.rules
    start, word = prev_token(text, i, seg)
    word = word.lstrip(WORD_LEAD)
    if not word:
        return upper
    elided = False
    if "'" in word or "’" in word:
        # "l'Ing.", "dell'art.": an elided article is no part of the abbreviation.
        word = _ELISION.split(word)[-1]
        elided = True
        if not word:
            return upper
    if word in rules.never_final and not _unit_after_number(st, word.lower(), text, start, seg):
        return False
    lower = word.lower()
    alpha = word.isalpha()
    if alpha and len(word) > 3:
        # The common case, an ordinary word: only the abbreviation lists matter.
        if lower in rules.prepositive and not _unit_after_number(st, lower, text, start, seg):
            return False
        listed = lower in rules.abbreviations or lower.endswith(rules.abbreviation_suffixes)
        if not upper:
            return not listed
        if not listed:
            return True
        if not rules.abbreviation_needs_starter:
            return _not_continued(st, text, k, final)
    combined = lower
    prev_lower = ""
    # A word of letters is no number; and the token before it can only combine with it
    # ("z. B.") if that token ends with a period.
    is_number = not alpha and NUMBER.match(word) is not None
    if (
        not elided
        and start > seg + 1
        and (len(word) <= 3 or is_number)
        and (not alpha or text[start - 2] == "." or text[start - 2] in PREV_STRIP)
    ):
        # "z. B.", "u. Ä.": an abbreviation written with an inner space; and the word
        # before a number ("am 3. Oktober").
        _, prev = prev_token(text, start - 1, seg)
        prev = prev.strip(PREV_STRIP)
        prev_lower = prev.lower()
        if prev_lower.endswith(".") and 2 <= len(prev_lower) <= 4:
            combined = prev_lower + lower
            if prev + word in rules.never_final:
                return False  # "до н. э."
    if (lower in rules.prepositive or combined in rules.prepositive) and not _unit_after_number(
        st, lower, text, start, seg
    ):
        return False
    is_abbreviation = (
        lower in rules.abbreviations
        or combined in rules.abbreviations
        or lower.endswith(rules.abbreviation_suffixes)
    )
    is_initial = len(word) == 1 and word.isalpha()
    is_multi = "." in word and MULTI_PERIOD.match(word) is not None
    if not upper:
        return not (is_number or is_abbreviation or is_initial or is_multi) and (word[-1].isalpha())
    needs_starter = is_multi or is_initial or (is_abbreviation and rules.abbreviation_needs_starter)
    check_ordinal = is_number and rules.ordinal_numbers
    if not (needs_starter or check_ordinal):
        return _not_continued(st, text, k, final) if is_abbreviation else True
    next_word = LETTERS.match(text, k)
    if next_word is None:
        return not check_ordinal and not needs_starter
    following = next_word.group().lower()
    if next_word.end() >= len(text) and not final and next_word.end() - k < MAX_WORD:
        # The word may go on; wait, unless no word in the list starts like this.
        waiting_for = st.ordinal_prefixes if check_ordinal else st.starter_prefixes
        if following in waiting_for:
            return None
    if check_ordinal:
        return following not in rules.ordinal_after and (
            prev_lower.rstrip(".") not in rules.ordinal_before
        )
    return following in rules.starters


def _not_continued(st: ScanState, text: str, k: int, final: bool) -> bool | None:
    """After an abbreviation, does the capitalised word at ``k`` start a new sentence?

    It does not when it is a label ("Fig. S1", "No. IV", "App. A") or another
    abbreviation ("Co. Ltd.", "Sun. Jan."). A one-letter word ("etc. I think") is taken
    for a label too: merging two sentences costs less than a false split. Returns None
    while what follows has not arrived.
    """
    n = len(text)
    label = _LABEL.match(text, k)
    end = label.end() if label is not None else k + 1
    if end >= n:
        return None if not final else False
    after = text[end]
    if after.isalnum():
        word = LETTERS.match(text, k)
        stop = word.end() if word is not None else k
        if text[k:stop].lower() not in st.abbreviation_prefixes:
            return True  # no abbreviation starts like this: a word opens a sentence
        if stop >= n:
            return None if not final and stop - k < MAX_WORD else True
        name = text[k:stop]
        rules = st.rules
        is_abbreviation = text[stop] == "." and (
            name in rules.never_final
            or name.lower() in rules.abbreviations
            or name.lower() in rules.prepositive
        )
        return not is_abbreviation
    return False
