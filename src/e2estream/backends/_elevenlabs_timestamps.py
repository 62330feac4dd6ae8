"""Decoding ElevenLabs' ``/stream/with-timestamps`` body: audio and word timings.

The body is a stream of JSON objects, one a line, each with a piece of audio
(``audio_base64``) and the character alignment of that piece (``alignment``:
``characters``, ``character_start_times_seconds``, ``character_end_times_seconds``).
Times in an object count from the start of *its* audio, so they are shifted by the
duration of the audio delivered before it; a raw output format is needed to know that
duration from the byte count.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Mapping

from .._audio import AudioFormat, TextTiming
from .._exceptions import SynthesisError

__all__ = ["Alignment", "TimestampedBody"]

logger = logging.getLogger("e2estream")


class Alignment:
    """Turns each chunk's character alignment into one :class:`TextTiming` per word.

    A word is a run of non-whitespace characters of ``text``; its timing starts with its
    first character and ends with its last one when that is in the same chunk (None
    otherwise). The characters of all chunks should spell ``text``; whitespace the
    server adds or drops is tolerated, any other difference (or a malformed alignment)
    stops the timings of this segment, since a timing on the wrong word would be worse
    than none. The audio is never affected.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._cursor = 0  # characters of ``text`` aligned so far
        self._last_start = 0.0
        self.failed = False

    @property
    def aligned(self) -> int:
        """How many characters of the text the alignment has covered so far."""
        return self._cursor

    def extend(self, text: str) -> None:
        """Append ``text`` to the text being aligned (a streaming connection's next segment)."""
        self._text += text

    def timings(self, alignment: object, offset: float) -> list[TextTiming]:
        """Return the timings of the words starting in one chunk's alignment.

        Args:
            alignment: The chunk's ``alignment`` object (None when it has none).
            offset: Seconds of the segment's audio delivered before this chunk.

        """
        if self.failed or alignment is None:
            return []
        positions = self._align(alignment)
        if positions is None:
            self.failed = True
            logger.warning(
                "ElevenLabs' alignment does not match the text sent; this segment "
                "continues without word timings"
            )
            return []
        text = self._text
        ends = {position: end for position, _, end in positions}
        out: list[TextTiming] = []
        for position, start, _ in positions:
            if text[position].isspace() or (position > 0 and not text[position - 1].isspace()):
                continue  # not the first character of a word
            last = position
            while last + 1 < len(text) and not text[last + 1].isspace():
                last += 1
            seconds = max(offset + start, self._last_start)
            end = ends.get(last)
            self._last_start = seconds
            out.append(
                TextTiming(
                    position,
                    last + 1,
                    seconds,
                    None if end is None else max(offset + end, seconds),
                )
            )
        return out

    def _align(self, alignment: object) -> list[tuple[int, float, float]] | None:
        """Map the chunk's characters to positions in the text; None on a mismatch."""
        if not isinstance(alignment, Mapping):
            return None
        characters = alignment.get("characters")
        starts = alignment.get("character_start_times_seconds")
        ends = alignment.get("character_end_times_seconds")
        if not (
            isinstance(characters, list)
            and isinstance(starts, list)
            and isinstance(ends, list)
            and len(characters) == len(starts) == len(ends)
        ):
            return None
        text = self._text
        out: list[tuple[int, float, float]] = []
        for character, start, end in zip(characters, starts, ends, strict=True):
            if not (isinstance(character, str) and _is_time(start) and _is_time(end)):
                return None
            if not character or end < start:
                return None
            position = self._cursor
            if not text.startswith(character, position):
                while position < len(text) and text[position].isspace():
                    position += 1  # whitespace the server did not echo
                if not text.startswith(character, position):
                    if character.isspace():
                        continue  # whitespace the server added
                    return None
            out.extend((position + i, float(start), float(end)) for i in range(len(character)))
            self._cursor = position + len(character)
        return out


def _is_time(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


class TimestampedBody:
    """Body decoder of ``/stream/with-timestamps``: JSON lines to audio and timings.

    :meth:`feed` returns the audio of the objects completed so far; the timings of those
    objects wait in :attr:`pending` until the caller takes them, just before that audio.
    """

    def __init__(self, text: str, audio_format: AudioFormat) -> None:
        self._buffer = bytearray()
        self._format = audio_format
        self._delivered = 0  # audio bytes decoded before the current object
        self._alignment = Alignment(text)
        self.pending: list[TextTiming] = []

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        lines = self._buffer.split(b"\n")
        self._buffer = lines.pop()
        # The last object may have no newline after it: take it once it parses.
        if self._buffer.rstrip().endswith(b"}") and _parses(self._buffer):
            lines.append(self._buffer)
            self._buffer = bytearray()
        return b"".join(self._audio(line) for line in lines if line.strip())

    def finish(self) -> None:
        if self._buffer.strip():
            raise SynthesisError(
                "ElevenLabs' timestamped stream ended in the middle of a JSON object"
            )

    def _audio(self, line: bytes | bytearray) -> bytes:
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise SynthesisError(f"ElevenLabs sent a line that is not JSON: {exc}") from exc
        if not isinstance(item, dict) or "audio_base64" not in item:
            keys = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise SynthesisError(f"ElevenLabs sent JSON without audio_base64 ({keys})")
        encoded = item["audio_base64"] or ""
        if not isinstance(encoded, str):
            raise SynthesisError("ElevenLabs sent an audio_base64 that is not a string")
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SynthesisError(f"ElevenLabs sent audio that is not base64: {exc}") from exc
        offset = self._format.duration(self._delivered) or 0.0
        self.pending += self._alignment.timings(item.get("alignment"), offset)
        self._delivered += len(audio)
        return audio


def _parses(data: bytes | bytearray) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True
