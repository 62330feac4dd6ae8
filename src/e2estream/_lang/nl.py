"""Dutch rules: common abbreviations ("bijv.", "d.w.z.", "o.a.")."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="nl",
    abbreviations=words("enz etc ca blz nr tel max min resp evt incl excl jl"),
    prepositive=words(
        "dhr mevr mr dr ir ing prof drs bijv bv d.w.z o.a m.a.w i.p.v t.a.v z.g.a.n nr blz ca"
    ),
    abbreviation_suffixes=("str",),  # street names: "Hoofdstr. 5", "Kerkstr."
    starters=words(
        """
        de het een ik jij je hij zij ze wij we jullie dit dat deze die maar en of dus
        daarna toen ook verder bovendien ja nee dank hallo wat hoe wanneer waar waarom
        in op met voor
        """
    ),
)
