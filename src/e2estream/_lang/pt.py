"""Portuguese rules: common abbreviations."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="pt",
    abbreviations=words("etc pág págs cap vol ed tel av aprox núm ex art arts"),
    prepositive=words("sr sra srta dr dra prof profa eng exmo exma v.exa pág núm n° p ex"),
    starters=words(
        """
        o a os as um uma eu tu ele ela nós vós eles elas mas e ou então depois também
        além sim não obrigado obrigada olá este esta isto que como quando onde porque
        em para com
        """
    ),
)
