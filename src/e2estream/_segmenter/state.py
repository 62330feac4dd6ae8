"""The scan's state and the typed decisions the rule families return."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

from .._lang import LanguageRules

__all__ = ["Boundary", "CodeFence", "Decision", "ListMarker", "MarkerKind", "ScanState"]


class Boundary(enum.Enum):
    """What kind of segment end a decision found (the policy treats them differently)."""

    SENTENCE = "sentence"  #: a sentence end: short sentences may be merged (min_chars)
    BREAK = "break"  #: a line end, list item or paragraph: always a segment end
    CLAUSE = "clause"  #: a clause end the first-clause policy already accepted


class Decision(NamedTuple):
    """The outcome of looking at one candidate character.

    A rule returns ``None`` instead when it needs more text to decide.

    Attributes:
        resume: Index where the scan goes on.
        cut: Index where the current segment ends, or None if it does not end here.
        boundary: The kind of end at ``cut``.
    """

    resume: int
    cut: int | None = None
    boundary: Boundary = Boundary.SENTENCE


class MarkerKind(enum.Enum):
    """The kind of list marker the current segment started with."""

    BULLET = "bullet"
    NUMBER = "number"
    LETTER = "letter"


class ListMarker(NamedTuple):
    """A list item's marker: which marker would start the next item inline."""

    kind: MarkerKind
    next: str  #: the next item's number or letter, or the bullet character
    suffix: str  #: "." ")" or ".)" after a number or letter


class CodeFence(NamedTuple):
    """The fence that opened the code block being scanned."""

    char: str
    length: int


@dataclass(slots=True)
class ScanState:
    """Everything the rules know about the current segment, as indexes into the buffer.

    Attributes:
        rules: The language's data.
        starter_prefixes: Prefixes of the language's sentence starters.
        ordinal_prefixes: Prefixes of the words after which a number is an ordinal.
        abbreviation_prefixes: Prefixes (lower case) of every listed abbreviation.
        span_tags: Names of the tags whose content is never cut.
        first_clause_chars: The first-clause policy threshold (None: off).
        index: Index of the segment being built.
        resume: Where the next scan starts.
        text_start: First non-space character of the current segment, once known.
        lead: Characters from the segment start known to be whitespace (an index).
        marker: The current list item's marker, if any.
        spans: Names of the tagged spans open now (innermost last).
        span_start: Where the outermost open span started.
        pending: A ``<`` or backtick whose region has not ended yet.
        code: The fence of the code block being scanned.
        code_line: Start of the next code line to test for the closing fence.
        code_seen: Code text already searched for a line end.
        forced_key: Reply offset of the segment whose text before max_chars has no cut.
        forced_from: Where the search for a space after that limit resumes.
        blocked: ``(segment offset, bound)`` of a forced cut blocked by an open region.
        quiet_until: Set by a scan that read the whole buffer: until the buffer is this
            long, text without candidate characters changes nothing. -1 (no such bound)
            whenever the scan is not caught up with the buffer: push() relies on it.
    """

    rules: LanguageRules
    starter_prefixes: frozenset[str]
    ordinal_prefixes: frozenset[str]
    abbreviation_prefixes: frozenset[str]
    span_tags: frozenset[str]
    first_clause_chars: int | None
    index: int = 0
    resume: int = 0
    text_start: int | None = None
    lead: int = 0
    marker: ListMarker | None = None
    spans: list[str] = field(default_factory=list)
    span_start: int | None = None
    pending: int | None = None
    code: CodeFence | None = None
    code_line: int | None = None
    code_seen: int = 0
    forced_key: int = -1
    forced_from: int = 0
    blocked: tuple[int, int] | None = None
    quiet_until: int = -1

    def new_segment(self, start: int) -> None:
        """Forget what belonged to the segment just released; the next starts at ``start``."""
        self.index += 1
        self.resume = max(self.resume, start)
        self.text_start = None
        self.lead = start
        self.marker = None
        self.quiet_until = -1
        if self.pending is not None:
            self.pending = max(self.pending, start)

    def shift(self, by: int) -> None:
        """Lower every index by ``by`` after the buffer dropped released text."""
        self.resume -= by
        self.lead -= by
        self.code_seen -= by
        self.forced_from -= by
        self.quiet_until -= by
        if self.text_start is not None:
            self.text_start -= by
        if self.span_start is not None:
            self.span_start -= by
        if self.pending is not None:
            self.pending -= by
        if self.code_line is not None:
            self.code_line -= by
        if self.blocked is not None:
            self.blocked = (self.blocked[0], self.blocked[1] - by)
