"""Swedish rules: the project's own common abbreviations (LibreOffice adds more)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="sv",
    abbreviations=words("etc osv m.m bl.a t.ex kr st"),
    prepositive=words("t.ex bl.a d.v.s dvs s.k p.g.a m.fl ca jfr resp f.d nr tel kl dr prof"),
)
