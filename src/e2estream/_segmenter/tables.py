"""What a segmenter needs that depends only on its language, built once per language.

A server makes a segmenter per reply, up to a thousand a second: anything built per
segmenter is paid per reply in CPU before the first token and in memory for as long as
the reply lasts. So the rule table, the candidate patterns and the prefix sets are
built on a language's first segmenter, kept here, and shared by every later one. They
are shared, so they are immutable: frozensets, compiled patterns, a read-only mapping
and a frozen dataclass; no segmenter can change what another one sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .._lang import LanguageRules, rules_for, rules_key
from .abbreviations import prefixes
from .buffer import Buffer
from .chars import AT_ONCE_TERMS, BULLETS, CLAUSE_CHARS, TERMS, candidates
from .lists import on_bullet, on_paren
from .markup import on_backtick, on_newline, on_tag
from .policy import on_clause
from .sentences import on_at_once_terminator, on_terminator
from .state import Decision, ScanState

__all__ = ["LanguageTables", "Rule", "not_a_candidate", "tables_for"]

#: A rule family's decision at a candidate: (state, buffer, index, final) -> Decision or
#: None (needs more text).
Rule = Callable[[ScanState, Buffer, int, bool], "Decision | None"]


def not_a_candidate(st: ScanState, buffer: Buffer, i: int, final: bool) -> Decision | None:
    """An astral character that is no terminator (an emoji): nothing to decide."""
    return Decision(i + 1)


@dataclass(frozen=True, slots=True)
class LanguageTables:
    """A language's rules and everything derived from them alone, shared by its segmenters.

    Attributes:
        rules: The language's data.
        starter_prefixes: Every prefix of the sentence starters.
        ordinal_prefixes: Every prefix of the words after which a number is an ordinal.
        abbreviation_prefixes: Every prefix (lower case) of every listed abbreviation.
        candidates: The characters a scan stops at.
        clause_candidates: The same and the clause marks (while the first segment may
            end at a clause).
        rules_at: Which rule decides at each candidate character (read-only).
        waits_for_next: Candidates whose rule decides nothing before the character after
            them: as the last character of a delta they only make the scan wait there.
    """

    rules: LanguageRules
    starter_prefixes: frozenset[str]
    ordinal_prefixes: frozenset[str]
    abbreviation_prefixes: frozenset[str]
    candidates: re.Pattern[str]
    clause_candidates: re.Pattern[str]
    rules_at: Mapping[str, Rule]
    waits_for_next: frozenset[str]


def _rule_table(extra_terms: str) -> Mapping[str, Rule]:
    """Which rule decides at each candidate character, read-only."""
    table: dict[str, Rule] = {"\n": on_newline, "<": on_tag, "`": on_backtick, ")": on_paren}
    table.update(dict.fromkeys(CLAUSE_CHARS, on_clause))
    table.update(dict.fromkeys(TERMS + extra_terms, on_terminator))  # Greek ";" is no clause
    table.update(dict.fromkeys(AT_ONCE_TERMS, on_at_once_terminator))
    table.update(dict.fromkeys(BULLETS, on_bullet))
    return MappingProxyType(table)


def _build(rules: LanguageRules) -> LanguageTables:
    listed = rules.abbreviations | rules.prepositive | {w.lower() for w in rules.never_final}
    extra = rules.terminators
    return LanguageTables(
        rules=rules,
        starter_prefixes=prefixes(rules.starters),
        ordinal_prefixes=prefixes(rules.ordinal_after),
        abbreviation_prefixes=prefixes(frozenset(listed)),
        candidates=candidates(extra),
        clause_candidates=candidates(extra, clauses=True),
        rules_at=_rule_table(extra),
        waits_for_next=frozenset(TERMS + AT_ONCE_TERMS + extra + CLAUSE_CHARS + ")"),
    )


#: Tables by language key (see :func:`e2estream._lang.rules_key`): one entry per
#: language the project knows, and one for all the others, whatever codes callers pass.
_TABLES: dict[str, LanguageTables] = {}


def tables_for(language: str) -> LanguageTables:
    """The shared tables of ``language`` (a code such as ``"de"`` or ``"en-US"``)."""
    tables = _TABLES.get(language)  # the common case: a plain known code, e.g. "en"
    if tables is not None:
        return tables
    key = rules_key(language)
    tables = _TABLES.get(key)
    if tables is None:
        tables = _TABLES[key] = _build(rules_for(key))
    return tables
