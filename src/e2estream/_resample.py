"""Streaming sample-rate conversion of 16-bit PCM, for a fallback voice of another rate.

Linear interpolation, in exact integer arithmetic: output frame ``k`` lies at input
position ``k * source_rate / target_rate``, so the output does not depend on how the
input was cut into chunks. Good enough for a fallback voice (speech, briefly); it does
not filter, so a large downsampling aliases a little.
"""

from __future__ import annotations

import sys
from array import array

from ._audio import AudioFormat

__all__ = ["PcmResampler", "resampling_problem"]

_BIG_ENDIAN = sys.byteorder == "big"


def resampling_problem(source: AudioFormat, target: AudioFormat) -> str | None:
    """Why ``source`` audio cannot be converted to ``target`` (None if it can)."""
    if source.encoding != "pcm_s16le" or target.encoding != "pcm_s16le":
        return "only 16-bit PCM (pcm_s16le) can be resampled"
    if source.channels != target.channels:
        return "the channel counts differ"
    return None


class PcmResampler:
    """Convert a stream of ``source`` PCM bytes to ``target``'s sample rate.

    Feed any byte pieces (not necessarily whole frames) to :meth:`feed`; call
    :meth:`flush` at the end for the last frames.
    """

    def __init__(self, source: AudioFormat, target: AudioFormat) -> None:
        problem = resampling_problem(source, target)
        if problem is not None:
            raise ValueError(f"cannot resample {source} to {target}: {problem}")
        self._source_rate = source.sample_rate
        self._target_rate = target.sample_rate
        self._channels = source.channels
        self._frame = 2 * source.channels
        self._partial = b""  # bytes of an incomplete input frame
        self._samples = array("h")  # input samples from frame ``_base`` on
        self._base = 0  # input frame index of ``_samples[0]``
        self._next = 0  # index of the next output frame

    def feed(self, data: bytes) -> bytes:
        """Return the output frames that ``data`` (after what came before) completes."""
        data = self._partial + data
        whole = len(data) - len(data) % self._frame
        self._partial = data[whole:]
        incoming = array("h")
        incoming.frombytes(data[:whole])
        if _BIG_ENDIAN:
            incoming.byteswap()
        self._samples.extend(incoming)
        return self._produce(final=False)

    def flush(self) -> bytes:
        """Return the last output frames (the final input frame is held at the end)."""
        return self._produce(final=True)

    def _produce(self, *, final: bool) -> bytes:
        channels, source, target = self._channels, self._source_rate, self._target_rate
        samples, base = self._samples, self._base
        frames = len(samples) // channels
        out = array("h")
        k = self._next
        while True:
            position = k * source  # the input position of output frame k, times target
            index, fraction = divmod(position, target)
            local = index - base
            if local + 1 >= frames and not (final and local < frames):
                break  # the next input frame has not come yet (or the input is over)
            after = local + 1 if local + 1 < frames else local
            for channel in range(channels):
                a = samples[local * channels + channel]
                b = samples[after * channels + channel]
                out.append((a * (target - fraction) + b * fraction + target // 2) // target)
            k += 1
        self._next = k
        # Keep the input from the frame the next output frame starts at.
        keep_from = max(0, min(frames, (k * source) // target - base))
        if keep_from:
            del samples[: keep_from * channels]
            self._base = base + keep_from
        if _BIG_ENDIAN:
            out.byteswap()
        return out.tobytes()
