"""Sentence ends: terminator runs, periods, ellipses, the terminators of other scripts.

A decision at a terminator reads a bounded window: the word before it (see
:mod:`.abbreviations`) and what follows it (closing quotes and tags of its run, the
whitespace, opening marks, then the next word's first character). When that has not
arrived yet the rule returns None and the scan waits at the terminator.
"""

from __future__ import annotations

from .abbreviations import period_ends_sentence, plain_word
from .buffer import Buffer
from .chars import (
    AT_ONCE_RUN,
    MAX_WS_WAIT,
    NUMBER_POINTS,
    OPENERS,
    RUN_CHARS,
    TERM_RUN,
    WHITESPACE,
    is_upper_start,
)
from .lists import inline_marker, marker_end
from .markup import MAX_TAG, TAG, TAG_PREFIX
from .state import Boundary, Decision, ScanState

__all__ = ["on_at_once_terminator", "on_terminator"]

_MAX_OPENERS = 8  # opening marks looked past before the next word
_MAX_TAGS_AFTER = 4  # tags looked past after a terminator
_MARKER_REACH = 9  # a period this close to the segment start may end a list marker


def on_at_once_terminator(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """``。 ！ ։ । ؟ ။``: the sentence ends after the run, whatever follows."""
    text = buffer.text
    n = len(text)
    if text[i] in NUMBER_POINTS and i > buffer.start and text[i - 1].isdigit():
        if i + 1 >= n:
            return Decision(i + 1, i + 1) if final else None
        if text[i + 1].isdigit():
            return Decision(i + 1)  # a decimal point: "３．１４"
    run = AT_ONCE_RUN.match(text, i)
    end = run.end() if run is not None else i + 1
    if end >= n and not final:
        return None
    return Decision(end, end)


def _spaced_chain(text: str, i: int, seg: int) -> tuple[int, bool] | None:
    """Length of the ". . ." chain ending at ``i``, and whether it starts on a word."""
    length = 1
    j = i
    while length < 6 and j >= seg + 2 and text[j - 1] == " " and text[j - 2] == ".":
        j -= 2
        length += 1
    if length == 1:
        return None
    attached = j > seg and not text[j - 1].isspace()
    return length, attached


def _common_shape(st: ScanState, text: str, i: int, seg: int, final: bool) -> Decision | None:
    """ "x. Word", "x! word", "x? 42": the general rule reduced to what applies to it.

    Returns ``_GENERAL`` when the shape needs the general rule after all.
    """
    e = i + 1
    c = text[e + 1]
    if c.isupper():
        upper = True
    elif c.isdigit():
        upper = False
    elif c.isalpha() and not c.islower():
        upper = True  # a letter of a script without case
    else:
        upper = None  # lower case
    spaced = st.rules.spaced_closers
    if spaced and c in spaced:
        return _GENERAL
    first = text[i]
    if first == ".":
        if st.marker is not None or (i > seg and text[i - 1] == " "):
            return _GENERAL  # an inline list or a spaced ellipsis
        assert st.text_start is not None
        if e - st.text_start <= _MARKER_REACH and marker_end(st, text, e):
            return Decision(e)  # "1. Open the settings"
        if upper is None:
            return Decision(e)
        ends = period_ends_sentence(st, text, i, e + 1, upper, seg, final)
        if ends is None:
            return None
        return Decision(e, e) if ends else Decision(e)
    if first in "!?":
        if upper is not None:
            return Decision(e, e)
        if first == "?" and plain_word(st, text, i, seg):
            return Decision(e, e)
        return Decision(e)
    return _GENERAL


_GENERAL = Decision(-1)


def on_terminator(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A terminator at ``i`` (``.!?…`` and the like): does a sentence end after its run?"""
    text = buffer.text
    n = len(text)
    e = i + 1
    if e >= n and not final:
        return None  # the commonest wait: a terminator that ends the text so far
    seg = buffer.start
    if e + 1 < n and text[e] == " " and text[e + 1].isalnum():
        common = _common_shape(st, text, i, seg, final)
        if common is not _GENERAL:
            return common
    if e < n and text[e] in RUN_CHARS:
        run = TERM_RUN.match(text, i)
        e = run.end() if run is not None else e
    # Tags right after the terminator ("Welt.</lang> Ende") belong to the sentence; a
    # few at most, so that the window a decision reads stays bounded.
    tags = 0
    while e < n and text[e] == "<" and tags < _MAX_TAGS_AFTER:
        tags += 1
        tag = TAG.match(text, e)
        if tag is None:
            if not final and n - e < MAX_TAG and TAG_PREFIX.match(text, e) is not None:
                return None
            break
        e = tag.end()
        more = TERM_RUN.match(text, e)
        if more is not None:
            e = more.end()
    if e >= n and not final:
        return None
    first = text[i]
    if e == i + 1 and first == "?" and e < n and text[e].isspace() and plain_word(st, text, i, seg):
        # Unambiguous: a question mark right after an ordinary word, followed by a space,
        # is released now. A period is not: "co. at", "complex. . . ." and "Yahoo! in"
        # need the next word.
        return Decision(e, e)
    # A spaced ellipsis ". . ." continues at the next dot.
    if first == "." and e == i + 1 and e < n and text[e] == " ":
        if i + 2 >= n and not final:
            return None
        if text[i + 1 : i + 3] == " .":
            return Decision(i + 2)
    if e < n and not text[e].isspace():
        return Decision(e)  # "3.14", "v1.2.3", "one.Two", "Jr.'s", "!“,"
    # List markers are decided by the space after them, before the next word.
    assert st.text_start is not None
    if first == "." and e - st.text_start <= _MARKER_REACH and marker_end(st, text, e):
        return Decision(e)  # "1. Open the settings", "a) ...", "1.) ..."
    if first == "." and st.marker is not None:
        suffix = ".)" if text.startswith(".)", i) else "."
        start = inline_marker(st, text, i, suffix)
        if start >= 0:
            return Decision(start, start, Boundary.BREAK)  # rescanned as the next marker
    return _after_run(st, buffer, i, e, final)


def _after_run(st: ScanState, buffer: Buffer, i: int, e: int, final: bool) -> Decision | None:
    """Decide a terminator whose run ends at ``e`` by the whitespace and word after it."""
    text = buffer.text
    seg = buffer.start
    n = len(text)
    first = text[i]
    if e + 1 < n and text[e] == " " and not text[e + 1].isspace():
        we = e + 1  # the common case: one space, then the next word
    else:
        ws = WHITESPACE.match(text, e)
        we = ws.end() if ws is not None else e
        if "\n" in text[e:we]:
            return Decision(e, e, Boundary.BREAK)  # the line end is a boundary anyway
        if we - e > MAX_WS_WAIT:
            return Decision(e, e)  # do not wait for the end of a blank run
    spaced = st.rules.spaced_closers
    if spaced and we < n and text[we] in spaced and we - e <= 1:
        e = we + 1  # French "! »": the closing guillemet after a space
        ws = WHITESPACE.match(text, e)
        we = ws.end() if ws is not None else e
        if "\n" in text[e:we]:
            return Decision(e, e, Boundary.BREAK)
        if we - e > MAX_WS_WAIT:
            return Decision(e, e)
    if we >= n:
        return Decision(we) if final else None  # the end of the reply ends it anyway
    run_text = text[i:e] if e > i + 1 else first
    k = we
    while k < n and k - we < _MAX_OPENERS:
        ch = text[k]
        if ch in OPENERS or (ch == " " and text[k - 1] in "«‹"):
            k += 1
        elif ch == "<":  # "this. <spell>A</spell>": look past the tag
            tag = TAG.match(text, k)
            if tag is None:
                if not final and n - k < MAX_TAG and TAG_PREFIX.match(text, k) is not None:
                    return None
                break
            k = tag.end()
            ws = WHITESPACE.match(text, k)
            k = ws.end() if ws is not None else k
        else:
            break
    if k >= n:
        return Decision(k) if final else None
    c = text[k]
    if is_upper_start(c):
        upper = True
    elif c.isdigit():
        upper = False
    else:
        return Decision(e)  # lower case ("Yahoo! in", "e.g. this") or punctuation
    if first not in ".…":
        return Decision(e, e)
    dots = run_text.count(".") + 3 * run_text.count("…")
    if first == "…" or (dots == 3 and run_text.startswith("...")):
        # An unspaced three-dot ellipsis before a capital ends the sentence.
        return Decision(e, e) if upper else Decision(e)
    chain = _spaced_chain(text, i, seg) if i > seg and text[i - 1] == " " else None
    if chain:
        length, attached = chain
        if not upper or length == 3:
            return Decision(e)  # ". . ." mid-sentence
        if attached and length == 4:
            # "compounds. . . . The": the period ends the sentence, the ellipsis opens
            # the next one.
            return Decision(e, i - 5)
        return Decision(e, e)
    ends = period_ends_sentence(st, text, i, k, upper, seg, final)
    if ends is None:
        return None
    return Decision(e, e) if ends else Decision(e)
