"""List markers: "1. ", "a) ", "- ", "• " at a segment start, and the next item inline."""

from __future__ import annotations

import re

from .buffer import Buffer
from .chars import BULLETS
from .state import Boundary, Decision, ListMarker, MarkerKind, ScanState

__all__ = ["inline_marker", "marker_end", "on_bullet", "on_paren"]

_MARKER = re.compile(r"([•⁃◦▪‣][ \t]*|[-*+][ \t]+)?(?:(\d{1,3})|([A-Za-z]))(\.\)|\.|\))")
_MAX_MARKER = 8  # a marker ends at most this far after the segment's first character


def marker_end(st: ScanState, text: str, i: int) -> bool:
    """Does a list marker start the segment and end at ``i``? If so, note it."""
    start = st.text_start
    if start is None or i - start > _MAX_MARKER:
        return False
    marker = _MARKER.match(text, start)
    if marker is None or marker.end() != i:
        return False
    bullet, number, letter, suffix = marker.groups()
    if bullet and bullet[0] in BULLETS:
        st.marker = ListMarker(MarkerKind.BULLET, bullet[0], "")
    elif number is not None:
        st.marker = ListMarker(MarkerKind.NUMBER, str(int(number) + 1), suffix)
    elif letter is not None and letter not in "zZ" and (suffix != "." or letter.islower()):
        # "A. Karpov vs. B. Spassky", "J. K. Rowling": a capital with a period opens a
        # name as often as a list, so only "a." and "A)" lists are cut inline.
        st.marker = ListMarker(MarkerKind.LETTER, chr(ord(letter) + 1), suffix)
    return True


def inline_marker(st: ScanState, text: str, i: int, suffix: str) -> int:
    """Start of the expected next list marker ending at ``i`` (before ``suffix``), or -1."""
    expected = st.marker
    if expected is None or expected.kind is MarkerKind.BULLET or expected.suffix != suffix:
        return -1
    start = i - len(expected.next)
    assert st.text_start is not None
    if start <= st.text_start or text[start:i] != expected.next:
        return -1
    if not text[start - 1].isspace():
        return -1
    return start


def on_bullet(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A bullet character: it opens a list item, or the next item of the same list."""
    text = buffer.text
    marker = st.marker
    if i == st.text_start:
        st.marker = ListMarker(MarkerKind.BULLET, text[i], "")
    elif (
        marker is not None
        and marker.kind is MarkerKind.BULLET
        and marker.next == text[i]
        and text[i - 1].isspace()
    ):
        return Decision(i, i, Boundary.BREAK)
    return Decision(i + 1)


def on_paren(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A ``)``: it may end a list marker ("a) ", "2) "), else it is ordinary text."""
    text = buffer.text
    n = len(text)
    if i + 1 >= n and not final:
        return None
    if i + 1 < n and not text[i + 1].isspace():
        return Decision(i + 1)
    if marker_end(st, text, i + 1):
        return Decision(i + 1)
    start = inline_marker(st, text, i, ")")
    if start >= 0:
        return Decision(start, start, Boundary.BREAK)
    return Decision(i + 1)
