"""An incremental RIFF/WAVE header stripper: WAV bytes in, raw sample bytes out.

TTS servers that stream WAV send a RIFF header first and the samples after it, in
network chunks that may cut the header anywhere. :class:`WavHeaderStripper` is a small
synchronous state machine (no I/O, no clock, like the segmenter) that is fed those
chunks and returns only the sample bytes, so the chunks concatenate into plain PCM.

Streaming servers cannot know the length of the audio when they write the header, so
they put ``0xFFFFFFFF`` (or ``0``) into the ``data`` chunk's size: such a size is read
as "until the end of the stream". A real size is honoured, and whatever follows the
``data`` chunk (``LIST`` metadata and the like) is dropped.
"""

from __future__ import annotations

import struct

from .._audio import AudioEncoding, AudioFormat

__all__ = ["WavFormatError", "WavHeaderStripper"]

#: ``fmt `` chunks are 16, 18 or 40 bytes; anything far larger is not a WAV header, and
#: refusing it keeps the parser's buffer bounded whatever the server sends.
_MAX_FMT_SIZE = 1024
#: Sizes that streaming servers write when the length is not known yet.
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_IEEE_FLOAT = 0x0003
_WAVE_FORMAT_ALAW = 0x0006
_WAVE_FORMAT_MULAW = 0x0007
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE

# States of the parser.
_RIFF = 0  # expecting the 12-byte "RIFF" <size> "WAVE" preamble
_CHUNK_HEADER = 1  # expecting an 8-byte chunk header
_FMT = 2  # collecting the fmt chunk's body
_SKIP = 3  # skipping the body of a chunk we do not need
_DATA = 4  # passing samples through
_TRAILER = 5  # after a data chunk of known size: drop everything


class WavFormatError(ValueError):
    """The bytes are not a WAV stream this parser understands."""


class WavHeaderStripper:
    """Strip the RIFF/WAVE header from a WAV byte stream fed in arbitrary pieces.

    Call :meth:`feed` with each piece as it arrives; it returns the sample bytes found
    in it (possibly empty). Whatever the chunking, the concatenated results are the same.
    After the header has been read, :attr:`format` describes the samples. Call
    :meth:`finish` at the end of the stream to detect a stream that ended inside its
    header.

    Example::

        stripper = WavHeaderStripper()
        pcm = b"".join(stripper.feed(piece) for piece in pieces)
        stripper.finish()
        print(stripper.format)

    Raises:
        WavFormatError: From :meth:`feed` or :meth:`finish`, for bytes that are not a
            WAV stream, a sample encoding :class:`~e2estream.AudioFormat` cannot express,
            or a stream that ended before its first sample.

    """

    def __init__(self) -> None:
        self._state = _RIFF
        self._buffer = bytearray()  # an incomplete header piece, never more than fmt
        self._need = 12  # bytes wanted in _buffer before the state can move on
        self._skip = 0  # bytes still to skip (_SKIP) or to pass through (_DATA)
        self._unbounded = False  # the data chunk runs to the end of the stream
        self._format: AudioFormat | None = None

    @property
    def format(self) -> AudioFormat | None:
        """The samples' format from the ``fmt`` chunk, or None before it was read."""
        return self._format

    @property
    def header_done(self) -> bool:
        """True once the ``data`` chunk has begun (every later byte is a sample)."""
        return self._state in (_DATA, _TRAILER)

    def feed(self, data: bytes) -> bytes:
        """Consume the next piece of the stream and return the sample bytes in it."""
        view = memoryview(data)
        out = bytearray()
        while view:
            state = self._state
            if state == _DATA:
                if self._unbounded:
                    out += view
                    break
                take = min(self._skip, len(view))
                out += view[:take]
                view = view[take:]
                self._skip -= take
                if self._skip == 0:
                    self._state = _TRAILER
            elif state == _TRAILER:
                break
            elif state == _SKIP:
                take = min(self._skip, len(view))
                view = view[take:]
                self._skip -= take
                if self._skip == 0:
                    self._expect(_CHUNK_HEADER, 8)
            else:
                take = min(self._need - len(self._buffer), len(view))
                self._buffer += view[:take]
                view = view[take:]
                if len(self._buffer) == self._need:
                    self._parse_buffer()
        return bytes(out)

    def finish(self) -> None:
        """Signal the end of the stream.

        Raises:
            WavFormatError: If the stream ended before the ``data`` chunk began.

        """
        if not self.header_done:
            raise WavFormatError("the WAV stream ended inside its header")

    def _expect(self, state: int, need: int) -> None:
        self._state = state
        self._need = need
        self._buffer.clear()

    def _parse_buffer(self) -> None:
        buffer = bytes(self._buffer)
        if self._state == _RIFF:
            if buffer[:4] not in (b"RIFF", b"RF64") or buffer[8:12] != b"WAVE":
                raise WavFormatError(f"not a RIFF/WAVE stream (starts with {buffer[:12]!r})")
            self._expect(_CHUNK_HEADER, 8)
        elif self._state == _CHUNK_HEADER:
            chunk_id = buffer[:4]
            (size,) = struct.unpack("<I", buffer[4:8])
            if chunk_id == b"data":
                if self._format is None:
                    raise WavFormatError("the WAV data chunk comes before its fmt chunk")
                self._state = _DATA
                self._buffer.clear()
                # RF64 puts the real size into a ds64 chunk and 0xFFFFFFFF here; both
                # that and a streaming server's placeholder mean "to the end".
                self._unbounded = size in _UNKNOWN_SIZES
                self._skip = size
            elif chunk_id == b"fmt ":
                if not 16 <= size <= _MAX_FMT_SIZE:
                    raise WavFormatError(f"implausible WAV fmt chunk size {size}")
                # Chunk bodies are padded to an even length.
                self._expect(_FMT, size + (size & 1))
            elif size == 0:
                self._expect(_CHUNK_HEADER, 8)
            else:
                self._state = _SKIP
                self._skip = size + (size & 1)
                self._buffer.clear()
        else:  # _FMT
            self._format = _parse_fmt(buffer)
            self._expect(_CHUNK_HEADER, 8)


