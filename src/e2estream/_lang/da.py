"""Danish rules: the project's own common abbreviations (LibreOffice adds more)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="da",
    abbreviations=words("etc osv m.m kr stk"),
    prepositive=words("f.eks bl.a dvs d.v.s ca jf hhv pga vedr iflg evt nr tlf kl dr prof"),
)
