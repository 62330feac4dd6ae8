"""Spanish rules: common abbreviations; "¿" and "¡" open a sentence."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="es",
    abbreviations=words("etc aprox pág págs núm cap vol ed tel ej cía no art ee.uu"),
    prepositive=words(
        "sr sra srta sres dr dra lic ing prof d dña ud uds vd vds pág núm n° p ej ee av avda"
    ),
    starters=words(
        """
        el la los las un una unos unas yo tú él ella nosotros vosotros ellos ellas
        pero y o así luego entonces también además sin sí no gracias hola este esta
        esto estos estas qué cómo cuándo dónde por para en con
        """
    ),
)
