"""Slovak rules: the project's own common abbreviations (LibreOffice adds more)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="sk",
    abbreviations=words("atď atp tzv resp tis mil mld hod min"),
    prepositive=words(
        """
        napr tj tzv resp príp popr mj pr porov čl ods písm str č ul nám tel
        ing mgr bc doc prof dr judr mudr phdr rndr csc drsc p sv pozri cca
        """
    ),
)
