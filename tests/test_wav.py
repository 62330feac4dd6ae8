"""Unit and property tests of the incremental WAV header stripper."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2estream import AudioFormat
from e2estream.backends._wav import WavFormatError, WavHeaderStripper, wav_header

PCM16 = AudioFormat("pcm_s16le", 24000, 1)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


def strip(pieces: list[bytes]) -> tuple[bytes, WavHeaderStripper]:
    stripper = WavHeaderStripper()
    out = b"".join(stripper.feed(piece) for piece in pieces)
    stripper.finish()
    return out, stripper


def chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


formats = st.sampled_from(
    [
        PCM16,
        AudioFormat("pcm_s16le", 22050, 2),
        AudioFormat("pcm_f32le", 48000, 1),
        AudioFormat("mulaw", 8000, 1),
        AudioFormat("alaw", 8000, 1),
    ]
)
# Chunks a real file may carry before its samples; odd sizes exercise the padding byte.
extras = st.lists(
    st.tuples(st.sampled_from([b"LIST", b"fact", b"junk", b"bext"]), st.binary(max_size=40)),
    max_size=3,
).map(lambda items: b"".join(chunk(chunk_id, body) for chunk_id, body in items))


@given(
    audio_format=formats,
    samples=st.binary(max_size=300),
    extra=extras,
    known_size=st.booleans(),
    trailer=st.binary(max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=40),
)
def test_any_chunking_gives_the_same_samples(
    audio_format: AudioFormat,
    samples: bytes,
    extra: bytes,
    known_size: bool,
    trailer: bytes,
    cuts: list[int],
) -> None:
    if known_size:
        # A real size: whatever follows the data chunk is not audio. (Size 0 is read
        # as the streaming placeholder, so an empty data chunk has nothing after it.)
        trailer = trailer if samples else b""
        stream = wav_header(audio_format, len(samples), extra_chunks=extra) + samples + trailer
    else:
        # A streaming placeholder: everything to the end is audio.
        stream = wav_header(audio_format, extra_chunks=extra) + samples
    out, stripper = strip(split(stream, cuts))
    assert out == samples
    assert stripper.format == audio_format
    assert stripper.header_done


@pytest.mark.parametrize("pieces", [1, 2, 7, 44, 1000])
def test_header_split_byte_by_byte_and_zero_placeholder(pieces: int) -> None:
    samples = bytes(range(256)) * 4
    stream = wav_header(PCM16, 0) + samples  # 0 is the other "unknown" placeholder
    step = max(1, len(stream) // pieces)
    parts = [stream[i : i + step] for i in range(0, len(stream), step)]
    out, stripper = strip(parts)
    assert out == samples
    assert stripper.format == PCM16


def test_format_is_known_only_after_the_fmt_chunk() -> None:
    stripper = WavHeaderStripper()
    header = wav_header(PCM16)
    assert stripper.feed(header[:20]) == b""
    before = (stripper.format, stripper.header_done)
    assert before == (None, False)
    assert stripper.feed(header[20:]) == b""
    assert stripper.format == PCM16
    assert stripper.header_done
    assert stripper.feed(b"\1\2") == b"\1\2"


def test_wave_format_extensible() -> None:
    fmt = struct.pack("<HHIIHH", 0xFFFE, 2, 44100, 44100 * 4, 4, 16)
    # cbSize, valid bits, channel mask, then the sub-format GUID (PCM).
    fmt += struct.pack("<HHI", 22, 16, 3) + struct.pack("<H", 1) + b"\x00" * 14
    stream = b"RIFF\xff\xff\xff\xffWAVE" + chunk(b"fmt ", fmt) + b"data\xff\xff\xff\xff" + b"ab"
    out, stripper = strip([stream])
    assert out == b"ab"
    assert stripper.format == AudioFormat("pcm_s16le", 44100, 2)


def test_rf64_is_read_to_the_end() -> None:
    header = wav_header(PCM16)
    stream = b"RF64" + header[4:] + b"xyz"
    assert strip([stream])[0] == b"xyz"


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"ID3\x04" + b"\0" * 20, "not a RIFF/WAVE"),
        (b"RIFF\0\0\0\0AVI " + b"\0" * 8, "not a RIFF/WAVE"),
        (b"RIFF\0\0\0\0WAVEdata\4\0\0\0abcd", "before its fmt"),
        (b"RIFF\0\0\0\0WAVEfmt \xff\xff\0\0", "implausible"),
        (
            b"RIFF\0\0\0\0WAVE" + chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)),
            "unsupported WAV sample format",
        ),
        (
            b"RIFF\0\0\0\0WAVE" + chunk(b"fmt ", struct.pack("<HHIIHH", 1, 0, 8000, 0, 0, 16)),
            "invalid WAV fmt",
        ),
    ],
)
def test_invalid_streams_are_rejected(stream: bytes, message: str) -> None:
    with pytest.raises(WavFormatError, match=message):
        WavHeaderStripper().feed(stream)


@pytest.mark.parametrize("length", [0, 1, 11, 12, 30, 43])
def test_stream_ending_inside_the_header(length: int) -> None:
    stripper = WavHeaderStripper()
    assert stripper.feed(wav_header(PCM16)[:length]) == b""
    with pytest.raises(WavFormatError, match="ended inside its header"):
        stripper.finish()


def test_large_unknown_chunk_is_skipped_without_buffering() -> None:
    big = b"\x55" * 1_000_000
    stream = wav_header(PCM16, extra_chunks=chunk(b"junk", big)) + b"pcm!"
    pieces = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    stripper = WavHeaderStripper()
    tracemalloc.start()
    try:
        out = b"".join([stripper.feed(piece) for piece in pieces])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == b"pcm!"
    # Skipped as it streams by: holding the 1 MB chunk would take a megabyte.
    assert peak < 64 * 1024
