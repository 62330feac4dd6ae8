"""Russian rules: the project's own common abbreviations (CLDR and LibreOffice add more)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="ru",
    abbreviations=words("и.т.д и.т.п и.др тыс млн млрд руб коп др"),
    prepositive=words(
        """
        ул пр-т пл д кв корп стр обл р-н им проф акад доц канд зав зам см ср напр т.е т.к
        т.н т.о т.ч гр г-н г-жа св рис табл гл п пп ст
        """
    ),
)
