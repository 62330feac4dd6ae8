"""Turn eSpeak NG's word events into :class:`~e2estream.TextTiming` objects, one per word.

eSpeak reports, for each word it speaks, the 1-based position of the word in its input
(in characters, as it decoded the UTF-8 text: code points, the same unit Python's ``str``
indexes in) and its start in milliseconds of the synthesis' audio. What it calls a word
is not always a word of the text, so each event is mapped onto the *written* word (a run
of non-whitespace characters) it belongs to, and each written word gets at most one
timing, the one of its first event. The cases this settles, all seen with eSpeak NG 1.52:

- A written word read as several words ("1234" is "one thousand two hundred thirty
  four", "iPhone" is "i Phone") reports extra events inside the word: they are dropped.
- A symbol read as several words ("😀" is "grinning face", "½" is "one half") reports
  the extra words at the space after it: they are dropped too.
- The word after an abbreviation eSpeak expanded ("etc. done", "z. B. also", "ggf. auch")
  is reported at the space before it: it is given to that next word.

eSpeak sometimes reports no event of its own for a word ("is" in "it is." at the end of
a clause, the word after a lone "--"): that word gets no timing, and a transcript cut
from the timings stops a word short there. It never runs a word long: a word's timing is
never earlier than the event eSpeak gave for it.
"""

from __future__ import annotations

from .._audio import TextTiming

__all__ = ["WordTimer"]


class WordTimer:
    """Maps the word events of one synthesis of ``text`` to per-word timings, in order.

    Args:
        text: The text exactly as passed to eSpeak (same characters, same offsets).

    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._timed_end = 0  # end of the last word given a timing: earlier words are done
        self._last_start = 0.0

    def feed(self, position: int, milliseconds: int) -> TextTiming | None:
        """Return the timing for one word event, or None if it starts no new word.

        Args:
            position: The event's ``text_position`` (1-based characters).
            milliseconds: The event's ``audio_position``.

        """
        text = self._text
        offset = position - 1
        if not 0 <= offset < len(text):
            return None
        if text[offset].isspace():
            start = self._word_after_space(offset)
            if start is None:
                return None
        else:
            start = offset
            while start > 0 and not text[start - 1].isspace():
                start -= 1
        if start < self._timed_end:
            return None  # more of a word already timed, or eSpeak going back
        end = start + 1
        while end < len(text) and not text[end].isspace():
            end += 1
        # Never earlier than the word before it: timings of a segment come in order.
        seconds = max(milliseconds / 1000, self._last_start)
        self._timed_end = end
        self._last_start = seconds
        return TextTiming(start, end, seconds)

    def _word_after_space(self, offset: int) -> int | None:
        """Return the start of the word an event reported at a space belongs to, or None."""
        text = self._text
        before = offset
        while before > 0 and text[before - 1].isspace():
            before -= 1
        if before > 0:
            first = before
            while first > 0 and not text[first - 1].isspace():
                first -= 1
            if not any(char.isalnum() for char in text[first:before]):
                return None  # the rest of a symbol's name ("grinning face")
        after = offset
        while after < len(text) and text[after].isspace():
            after += 1
        return after if after < len(text) else None
