"""Speech text: what the TTS should say for a segment's display text.

LLMs write markdown; a TTS reads it aloud literally ("asterisk asterisk"). The
normalizer removes the markup and keeps the words. It never changes offsets: the
segment keeps its display span, only :attr:`Segment.speech` differs.

The segmenter calls a replaceable function ``(text) -> speech``; this module provides
the default, :func:`normalize_speech`, and :func:`remove_unspeakable`, which every
speech text should go through whatever normalizer made it: control characters (NUL,
BEL, ANSI escape sequences, DEL, the C1 block) and lone surrogates mean nothing to a
TTS, and a lone surrogate cannot even be encoded into a request body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["SpeechNormalizer", "normalize_speech", "remove_unspeakable"]

#: A function turning a display text into the text to speak.
SpeechNormalizer: TypeAlias = Callable[[str], str]

# Whole lines that are only decoration: horizontal rules and table separator rows.
_RULE_LINE = re.compile(
    r"(?m)^[ \t]*(?:(?:[-*_][ \t]*){3,}|\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?)"
    r"[ \t]*$"
)
_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+")
_QUOTE = re.compile(r"(?m)^[ \t]*>[ \t]?")
_BULLET = re.compile(r"(?m)^[ \t]*[-*+•⁃◦▪‣][ \t]+")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^)\s]*\))*(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
# A bare URL; trailing sentence punctuation is not part of it.
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]*?(?=[.,;:!?)\]]*(?:\s|$))")
_HOST = re.compile(r"(?:https?://)?(?:www\.)?([^/\s?#:]+)")
_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
# Single-marker emphasis only around a word: ``3 * 7`` and ``my_variable`` stay as they are.
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_EMOJI = re.compile(
    "[ \t]*[\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff\u2600-\u27bf\u2b00-\u2bff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]+"
)
_TABLE_PIPE = re.compile(r"[ \t]*\|[ \t]*")
_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A character some rule above needs (markup, URL, emoji, a line break, a run of spaces).
# Text without one (most sentences) only gets its outer whitespace stripped.
_MARKUP_CLASS = (
    "-\n\t#>*_~`|\\]/+•⁃◦▪‣\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f"
)
_MARKUP = re.compile(f"[{_MARKUP_CLASS}]|  |www\\.")


# Control characters and lone surrogates: what no TTS should receive. Tab and line feed
# stay (the rules above read them); the other whitespace controls become a space or a
# line break below. An escape sequence goes as a whole, or its "[31m" would be spoken.
_UNSPEAKABLE = re.compile(
    # ANSI CSI (ESC [ or the C1 CSI) with its parameters and final byte.
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    # A terminated OSC, DCS, SOS, PM or APC string (a terminal title, say). The length
    # is bounded, and an unterminated one loses only its introducer (next rules): the
    # words after it are kept.
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]{0,256}(?:\x07|\x1b\\|\x9c)"
    # Any other escape: ESC and the one character after it (ESC c, ESC 7, ESC =).
    r"|\x1b[\x20-\x7e]?"
    # The remaining C0 and C1 controls but the whitespace ones, DEL, lone surrogates.
    r"|[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]"
)
# Whitespace controls a TTS would misread: vertical tab, form feed and the information
# separators (str.split() treats them as spaces) become a space; CR, CR LF and NEL a
# line feed.
_ODD_SPACE = re.compile(r"[\x0b\x0c\x1c-\x1f]")
_ODD_BREAK = re.compile(r"\r\n?|\x85")
# Any character the three patterns above change: the fast check.
_UNSPEAKABLE_CLASS = r"\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
_UNSPEAKABLE_CHAR = re.compile(f"[{_UNSPEAKABLE_CLASS}]")
# Either kind of character, for normalize_speech's first check: most segments have
# neither, and one search of a character class costs about what one of _MARKUP's costs
# (a class is searched far faster than an alternation, so "  " and "www." are looked
# for apart).
_UNSPEAKABLE_OR_MARKUP = re.compile(f"[{_MARKUP_CLASS}{_UNSPEAKABLE_CLASS}]")


def remove_unspeakable(text: str) -> str:
    r"""Return ``text`` without control characters and lone surrogates.

    NUL, BEL, backspace, DEL, the C1 controls and lone surrogates are removed; an ANSI
    escape sequence (``ESC [ 31 m``, an OSC title string) is removed whole; vertical
    tab, form feed and the information separators become a space; CR, CR LF and NEL a
    line feed. Tab, line feed and every printable character are kept as they are.

    Args:
        text: A speech text (or any text).

    Returns:
        ``text`` itself when there was nothing to remove (the common case, one regex
        search); otherwise the cleaned copy.

    Example:
        >>> remove_unspeakable("\x1b[1mBold\x1b[0m move\x00.")
        'Bold move.'
    """
    if _UNSPEAKABLE_CHAR.search(text) is None:
        return text
    text = _UNSPEAKABLE.sub("", text)
    text = _ODD_BREAK.sub("\n", text)
    return _ODD_SPACE.sub(" ", text)


def _host(match: re.Match[str]) -> str:
    host = _HOST.match(match.group(0))
    return host.group(1) if host else match.group(0)


def _table_row(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
        cells = _TABLE_PIPE.split(stripped[1:-1])
        return ", ".join(cell for cell in cells if cell)
    return line


def normalize_speech(text: str) -> str:
    """Return the words of ``text`` without markdown, URLs spelled out or emoji.

    * heading (``## ``), bullet (``- ``, ``* ``, ``• ``) and block-quote markers go;
      numbered list markers stay ("1. Open the settings" is what a person would say);
    * ``**bold**``, ``*em*``, ``_em_``, ``~~strike~~`` and inline code keep their words;
    * ``[text](url)`` becomes ``text``, images their alt text, a bare URL its host name
      (``https://docs.example.com/x`` is spoken as ``docs.example.com``);
    * emoji, horizontal rules and table separator rows are dropped; table rows are
      read as comma-separated cells;
    * SSML-like tags (``<break time="1s"/>``) are kept: they were written for the TTS;
    * control characters and lone surrogates go (see :func:`remove_unspeakable`).

    Args:
        text: The display text of a segment.

    Returns:
        The text to speak; may be empty when nothing in ``text`` is speakable.

    Example:
        >>> normalize_speech("**Note:** see [the docs](https://docs.example.com/a) 🙂")
        'Note: see the docs'
    """
    if _UNSPEAKABLE_OR_MARKUP.search(text) is None and "  " not in text and "www." not in text:
        return text.strip()  # a plain sentence, the common case: nothing to remove
    text = remove_unspeakable(text)
    if _MARKUP.search(text) is None:
        return text.strip()
    out = _RULE_LINE.sub("", text)
    out = _HEADING.sub("", out)
    out = _QUOTE.sub("", out)
    out = _BULLET.sub("", out)
    if "|" in out:
        out = "\n".join(_table_row(line) for line in out.split("\n"))
    if "](" in out:
        out = _IMAGE.sub(r"\1", out)
        out = _LINK.sub(r"\1", out)
    if "://" in out or "www." in out:
        out = _AUTOLINK.sub(_host, out)
        out = _URL.sub(_host, out)
    if "`" in out:
        out = _CODE.sub(lambda m: m.group(2).strip(), out)
    if "*" in out or "_" in out or "~" in out:
        out = _STRONG.sub(r"\2", out)
        out = _STRIKE.sub(r"\1", out)
        out = _EM_STAR.sub(r"\1", out)
        out = _EM_UNDER.sub(r"\1", out)
    out = _EMOJI.sub("", out)
    out = _BLANK_LINES.sub("\n", out)
    out = _SPACES.sub(" ", out)
    return "\n".join(line.strip() for line in out.strip().split("\n"))
