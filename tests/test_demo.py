"""The demo runs end to end, on the fake TTS and on eSpeak NG, and writes a valid WAV."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import anyio
import pytest

from e2estream.__main__ import main
from e2estream._demo import DemoOptions, run_demo


@pytest.mark.parametrize("tts", ["fake", "espeak"])
def test_demo_streams_speaks_and_writes_wav(tmp_path: Path, tts: str) -> None:
    out = io.StringIO()
    wav_path = tmp_path / "demo.wav"
    # The fake TTS works in (scaled) real time: give it a shorter reply.
    text = "Hello there, this is a test. It has three sentences. Dr. Who agrees!"
    options = DemoOptions(
        tts=tts,
        text=text if tts == "fake" else None,
        tokens_per_second=2000,
        first_token_delay=0,
        out=wav_path,
        color=False,
    )
    done = anyio.run(run_demo, options, out)
    printed = out.getvalue()
    # Every token was printed, in order, with only the markers in between.
    assert done.text in re.sub(r"\[(S|♪) \d+\]", "", printed)
    assert "[S 0]" in printed and "[♪ 0]" in printed
    assert "time to first audio (e2estream)" in printed
    assert "LLM first, then TTS" in printed
    assert done.metrics.segments >= 3 and done.metrics.errors == 0
    with wave.open(str(wav_path)) as wav:
        assert wav.getsampwidth() == 2
        seconds = wav.getnframes() / wav.getframerate()
    assert done.metrics.audio_duration is not None
    assert seconds == pytest.approx(done.metrics.audio_duration)
    assert seconds > len(done.text) / 30  # at least half the usual speaking time


def test_demo_in_german_on_trio(tmp_path: Path) -> None:
    out = io.StringIO()
    options = DemoOptions(
        language="de", tts="espeak", tokens_per_second=5000, first_token_delay=0, out=None
    )
    done = anyio.run(run_demo, options, out, backend="trio")
    assert "z. B." in done.text
    assert done.metrics.audio_duration and done.metrics.audio_duration > 10
    assert not list(tmp_path.iterdir())


def test_cli_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--tokens-per-second", "0"]) == 2
    assert "tokens-per-second" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["nonsense"])
