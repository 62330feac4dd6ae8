"""Hindi rules: ``।`` and ``॥`` end a sentence (Unicode STerm); titles never do."""

from __future__ import annotations

from . import NEUTRAL, LanguageRules, words

RULES = LanguageRules(
    code="hi",
    abbreviations=NEUTRAL.abbreviations | words("रु"),
    prepositive=NEUTRAL.prepositive | words("डॉ प्रो श्री श्रीमती सं पृ ई.पू rs"),
)
