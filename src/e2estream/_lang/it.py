"""Italian rules: common abbreviations."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="it",
    abbreviations=words("ecc ca pag pagg cap vol ed tel es n num art"),
    prepositive=words("sig sigg sig.ra dott dr prof ing avv arch geom on sen es pag n num art"),
    starters=words(
        """
        il lo la i gli le un uno una io tu lui lei noi voi loro ma e o quindi poi allora
        anche inoltre però sì no grazie ciao questo questa che come quando dove perché
        in per con
        """
    ),
)
