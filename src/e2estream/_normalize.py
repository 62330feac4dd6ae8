"""Speech text: what the TTS should say for a segment's display text.

LLMs write markdown; a TTS reads it aloud literally ("asterisk asterisk"). The
normalizer removes the markup and keeps the words. It never changes offsets: the
segment keeps its display span, only :attr:`Segment.speech` differs.

The segmenter calls a replaceable function ``(text) -> speech``; this module provides
the default, :func:`normalize_speech`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["SpeechNormalizer", "normalize_speech"]

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
_MARKUP = re.compile(
    "[-\n\t#>*_~`|\\]/+•⁃◦▪‣\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]|  |www\\."
)


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
    * SSML-like tags (``<break time="1s"/>``) are kept: they were written for the TTS.

    Args:
        text: The display text of a segment.

    Returns:
        The text to speak; may be empty when nothing in ``text`` is speakable.

    Example:
        >>> normalize_speech("**Note:** see [the docs](https://docs.example.com/a) 🙂")
        'Note: see the docs'
    """
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
