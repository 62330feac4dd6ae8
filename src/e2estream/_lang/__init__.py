"""Per-language segmentation rules, kept as data.

Each language is a module in this package exposing ``RULES``, a :class:`LanguageRules`.
Adding a language is adding such a module and its code to ``_MODULES``; the segmenter
itself has no language-specific code. An unknown code falls back to :data:`NEUTRAL`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from dataclasses import dataclass

__all__ = ["NEUTRAL", "LanguageRules", "rules_for", "rules_key"]


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
        never_final: Abbreviations, compared case-sensitively, that never end a sentence
            (from CLDR's and LibreOffice's lists: "Calif", "Alt" but not "alt").
        terminators: Characters this language adds to Unicode's sentence terminators
            (Greek ``;``), which end a sentence before a space.
        ordinary: Words (lower case) the project treats as ordinary words even where a
            public list has them as abbreviations (German "so", "am", "Jan.").
        abbreviation_suffixes: Endings (lower case) that make a word an abbreviation
            that may end a sentence (German and Dutch street names: "Hauptstr. 12").
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
    never_final: frozenset[str] = frozenset()
    terminators: str = ""
    ordinary: frozenset[str] = frozenset()
    abbreviation_suffixes: tuple[str, ...] = ()


def words(text: str) -> frozenset[str]:
    """Split a whitespace-separated word list into a lower-case frozenset."""
    return frozenset(word.lower() for word in text.split())


#: Language-neutral rules: punctuation only, plus abbreviations common to many languages.
NEUTRAL = LanguageRules(
    code="",
    abbreviations=words("etc ca approx no nr tel fig"),
    prepositive=words("dr prof mr mrs ms st e.g i.e n° vs"),
)

#: Never-final abbreviations every language gets ("A. Karpov vs. B. Spassky").
COMMON_PREPOSITIVE = words("vs e.g i.e")

_MODULES = {
    "en": "en",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "it": "it",
    "nl": "nl",
    "pt": "pt",
    "ru": "ru",
    "pl": "pl",
    "sv": "sv",
    "da": "da",
    "cs": "cs",
    "sk": "sk",
    "hi": "hi",
    "bg": "bg",
    "zh": "cjk",
    "ja": "cjk",
    "ko": "cjk",
}
#: Rules by language key (see :func:`rules_key`): bounded by the languages known here.
_cache: dict[str, LanguageRules] = {}


@functools.cache
def _known_codes() -> frozenset[str]:
    """Every primary code some list here has data for (a module or a public list)."""
    from .cldr_suppressions import EXTRA_STERM, SUPPRESSIONS
    from .libreoffice_exceptions import EXCEPTIONS

    return (
        frozenset(_MODULES)
        | frozenset(SUPPRESSIONS)
        | frozenset(EXCEPTIONS)
        | frozenset(EXTRA_STERM)
    )


def rules_key(language: str) -> str:
    """The key of a language code's rules: its primary subtag in lower case, if known.

    Every code with no data of its own ("xx", "tlh") gets the same key, ``""`` (the
    neutral rules), so the caches keyed by it stay bounded whatever codes callers pass.
    """
    primary = language.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in _known_codes() else ""


def rules_for(language: str) -> LanguageRules:
    """Return the rules for a language code such as ``"de"``, ``"en-US"`` or ``"pt_BR"``.

    Only the primary subtag counts; an unknown language gets :data:`NEUTRAL`. The
    project's lists (the language's module) are merged with the public ones: CLDR's
    sentence-break suppressions and LibreOffice's sentence exceptions (never-final
    abbreviations) and CLDR's extra terminators for the language. The result is built
    once per language and shared (it is immutable).
    """
    key = rules_key(language)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    module_name = _MODULES.get(key)
    rules = NEUTRAL
    if module_name is not None:
        module = importlib.import_module(f"{__name__}.{module_name}")
        rules = module.RULES
    rules = _merged(key, rules)
    _cache[key] = rules
    return rules


def _merged(code: str, rules: LanguageRules) -> LanguageRules:
    from .cldr_suppressions import EXTRA_STERM, SUPPRESSIONS
    from .libreoffice_exceptions import EXCEPTIONS

    never_final = set(rules.never_final)
    for entry in SUPPRESSIONS.get(code, ()):
        never_final.update(_keys(entry, rules, title_case=False))
    for entry in EXCEPTIONS.get(code, ()):
        never_final.update(_keys(entry, rules, title_case=True))
    prepositive = rules.prepositive | (COMMON_PREPOSITIVE - rules.abbreviations)
    abbreviations = rules.abbreviations
    if rules.abbreviation_needs_starter:
        # Where every noun is capitalised, the public lists' abbreviations may end a
        # sentence like the project's own: before a sentence starter only.
        abbreviations |= {key.lower() for key in never_final}
        never_final = set(rules.never_final)
    return dataclasses.replace(
        rules,
        abbreviations=abbreviations,
        prepositive=prepositive,
        never_final=frozenset(never_final),
        terminators=rules.terminators + EXTRA_STERM.get(code, ""),
    )


def _keys(entry: str, rules: LanguageRules, *, title_case: bool) -> list[str]:
    """How an abbreviation of a public list is looked up, in its own case.

    Written as the segmenter sees it: without the final period, and for one with
    inner spaces ("до н. э.", "z. B.") its last two parts joined ("н.э"). A single
    letter is left to the initials rule, and an abbreviation the project lists as one
    that may end a sentence keeps that meaning.
    """
    parts = entry.split()
    key = "".join(parts[-2:]).removesuffix(".")
    if len(key) < 2 or key.lower() in rules.abbreviations or key.lower() in rules.ordinary:
        return []
    if title_case and key[0].islower():
        return [key, key[0].upper() + key[1:]]
    return [key]
