"""English rules (after the Pragmatic Segmenter / pySBD lists, trimmed to what LLMs write)."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="en",
    # Words CLDR's suppressions list ("Joe.", "On.", "Long.") that end English sentences
    # far more often than they abbreviate anything.
    ordinary=words("joe job hat link long act all up by on is to in as go or do ok id cap"),
    abbreviations=words(
        """
        etc co corp inc ltd llc jr sr bros esp approx appt apt assn ave blvd dept est
        hrs hr min mins sec secs yr yrs mo mos wk wks max misc oz lb lbs ft sq cm mm
        km kg mg ml pp pg vol vols ed eds rev no nos fig figs tel ext jan feb apr jun
        jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri
        a.m p.m am pm u.s u.s.a u.k e.u u.n d.c ph.d b.a m.a b.sc m.sc a.d b.c
        dist div est univ cf al viz
        rd hwy bldg eq eqs ref refs ch sect para avg qty mar ibid
        app apps rs suppl
        """
    ),
    prepositive=words(
        """
        dr drs prof profs mr mrs ms mme messrs mt st ste gen gov govt sen rep reps sgt
        capt cpt col lt cmdr adm maj pres supt hon e.g i.e vs approx ca cf n°
        rev fr atty asst assoc pvt cpl det insp msgr intl natl incl excl viz a.k.a
        """
    ),
    number_units=words("ms"),
    starters=words(
        """
        a an the this that these those there then thus hence however but and or so yet
        i we you he she it they my our your his her its their me us them
        what when where who whom whose why how which while if in on at for from as by
        being did do does is are was were has have had will would can could should may
        might must millions more most many some all each every no not one two three
        after before since also although though because once still now today here
        please thanks thank let see note first second finally next meanwhile moreover
        furthermore instead otherwise indeed yes sure okay ok well
        """
    ),
)
