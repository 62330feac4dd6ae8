"""The :mod:`ctypes` binding of eSpeak NG's C API (``speak_lib.h``) that the engine uses.

Only what :class:`~e2estream.backends.EspeakSynthesizer` needs: loading the library from
``espeakng-loader``, the ``espeak_VOICE`` and ``espeak_EVENT`` structures, the function
signatures, and the readers for the voice list and the word events. Every call into the
library happens in the engine thread (``_espeak_engine``); nothing here starts a thread.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "EspeakVoice",
    "EventStruct",
    "SynthCallback",
    "VoiceStruct",
    "list_voices",
    "load_library",
    "word_events",
]

INSTALL_HINT = 'pip install "e2estream[espeak]"'

# eSpeak NG's C API constants (speak_lib.h).
AUDIO_OUTPUT_SYNCHRONOUS = 2  # call the callback from inside espeak_Synth, in its thread
INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
CHARS_UTF8 = 0x1
ENDPAUSE = 0x1000  # a sentence pause at the end, so consecutive segments don't run on
POS_CHARACTER = 1
RATE = 1
PITCH = 3
EE_OK = 0
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1


class VoiceStruct(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h."""

    _fields_ = (
        ("name", ctypes.c_char_p),
        # A sequence of (priority byte, NUL-terminated language) pairs, ending with a 0
        # priority; c_void_p because c_char_p would stop at the first NUL.
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),  # WORD and SENTENCE events
        ("name", ctypes.c_char_p),  # MARK and PLAY events
        ("string", ctypes.c_char * 8),  # PHONEME events
    )


class EventStruct(ctypes.Structure):
    """``espeak_EVENT`` from speak_lib.h: 40 bytes on 64-bit platforms.

    ``type`` is the C enum ``espeak_EVENT_TYPE`` (an ``int``). ``text_position`` is the
    1-based position of the event in the input, counted in characters (code points) of
    the UTF-8 text as eSpeak decoded it; ``audio_position`` is milliseconds from the
    start of the ``espeak_Synth`` call's audio.
    """

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


#: ``int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)``.
SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(EventStruct)
)


@dataclass(frozen=True)
class EspeakVoice:
    """One of eSpeak NG's voices (or voice variants), as listed by the library.

    Attributes:
        name: Human-readable name, e.g. ``"English (America)"``.
        identifier: The voice file, e.g. ``"gmw/en-US"`` (``"!v/f3"`` for a variant).
        languages: Language tags the voice speaks, most suitable first, lower case
            (``("en-us", "en")``); empty for variants.

    """

    name: str
    identifier: str
    languages: tuple[str, ...]

    @property
    def short_name(self) -> str:
        """The identifier without its family directory: ``"en-US"``, ``"f3"``."""
        return self.identifier.rsplit("/", 1)[-1]


EspeakVoice.__module__ = "e2estream.backends.espeak"


def load_library() -> tuple[ctypes.CDLL, str]:
    """Load eSpeak NG from ``espeakng-loader``; return the library and its data path.

    Raises:
        ImportError: ``espeakng-loader`` is not installed.
        RuntimeError: The library cannot be loaded.

    """
    try:
        import espeakng_loader
    except ImportError as exc:
        raise ImportError(
            "EspeakSynthesizer needs the espeakng-loader package, which ships eSpeak "
            f"NG's library and voices: {INSTALL_HINT}"
        ) from exc
    library_path = str(espeakng_loader.get_library_path())
    try:
        data_path = str(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(library_path)
    except (OSError, RuntimeError) as exc:
        raise RuntimeError(
            f"could not load eSpeak NG from {library_path!r} ({exc}); "
            f"reinstall it with: {INSTALL_HINT}"
        ) from exc
    _declare_signatures(lib)
    return lib, data_path


def _declare_signatures(lib: Any) -> None:
    lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Info.argtypes = (ctypes.POINTER(ctypes.c_char_p),)
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_ListVoices.argtypes = (ctypes.POINTER(VoiceStruct),)
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(VoiceStruct))
    lib.espeak_SetSynthCallback.argtypes = (SynthCallback,)
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_GetParameter.argtypes = (ctypes.c_int, ctypes.c_int)
    lib.espeak_GetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = (
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    )
    lib.espeak_Synth.restype = ctypes.c_int


def list_voices(lib: Any, spec: VoiceStruct | None) -> list[tuple[EspeakVoice, list[int]]]:
    """Return the voices ``espeak_ListVoices`` gives for ``spec``, with their priorities."""
    array_ = lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
    out: list[tuple[EspeakVoice, list[int]]] = []
    i = 0
    while array_[i]:
        raw = array_[i].contents
        languages: list[str] = []
        priorities: list[int] = []
        address = raw.languages
        while address:
            priority = ctypes.c_ubyte.from_address(address).value
            if priority == 0:
                break
            tag = ctypes.string_at(address + 1)
            languages.append(tag.decode("ascii", "replace").lower())
            priorities.append(priority)
            address += len(tag) + 2
        voice = EspeakVoice(
            name=(raw.name or b"").decode("utf-8", "replace"),
            identifier=(raw.identifier or b"").decode("utf-8", "replace"),
            languages=tuple(languages) if spec is None else (),
        )
        out.append((voice, priorities))
        i += 1
    return out


def word_events(events: Any) -> Iterator[tuple[int, int]]:
    """Yield ``(text_position, audio_position)`` of each WORD event in a callback's list.

    Args:
        events: The callback's ``espeak_EVENT *`` (a ctypes pointer, possibly NULL); the
            list ends with an event of type ``espeakEVENT_LIST_TERMINATED``.

    """
    if not events:
        return
    i = 0
    while True:
        event = events[i]
        if event.type == EVENT_LIST_TERMINATED:
            return
        if event.type == EVENT_WORD:
            yield event.text_position, event.audio_position
        i += 1
