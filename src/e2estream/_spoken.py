"""What the listener heard: the spoken part of a reply, from its audio timeline.

A reply's audio is a timeline: segment after segment, each with its delivered duration
and, where the backend gives them, word timings. Given how many seconds the listener's
player played, :func:`spoken_text` finds the last word whose audio started before that
point and cuts the *display* text there, at a word boundary.

Inside a segment the word start times come from the backend's
:class:`~e2estream.TextTiming` (exact), or else are estimated: the segment's audio is
shared out among its words in proportion to their syllables (see ``docs/interruptions.md``
for the measured error). Words are found in the speech text (what the TTS read) and
mapped back to the display text (what the host shows and stores), which differ where the
normalizer removed markup or shortened a URL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._audio import TextTiming
from ._segment import Segment

__all__ = ["SegmentAudio", "SpokenText", "spoken_text", "word_spans"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
#: A word: a run of non-space characters, except that each CJK character is a word of its
#: own (with the punctuation after it), since those scripts put no spaces between words.
_WORD = re.compile(rf"[{_CJK}][^\s\w]*|[^\s{_CJK}]+")
_VOWEL_GROUPS = re.compile(r"[aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýÿœ]+", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_CJK_START = re.compile(rf"[{_CJK}]")

#: Speaking rate assumed for a segment whose length is not known yet (its audio is still
#: arriving) when no finished segment of the reply gives a better one. About what eSpeak
#: NG and the testing fakes speak at.
DEFAULT_CHARS_PER_SECOND = 15.0
#: Slack for float sums: the timeline adds up the same chunk durations in another order.
_EPSILON = 1e-6
#: How far ahead in the display text (in letters and digits) a speech word is looked for.
#: A word the normalizer replaced is then skipped instead of matching text far ahead.
_ALIGN_WINDOW = 48
#: Extra weight of the pause after a word ending a clause or a sentence, in syllables.
_PAUSE_WEIGHT = {",": 0.5, ";": 0.5, ":": 0.5, ".": 1.0, "!": 1.0, "?": 1.0}
#: Silence a TTS leaves after a segment's last word, in seconds, and at most this fraction
#: of the segment. eSpeak NG leaves 0.28-0.34 s (benchmarks/espeak_timings.py); sentence-
#: final pauses of neural voices are of the same order. Its lead-in (0-35 ms) is ignored.
_TRAIL_SILENCE = 0.3
_TRAIL_SILENCE_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class SpokenText:
    """The part of a reply the listener heard.

    Attributes:
        text: The display text that was spoken, cut at a word boundary (never mid-word):
            ``reply_text[:end].rstrip()``.
        end: Offset into the reply text just past the spoken part.
        segment_index: The segment in which the cut falls (the last one heard, wholly
            or partly), or None when nothing was heard.
        exact: True when the cut comes from word timings, or falls between segments;
            False when it was estimated from the audio duration.
        played: The playback position, in seconds of the reply's audio, this was computed
            for.
        complete: True when the whole reply was heard.
        failed_segments: Segments inside ``text`` whose synthesis failed: their text was
            shown but never heard.
    """

    text: str
    end: int
    segment_index: int | None
    exact: bool
    played: float
    complete: bool = False
    failed_segments: tuple[int, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the spoken text as a JSON-serializable dict."""
        return {
            "text": self.text,
            "end": self.end,
            "segment_index": self.segment_index,
            "exact": self.exact,
            "played": self.played,
            "complete": self.complete,
            "failed_segments": list(self.failed_segments),
        }


@dataclass(slots=True)
class SegmentAudio:
    """One segment's place in the reply's audio timeline (kept by the reply stream)."""

    segment: Segment
    start: float  # seconds into the reply's audio where this segment's audio starts
    duration: float = 0.0  # seconds of its audio delivered so far
    timings: list[TextTiming] = field(default_factory=list)
    done: bool = False
    failed: bool = False


