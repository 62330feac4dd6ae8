"""Chinese, Japanese and Korean: no abbreviations; ``。！？`` end a sentence at once.

Those terminators are handled by the segmenter for every language (they need no
following space); this table only exists so the codes are known.
"""

from __future__ import annotations

from . import NEUTRAL, LanguageRules

RULES = LanguageRules(
    code="cjk",
    abbreviations=NEUTRAL.abbreviations,
    prepositive=NEUTRAL.prepositive,
)
