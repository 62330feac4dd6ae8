"""Markup that is never cut: SSML-like tags and spans, inline code, fenced code blocks."""

from __future__ import annotations

import re

from .buffer import Buffer
from .chars import SHORT_WHITESPACE, TERMS
from .state import Boundary, CodeFence, Decision, ScanState

__all__ = [
    "DEFAULT_SPAN_TAGS",
    "FENCE",
    "MAX_INLINE_CODE",
    "MAX_TAG",
    "TAG",
    "TAG_PREFIX",
    "code_body",
    "code_end",
    "on_backtick",
    "on_newline",
    "on_tag",
]

#: Tags whose content is never cut (an SSML-like span the LLM was told to emit).
DEFAULT_SPAN_TAGS = frozenset(
    {
        "spell",
        "lang",
        "say-as",
        "sub",
        "phoneme",
        "prosody",
        "emphasis",
        "voice",
        "w",
        "audio",
        "say",
        "emotion",
        "whisper",
        "spell-out",
    }
)

TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)(?:\s[^<>]*?)?\s*(/?)>")
TAG_PREFIX = re.compile(r"</?(?:[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?)?\Z")
FENCE = re.compile(r"`{3,16}|~{3,16}")
_CLOSE_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})[ \t]*")
MAX_TAG = 256  # a "<" without ">" within this many characters is a literal "<"
MAX_INLINE_CODE = 256  # the same for a backtick without its closing backtick
_MAX_TICKS = 16  # a longer run of backticks is literal text


def on_newline(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A line end ends the segment, except inside a tagged span (until a blank line)."""
    if not st.spans:
        return Decision(i + 1, i, Boundary.BREAK)
    text = buffer.text
    # An unclosed span ends at a paragraph break: never hold back the reply.
    ws = SHORT_WHITESPACE.match(text, i + 1)
    end = ws.end() if ws is not None else i + 1
    if "\n" in text[i + 1 : end]:
        st.spans.clear()
        st.span_start = None
        return Decision(i + 1, i, Boundary.BREAK)
    if end >= len(text) and end - i <= 16 and not final:
        return None
    return Decision(i + 1)


def on_tag(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A ``<``: a tag is one never-cut region; a span tag opens or closes a span."""
    text = buffer.text
    tag = TAG.match(text, i)
    if tag is None:
        if not final and len(text) - i < MAX_TAG and TAG_PREFIX.match(text, i) is not None:
            st.pending = i
            return None
        st.pending = None
        return Decision(i + 1)
    st.pending = None
    end = tag.end()
    closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
    buffer.regions.append((i, end))
    if closing:
        if name in st.spans:
            while st.spans and st.spans.pop() != name:
                pass
            if not st.spans:
                assert st.span_start is not None
                buffer.regions.append((st.span_start, end))
                st.span_start = None
                if i > buffer.start and text[i - 1] in TERMS:
                    return Decision(i - 1)  # the span ended a sentence: decide it now
    elif not self_closing and name in st.span_tags:
        if not st.spans:
            st.span_start = i
        st.spans.append(name)
    return Decision(end)


def on_backtick(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """A backtick run: inline code up to the same run on the same line is never cut."""
    text = buffer.text
    n = len(text)
    run = i
    while run < n and text[run] == "`" and run - i < _MAX_TICKS:
        run += 1
    if run - i >= _MAX_TICKS:
        st.pending = None
        return Decision(run)  # a wall of backticks: literal text
    if run >= n and not final:
        st.pending = i
        return None
    ticks = text[i:run]
    stop = min(n, run + MAX_INLINE_CODE)
    close = text.find(ticks, run, stop)
    newline = text.find("\n", run, stop)
    if close >= 0 and (newline < 0 or close < newline):
        end = close + len(ticks)
        if end >= n and not final:
            st.pending = i
            return None
        st.pending = None
        if end < n and text[end] == "`":  # a longer run: not the closing one
            return Decision(run)
        buffer.regions.append((i, end))
        return Decision(end)
    if newline >= 0 or stop - run >= MAX_INLINE_CODE or final:
        st.pending = None
        return Decision(run)
    st.pending = i
    return None


def code_end(st: ScanState, buffer: Buffer, final: bool) -> int | None:
    """Scan inside a fenced code block: the index where it ends, or None (not yet)."""
    fence = st.code
    assert fence is not None
    text = buffer.text
    n = len(text)
    while True:
        if st.code_line is None:
            newline = text.find("\n", st.code_seen)
            if newline < 0:
                st.code_seen = n
                return None
            st.code_line = st.code_seen = newline + 1
            continue
        line = st.code_line
        newline = text.find("\n", max(line, st.code_seen))
        if newline < 0:
            st.code_seen = n
            if not final:
                return None
        line_end = newline if newline >= 0 else n
        close = _CLOSE_FENCE.fullmatch(text, line, line_end)
        if close is not None:
            ticks = close.group(1)
            if ticks[0] == fence.char and len(ticks) >= fence.length:
                return line_end
        if newline < 0:
            return None
        st.code_line = st.code_seen = newline + 1


def open_fence(st: ScanState, match: re.Match[str]) -> None:
    """Enter the code block the fence ``match`` opens."""
    ticks = match.group()
    st.code = CodeFence(ticks[0], len(ticks))
    st.code_line = None
    st.code_seen = match.end()


def code_body(block: str) -> str:
    """The code inside a fenced block, without its fence lines."""
    lines = block.split("\n")
    if lines and FENCE.match(lines[0].strip()):
        lines = lines[1:]
    if lines and FENCE.fullmatch(lines[-1].strip()):
        lines = lines[:-1]
    return "\n".join(lines).strip()