def _parse_fmt(body: bytes) -> AudioFormat:
    tag, channels, rate, _byte_rate, _block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 26:
            raise WavFormatError("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk")
        # The sub-format GUID starts with the real format tag.
        (tag,) = struct.unpack("<H", body[24:26])
    encoding: AudioEncoding
    if tag == _WAVE_FORMAT_PCM and bits == 16:
        encoding = "pcm_s16le"
    elif tag == _WAVE_FORMAT_IEEE_FLOAT and bits == 32:
        encoding = "pcm_f32le"
    elif tag == _WAVE_FORMAT_MULAW and bits == 8:
        encoding = "mulaw"
    elif tag == _WAVE_FORMAT_ALAW and bits == 8:
        encoding = "alaw"
    else:
        raise WavFormatError(f"unsupported WAV sample format (tag {tag:#06x}, {bits} bits)")
    if channels == 0 or rate == 0:
        raise WavFormatError(f"invalid WAV fmt chunk ({channels} channels, {rate} Hz)")
    return AudioFormat(encoding, rate, channels)


def wav_header(
    audio_format: AudioFormat, data_size: int = 0xFFFFFFFF, *, extra_chunks: bytes = b""
) -> bytes:
    """Return a WAV header for ``audio_format`` (used by tests and fakes).

    Args:
        audio_format: A raw format (PCM, mu-law or A-law).
        data_size: The ``data`` chunk's size; the streaming placeholder by default.
        extra_chunks: Complete chunks to put between ``fmt`` and ``data``.

    """
    tags = {
        "pcm_s16le": (_WAVE_FORMAT_PCM, 16),
        "pcm_f32le": (_WAVE_FORMAT_IEEE_FLOAT, 32),
        "mulaw": (_WAVE_FORMAT_MULAW, 8),
        "alaw": (_WAVE_FORMAT_ALAW, 8),
    }
    tag, bits = tags[audio_format.encoding]
    block = audio_format.channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH",
        tag,
        audio_format.channels,
        audio_format.sample_rate,
        audio_format.sample_rate * block,
        block,
        bits,
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
    body += b"data" + struct.pack("<I", data_size)
    riff_size = min(0xFFFFFFFF, len(body) + data_size)
    return b"RIFF" + struct.pack("<I", riff_size) + body
