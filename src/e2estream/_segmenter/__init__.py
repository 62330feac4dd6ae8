"""IncrementalSegmenter: split streamed text into segments a TTS speaks well.

One module per rule family, driven by a small scan loop:

* :mod:`.chars`: character classes and the patterns built from them;
* :mod:`.buffer`: the unreleased text, its offset in the reply, never-cut regions;
* :mod:`.state`: the scan state and the typed decisions rules return;
* :mod:`.sentences`: terminators, ellipses, CJK; :mod:`.abbreviations`: periods
  after abbreviations, numbers, ordinals and initials;
* :mod:`.markup`: SSML-like tags and spans, inline code, code fences;
* :mod:`.lists`: list markers; :mod:`.policy`: min, max and first-clause;
* :mod:`.tables`: what depends on the language alone (the rule table, the candidate
  patterns, prefix sets), built once per language and shared, read-only;
* :mod:`.scanner`: :class:`IncrementalSegmenter` and its scan loop.

Language knowledge (abbreviations, sentence starters, ordinals, terminators) is data in
:mod:`e2estream._lang`.
"""

from __future__ import annotations

from .markup import DEFAULT_SPAN_TAGS as DEFAULT_SPAN_TAGS
from .scanner import IncrementalSegmenter as IncrementalSegmenter

__all__ = ["DEFAULT_SPAN_TAGS", "IncrementalSegmenter"]
