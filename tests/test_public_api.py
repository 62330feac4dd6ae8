"""The public surface: exported names, docstrings, value types and their validation."""

from __future__ import annotations

import base64
import inspect
import json
from types import ModuleType
from typing import get_origin

import pytest

import e2estream
from e2estream import (
    AudioEvent,
    AudioFormat,
    DoneEvent,
    ErrorEvent,
    Event,
    ReplyMetrics,
    Segment,
    SegmentDoneEvent,
    SegmentEvent,
    TokenEvent,
)


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(e2estream).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)  # subpackages
    }
    assert set(e2estream.__all__) == public
    assert e2estream.__all__ == sorted(e2estream.__all__)


@pytest.mark.parametrize("name", e2estream.__all__)
def test_public_names_are_documented_and_show_the_public_module(name: str) -> None:
    obj = getattr(e2estream, name)
    if get_origin(obj) is not None:
        return  # a type alias (Event, SpeechNormalizer): typing objects keep their module
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert obj.__module__ == "e2estream"
        assert inspect.getdoc(obj), f"{name} has no docstring"


def test_backends_and_testing_are_documented() -> None:
    from e2estream import backends, testing

    for module in (backends, testing):
        for name in module.__all__:
            assert inspect.getdoc(getattr(module, name)), f"{module.__name__}.{name}"


def test_audio_format_validates_and_computes_durations() -> None:
    fmt = AudioFormat("pcm_s16le", 24000, 2)
    assert fmt.frame_size == 4
    assert fmt.bytes_per_second == 96000
    assert fmt.duration(96000) == 1.0
    assert AudioFormat("mp3").duration(1000) is None
    assert not AudioFormat("opus").is_raw
    with pytest.raises(ValueError, match="unknown audio encoding 'wav'"):
        AudioFormat("wav")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sample_rate"):
        AudioFormat(sample_rate=0)
    with pytest.raises(ValueError, match="channels"):
        AudioFormat(channels=0)


def test_event_dicts_are_json_and_round_trip_audio() -> None:
    segment = Segment(0, 0, 6, "Hello.", speech="Hello")
    audio = AudioEvent(0, b"\x01\x02\x03\x04", AudioFormat("pcm_s16le", 8000), offset=8)
    metrics = ReplyMetrics(0.1, 0.2, 0.3, 1.0, 3, 1, 4, 0.00025, 0)
    events: list[Event] = [
        TokenEvent("Hello", 0),
        SegmentEvent(segment),
        audio,
        SegmentDoneEvent(0, 4, 0.00025),
        ErrorEvent(RuntimeError("boom"), 0),
        DoneEvent("Hello.", metrics),
    ]
    for event in events:
        data = json.loads(json.dumps(event.to_dict()))
        assert data["type"] == event.type
    assert base64.b64decode(audio.to_dict()["data"]) == audio.data
    assert "data" not in audio.to_dict(include_data=False)
    assert audio.to_dict(include_data=False)["size"] == 4
    assert audio.start_time == pytest.approx(8 / 16000)
    assert SegmentEvent(segment).to_dict()["speech"] == "Hello"
    assert ErrorEvent(RuntimeError("boom")).to_dict() == {
        "type": "error",
        "error": "RuntimeError",
        "message": "boom",
        "segment_index": None,
    }


def test_segment_speech_text_defaults_to_display_text() -> None:
    assert Segment(0, 0, 3, "Hi.").speech_text == "Hi."
    assert Segment(0, 0, 3, "Hi.", speech="").speech_text == ""
