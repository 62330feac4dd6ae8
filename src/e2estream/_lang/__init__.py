"""Per-language segmentation rules, kept as data.

Each language is a module in this package exposing ``RULES``, a :class:`LanguageRules`.
Adding a language is adding such a module and its code to ``_MODULES``; the segmenter
itself has no language-specific code. An unknown code falls back to :data:`NEUTRAL`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["NEUTRAL", "LanguageRules", "rules_for"]


@dataclass(frozen=True)
class LanguageRules:
    """What the segmenter needs to know about one language.

    All word lists are compared case-insensitively (keys are lower case), and an
    abbreviation is written without its final period and without inner spaces
    (``"z.b"`` covers both "z.B." and "z. B.").

    Attributes:
        code: The language code the rules are for.
        abbreviations: Abbreviations that may end a sentence ("etc.", "usw.").
        prepositive: Abbreviations that never end a sentence because something always
            follows them (titles such as "Dr.", and "e.g.", "z. B.", "vgl.").
        starters: Words that typically open a sentence. After an ambiguous period
            (an initial, "U.S.", a general abbreviation where nouns are capitalised)
            a sentence boundary is assumed only before one of these.
        abbreviation_needs_starter: If true (German: every noun is capitalised), a
            general abbreviation ends a sentence only before a starter word; else
            before any capitalised word.
        ordinal_numbers: If true, "12." can be an ordinal ("am 12. Juni").
        ordinal_before: Words after which a number with a period is an ordinal.
        ordinal_after: Words before which a number with a period is an ordinal
            (month names, "Jahrhundert", "Auflage").
        spaced_closers: Closing marks written after a space ("« Oui ! »").
    """

    code: str
    abbreviations: frozenset[str] = frozenset()
    prepositive: frozenset[str] = frozenset()
    number_units: frozenset[str] = frozenset()
    starters: frozenset[str] = frozenset()
    abbreviation_needs_starter: bool = False
    ordinal_numbers: bool = False
    ordinal_before: frozenset[str] = frozenset()
    ordinal_after: frozenset[str] = frozenset()
    spaced_closers: str = ""


def words(text: str) -> frozenset[str]:
    """Split a whitespace-separated word list into a lower-case frozenset."""
    return frozenset(word.lower() for word in text.split())


#: Language-neutral rules: punctuation only, plus abbreviations common to many languages.
NEUTRAL = LanguageRules(
    code="",
    abbreviations=words("etc ca approx vs no nr tel fig"),
    prepositive=words("dr prof mr mrs ms st e.g i.e n°"),
)

_MODULES = {
    "en": "en",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "it": "it",
    "nl": "nl",
    "pt": "pt",
    "zh": "cjk",
    "ja": "cjk",
    "ko": "cjk",
}
_cache: dict[str, LanguageRules] = {}


def rules_for(language: str) -> LanguageRules:
    """Return the rules for a language code such as ``"de"``, ``"en-US"`` or ``"pt_BR"``.

    Only the primary subtag counts; an unknown language gets :data:`NEUTRAL`.
    """
    primary = language.replace("_", "-").split("-", 1)[0].lower()
    cached = _cache.get(primary)
    if cached is not None:
        return cached
    module_name = _MODULES.get(primary)
    rules = NEUTRAL
    if module_name is not None:
        module = importlib.import_module(f"{__name__}.{module_name}")
        rules = module.RULES
    _cache[primary] = rules
    return rules
