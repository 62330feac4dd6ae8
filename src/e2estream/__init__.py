"""e2estream: true end-to-end streaming from LLM tokens to ordered audio."""

from __future__ import annotations

from ._audio import AudioChunk as AudioChunk
from ._audio import AudioEncoding as AudioEncoding
from ._audio import AudioFormat as AudioFormat
from ._audio import Synthesizer as Synthesizer
from ._exceptions import E2EStreamError as E2EStreamError
from ._exceptions import SourceError as SourceError
from ._exceptions import SynthesisError as SynthesisError
from ._exceptions import SynthesisTimeout as SynthesisTimeout
from ._exceptions import TTSAuthenticationError as TTSAuthenticationError
from ._exceptions import TTSHTTPError as TTSHTTPError
from ._segment import Segment as Segment
from ._segment import SegmentKind as SegmentKind
from ._sources import token_source as token_source
from ._segmenter import IncrementalSegmenter as IncrementalSegmenter
