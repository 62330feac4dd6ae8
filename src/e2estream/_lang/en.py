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
        app apps rs suppl tbl pt pts pty
        """
    ),
    # Case-sensitive, never the end of a sentence: the traditional (AP style)
    # abbreviations of US state names that are no English word ("Fresno, Calif. and",
    # "the Calif. Supreme Court"; not "Mass.", "Wash.", "Miss."); "Dist.", "Bros." before
    # a name ("U.S. Dist. Court", "Warner Bros. Pictures"); and capitalised words that
    # are abbreviations before a label or a date ("Sun. Jan. 12", "Tab. 3", "Art. 5",
    # "Brig. Gen.") where the lower-case word ("the sun.", "we sat.") is ordinary.
    never_final=frozenset(
        [
            *("Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Fla", "Ill", "Kan", "Kans"),
            *("Ky", "Md", "Mich", "Minn", "Mont", "Neb", "Nebr", "Nev", "Okla", "Penn"),
            *("Tenn", "Tex", "Va", "Vt", "Wis", "Wisc", "Wyo"),
            *("Dist", "Bros", "Sat", "Sun", "Tab", "Art", "Arts", "Brig"),
        ]
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