def word_spans(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` offsets of the words of ``text``."""
    return [match.span() for match in _WORD.finditer(text)]


def spoken_text(
    reply: str,
    timeline: Sequence[SegmentAudio],
    played: float,
    *,
    reply_complete: bool,
) -> SpokenText:
    """Return what was heard of ``reply`` after ``played`` seconds of its audio.

    Args:
        reply: The reply text so far.
        timeline: Every segment handed to the TTS, in order.
        played: Seconds of the reply's audio the listener's player played.
        reply_complete: True once the reply is over (no further segment will come).
    """
    end = 0
    segment_index: int | None = None
    exact = True
    failed: list[int] = []
    heard_all = True
    rate = _observed_rate(timeline)
    for entry in timeline:
        segment = entry.segment
        if entry.duration == 0:
            # A segment with no audio (code that is not spoken, a failed request) is
            # passed once playback reaches its place in the timeline.
            if entry.done and played > 0 and played >= entry.start:
                end, segment_index = segment.end, segment.index
                if entry.failed:
                    failed.append(segment.index)
                continue
            heard_all = False
            break
        local = played - entry.start
        if entry.done and local >= entry.duration - _EPSILON:
            end, segment_index = segment.end, segment.index
            continue
        heard_all = False
        if local > 0:
            cut, exact = _cut_inside(reply, entry, local, rate)
            if cut > segment.start:
                end, segment_index = cut, segment.index
        break
    complete = heard_all and reply_complete
    if complete:
        end = len(reply)
    return SpokenText(
        text=reply[:end].rstrip(),
        end=end,
        segment_index=segment_index,
        exact=exact,
        played=played,
        complete=complete,
        failed_segments=tuple(failed),
    )


def _observed_rate(timeline: Sequence[SegmentAudio]) -> float:
    """Characters of speech text per second of audio in the finished segments."""
    chars = seconds = 0.0
    for entry in timeline:
        if entry.done and entry.duration > 0:
            chars += len(entry.segment.speech_text)
            seconds += entry.duration
    return chars / seconds if seconds > 0 else DEFAULT_CHARS_PER_SECOND


def _cut_inside(reply: str, entry: SegmentAudio, local: float, rate: float) -> tuple[int, bool]:
    """Return the display offset after the last word heard ``local`` s into ``entry``."""
    speech = entry.segment.speech_text
    words = word_spans(speech)
    if not words:
        return entry.segment.start, True
    if entry.timings:
        starts, exact = _timed_starts(words, entry.timings), True
    else:
        # A segment still arriving has an unknown length: assume the reply's pace.
        duration = entry.duration if entry.done else max(entry.duration, len(speech) / rate)
        starts, exact = _estimated_starts(speech, words, duration), False
    heard = 0
    while heard < len(words) and starts[heard] < local:
        heard += 1
    if heard == 0:
        return entry.segment.start, exact
    return _display_ends(reply, entry.segment, words)[heard - 1], exact


def _timed_starts(words: list[tuple[int, int]], timings: Sequence[TextTiming]) -> list[float]:
    """Each word's start: the earliest timing that overlaps it.

    A word with no timing of its own (punctuation the TTS does not speak) is taken to
    start with the next timed word, and the words after the last timing never start
    before the segment has been played whole: no word is claimed heard without evidence.
    """
    starts = [math.inf] * len(words)
    index = 0
    for timing in sorted(timings, key=lambda t: t.char_start):
        while index < len(words) and words[index][1] <= timing.char_start:
            index += 1
        probe = index
        while probe < len(words) and words[probe][0] < timing.char_end:
            starts[probe] = min(starts[probe], timing.start)
            probe += 1
    for i in range(len(starts) - 2, -1, -1):
        # Backward fill and monotone: a word cannot start after the one that follows it.
        starts[i] = min(starts[i], starts[i + 1])
    return starts


def _estimated_starts(speech: str, words: list[tuple[int, int]], duration: float) -> list[float]:
    """Share ``duration`` out among the words in proportion to their syllables."""
    weights = [_syllables(speech[start:end]) for start, end in words]
    pauses = [
        _PAUSE_WEIGHT.get(speech[end - 1], 0.0) if weight else 0.0
        for weight, (_, end) in zip(weights, words, strict=False)
    ]
    total = sum(weights) + sum(pauses[:-1])
    if total == 0:
        return [0.0] * len(words)
    speaking = duration - min(_TRAIL_SILENCE, _TRAIL_SILENCE_SHARE * duration)
    starts: list[float] = []
    before = 0.0
    for weight, pause in zip(weights, pauses, strict=False):
        starts.append(speaking * before / total)
        before += weight + pause
    return starts


def _syllables(word: str) -> float:
    """A rough syllable count: vowel groups, digits, one per CJK character; 0 if silent."""
    if _CJK_START.match(word):
        return 1.0
    digits = len(_DIGIT.findall(word))
    vowels = len(_VOWEL_GROUPS.findall(word))
    if vowels or digits:
        return float(vowels + digits)
    return 1.0 if any(ch.isalpha() for ch in word) else 0.0


def _display_ends(reply: str, segment: Segment, words: list[tuple[int, int]]) -> list[int]:
    """For each speech word, the reply offset just past the display word it was read from.

    The result never decreases. A speech word not found in the display text (the
    normalizer wrote it) takes the previous word's end: the cut is never placed beyond
    text that is known to have been read.
    """
    speech = segment.speech_text
    span = reply[segment.start : segment.end]
    if segment.speech is None and span.strip() == speech:
        base = segment.start + len(span) - len(span.lstrip())
        return [base + end for _, end in words]
    display = word_spans(span)
    letters: list[str] = []
    positions: list[int] = []  # offset in span of each letter in ``letters``
    for offset, char in enumerate(span):
        if char.isalnum():
            for folded in char.casefold():
                letters.append(folded)
                positions.append(offset)
    haystack = "".join(letters)
    ends: list[int] = []
    pointer = 0
    last = segment.start
    for start, end in words:
        key = "".join(ch.casefold() for ch in speech[start:end] if ch.isalnum())
        found = haystack.find(key, pointer, pointer + _ALIGN_WINDOW + 2 * len(key)) if key else -1
        if found >= 0:
            pointer = found + len(key)
            at = positions[pointer - 1]
            token_end = next(e for s, e in display if s <= at < e)
            last = max(last, segment.start + token_end)
        ends.append(last)
    return ends
