"""Czech rules: the project's own common abbreviations (no public list is used here).

CLDR has no Czech suppressions and the free Czech word lists that have abbreviations
are GPL, so this list is the project's own.
"""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="cs",
    abbreviations=words("atd apod aj tzv resp kč tis mil mld hod min"),
    prepositive=words(
        """
        např tj tzv resp popř mj př srov čl odst písm str č ul nám tel
        ing mgr bc doc prof dr judr mudr phdr rndr paeddr csc drsc pí p sv viz cca
        """
    ),
)
