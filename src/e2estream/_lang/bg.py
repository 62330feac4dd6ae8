"""Bulgarian rules: the project's own common abbreviations.

LibreOffice's Bulgarian sentence exceptions hold three entries and CLDR has no
Bulgarian suppressions, so this list is the project's own.
"""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="bg",
    abbreviations=words("и.т.н и.др др лв ст хил млн млрд мин сек ч"),
    prepositive=words(
        """
        ул бул пл гр обл кв ж.к проф доц акад инж арх проф д-р г-н г-жа г-ца
        стр гл чл ал т.е напр вж срв вкл бр No № т.нар
        """
    ),
)
