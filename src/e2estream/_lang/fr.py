"""French rules: common abbreviations and the space before ``! ? ; :`` and inside « »."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="fr",
    abbreviations=words("etc env cf av apr ex réf tél p pp vol chap éd min max no"),
    prepositive=words("m mm mme mmes mlle mlles dr pr me mgr st ste cf ex réf n° no p pp"),
    starters=words(
        """
        le la les un une des je tu il elle nous vous ils elles ce cette ces mais et ou
        donc alors puis ensuite enfin cependant pourtant ainsi oui non merci voici voilà
        quand comment pourquoi où qui que quoi si en dans pour avec sur
        """
    ),
    spaced_closers="»",
)
