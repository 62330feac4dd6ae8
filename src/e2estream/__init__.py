"""e2estream: true end-to-end streaming from LLM tokens to ordered audio.

The building blocks, in the order data flows through them:

* :func:`token_source` turns an LLM stream into text deltas;
* :class:`IncrementalSegmenter` cuts the text into :class:`Segment` objects a TTS
  speaks well, while it streams;
* :class:`ProgressiveSynthesizer` synthesizes segments with a :class:`Synthesizer`
  (a few requests at a time) or a :class:`StreamingSynthesizer` (one connection for
  the reply), and yields :class:`AudioChunk` objects strictly in order;
* :func:`merge_events` merges async streams under structured concurrency;
* :func:`stream_reply` wires them together into one stream of events.
"""

from contextlib import suppress as _suppress

from ._audio import AudioChunk as AudioChunk
from ._audio import AudioEncoding as AudioEncoding
from ._audio import AudioFormat as AudioFormat
from ._audio import Synthesizer as Synthesizer
from ._audio import TextTiming as TextTiming
from ._batching import AudioBatching as AudioBatching
from ._events import AudioEvent as AudioEvent
from ._events import DoneEvent as DoneEvent
from ._events import ErrorEvent as ErrorEvent
from ._events import Event as Event
from ._events import ReplyMetrics as ReplyMetrics
from ._events import SegmentDoneEvent as SegmentDoneEvent
from ._events import SegmentEvent as SegmentEvent
from ._events import StallEvent as StallEvent
from ._events import TokenEvent as TokenEvent
from ._exceptions import E2EStreamError as E2EStreamError
from ._exceptions import SourceError as SourceError
from ._exceptions import SynthesisError as SynthesisError
from ._exceptions import SynthesisTimeout as SynthesisTimeout
from ._exceptions import TTSAuthenticationError as TTSAuthenticationError
from ._exceptions import TTSHTTPError as TTSHTTPError
from ._fallback import FallbackSynthesizer as FallbackSynthesizer
from ._fallback import FallbackTimeouts as FallbackTimeouts
from ._merge import MergedStream as MergedStream
from ._merge import merge_events as merge_events
from ._normalize import SpeechNormalizer as SpeechNormalizer
from ._normalize import normalize_speech as normalize_speech
from ._pipeline import stream_reply as stream_reply
from ._reply import ReplyStream as ReplyStream
from ._request import RequestSynthesizer as RequestSynthesizer
from ._request import SynthesisRequest as SynthesisRequest
from ._segment import Segment as Segment
from ._segment import SegmentKind as SegmentKind
from ._segmenter import IncrementalSegmenter as IncrementalSegmenter
from ._sources import token_source as token_source
from ._spoken import SpokenText as SpokenText
from ._streaming import SegmentEnd as SegmentEnd
from ._streaming import StreamingSynthesizer as StreamingSynthesizer
from ._streaming import SynthesisConnection as SynthesisConnection
from ._synthesizer import AudioChunkStream as AudioChunkStream
from ._synthesizer import ProgressiveSynthesizer as ProgressiveSynthesizer
from ._timeouts import SynthesisTimeouts as SynthesisTimeouts

__all__ = [
    "AudioBatching",
    "AudioChunk",
    "AudioChunkStream",
    "AudioEncoding",
    "AudioEvent",
    "AudioFormat",
    "DoneEvent",
    "E2EStreamError",
    "ErrorEvent",
    "Event",
    "FallbackSynthesizer",
    "FallbackTimeouts",
    "IncrementalSegmenter",
    "MergedStream",
    "ProgressiveSynthesizer",
    "ReplyMetrics",
    "ReplyStream",
    "RequestSynthesizer",
    "Segment",
    "SegmentDoneEvent",
    "SegmentEnd",
    "SegmentEvent",
    "SegmentKind",
    "SourceError",
    "SpeechNormalizer",
    "SpokenText",
    "StallEvent",
    "StreamingSynthesizer",
    "SynthesisConnection",
    "SynthesisError",
    "SynthesisRequest",
    "SynthesisTimeout",
    "SynthesisTimeouts",
    "Synthesizer",
    "TTSAuthenticationError",
    "TTSHTTPError",
    "TextTiming",
    "TokenEvent",
    "merge_events",
    "normalize_speech",
    "stream_reply",
    "token_source",
]

__version__ = "0.1.0.dev0"

# Show the public path in reprs and docs (``e2estream.Segment``, not ``e2estream._segment``).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with _suppress(AttributeError, TypeError):  # aliases of typing objects refuse it
            _obj.__module__ = __name__
del _name, _obj
