"""Polish rules: the project's own common abbreviations (LibreOffice adds more)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="pl",
    abbreviations=words("itd itp etc tys mln mld zł gr r"),
    prepositive=words(
        """
        np tzn tj m.in ok ul al pl os prof dr hab inż mgr lek doc płk gen kpt por ppor
        św nr godz tel wg ww ds im zob por ang łac pt
        """
    ),
)
