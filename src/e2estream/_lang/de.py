"""German rules: abbreviations with and without inner spaces, ordinals ("am 3. Oktober")."""

from __future__ import annotations

from . import LanguageRules, words

RULES = LanguageRules(
    code="de",
    # Words CLDR lists as abbreviations ("So.", "am.", "Jan.", "tägl.") that end German
    # sentences far more often than they abbreviate anything.
    ordinary=words(
        "so mal bei wo an um am er es die den dir gen tab jan mär lkw pkw kfz mwst tägl einw ff"
    ),
    abbreviations=words(
        """
        usw etc bzw ca co ggf evtl inkl exkl zzgl abzgl nr str tel fax jh jhd jhs jahrh
        mio mrd std min sek kath ev evang med dipl ing mag abs abschn abt allg bd bde
        betr bsp bspw chr dgl dt engl franz frz geb gegr gem ges gest hg hrsg jr kap
        lat max mind mod mrd nachm vorm n.chr v.chr o.ä u.ä o.g s.o s.u u.a u.ä z.b z.t
        z.z z.zt d.h i.d.r u.u v.a m.e u.v.m a.d o.a i.a i.e i.w.s e.v e.k gmbh
        tsd urspr verf vgl verh vs zb zit zt ziff
        abb anh anl anm anschr aufl ausg bearb bez bhf bj forts gebr gez hbf inh jg jhdt
        kl nachf pkt pl pos präs reg rn rz stk verl vors whg zi az bgbl gr
        eigtl einschl entspr erg ggü usf zz zzt ehem ugs bes pers zus anf
        hl röm ital griech russ phil jur rer nat dent vet habil theol
        mo di mi do fr sa feb apr jun jul aug sep sept okt nov dez mrz
        """
    ),
    prepositive=words(
        """
        dr prof hr hrn frl st nr vgl z.b d.h u.a z.t z.z z.zt i.d.r u.u v.a m.e
        bzw ca ggf evtl inkl bspw sog o.g s.o s.u abs abschn art bd kap ziff zb
        med dipl ing
        bzgl ggfs insb insbes lfd stellv fa z.hd u.e m.w
        """
    ),
    number_units=words("st"),  # "5 St." (Stück), not "St. Martin"
    abbreviation_suffixes=("str",),  # street names: "Hauptstr. 12", "Bahnhofstr."
    starters=words(
        """
        der die das dem den des ein eine einer eines einem einen ich du er sie es wir ihr
        mein meine dein deine sein seine unser unsere euer eure dies diese dieser dieses
        was wer wie wo wann warum weshalb wieso welche welcher welches ob wenn als da
        dann danach daher darum deshalb deswegen dennoch doch aber und oder sondern denn
        also außerdem zudem ferner jedoch trotzdem allerdings hier dort heute jetzt nun
        bitte danke ja nein gut man im am um in an auf aus bei mit nach seit von zu für
        es gibt viele alle jeder jede jedes kein keine nicht auch so zum zur
        """
    ),
    abbreviation_needs_starter=True,
    ordinal_numbers=True,
    ordinal_before=words(
        """
        am im vom zum beim bis ab seit zur der die das den dem des ein eine einer
        einem einen jeden jedem jeder jedes seinem seiner ihrem ihrer unserem unserer
        zweiten dritten heute morgen gestern ab dem vom
        """
    ),
    ordinal_after=words(
        """
        januar februar märz april mai juni juli august september oktober november
        dezember jan feb mär apr jun jul aug sep sept okt nov dez jh jhd jahrhundert
        jahrhunderts jahrtausend auflage ausgabe stock etage klasse platz rang mal
        geburtstag jahrestag todestag weltkrieg liga runde lauf kapitel quartal halbjahr
        semester woche tag juni-woche bundesliga aufl ausg bd jg kl jhdt
        """
    ),
)
