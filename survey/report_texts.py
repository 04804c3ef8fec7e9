"""The PDF report's own texts, in Norwegian (bokmål) and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "report": {"nb": "Engasjementsrapport", "en": "Engagement report"},
    "department_report": {"nb": "Avdelingsrapport", "en": "Department report"},
    "comparison_with": {"nb": "sammenlignet med hele virksomheten", "en": "compared with the whole organisation"},
    "page": {"nb": "Side", "en": "Page"},
    "of": {"nb": "av", "en": "of"},
    "period": {"nb": "Periode", "en": "Period"},
    "open_now": {"nb": "fortsatt åpen", "en": "still open"},
    "responses": {"nb": "Svar", "en": "Responses"},
    "response_rate": {"nb": "Svarprosent", "en": "Response rate"},
    "generated": {"nb": "Laget", "en": "Generated"},
    "confidential": {
        "nb": "Konfidensielt: grupper med færre enn {k} svar vises ikke.",
        "en": "Confidential: groups with fewer than {k} responses are not shown.",
    },
    "summary": {"nb": "Sammendrag", "en": "Summary"},
    "unverified": {
        "nb": "Svarene kom via en åpen lenke og er ikke verifisert: alle med lenken kunne svare, også flere ganger.",
        "en": "Answers came through an open link and are not verified: anyone with the link could answer, "
        "and more than once.",
    },
    "index": {"nb": "Engasjementsindeks", "en": "Engagement index"},
    "index_hint": {
        "nb": "Gjennomsnittet av de seks nivåenes skår, 0–100.",
        "en": "The mean of the six levels' scores, 0–100.",
    },
    "enps": {"nb": "eNPS", "en": "eNPS"},
    "enps_hint": {
        "nb": "Andel ambassadører (9–10) minus andel kritikere (0–6), −100 til +100.",
        "en": "Share of promoters (9–10) minus share of detractors (0–6), −100 to +100.",
    },
    "strengths": {"nb": "To styrker", "en": "Two strengths"},
    "focus_areas": {"nb": "To fokusområder", "en": "Two focus areas"},
    "pyramid": {"nb": "Virksomhetens pyramide", "en": "The organisation's pyramid"},
    "pyramid_hint": {
        "nb": "Andel som har nådd hvert nivå som sitt høyeste (et nivå er nådd ved skår {t} eller mer på 1–5, "
        "nedenfra og opp). Den stiplede omrisset viser en sunn pyramide med bred base.",
        "en": "Share of respondents whose highest reached level is each level (a level is reached at {t} or "
        "more on 1–5, climbing from the base). The dotted outline is a healthy broad-based pyramid.",
    },
    "radar": {"nb": "De seks nivåene", "en": "The six levels"},
    "where_you_stand": {"nb": "Hvor står dere", "en": "Where you stand"},
    "where_you_stand_intro": {
        "nb": "Skår 0–100 per nivå, med 95 % konfidensintervall, andel positive svar (4 eller 5) og "
        "reliabilitet (Cronbachs alfa).",
        "en": "Score 0–100 per level, with its 95 % confidence interval, the share of favourable answers "
        "(4 or 5) and reliability (Cronbach's alpha).",
    },
    "level": {"nb": "Nivå", "en": "Level"},
    "score": {"nb": "Skår", "en": "Score"},
    "interval": {"nb": "95 % intervall", "en": "95 % interval"},
    "favourable": {"nb": "Positive", "en": "Favourable"},
    "alpha": {"nb": "Alfa", "en": "Alpha"},
    "band": {"nb": "Nivå på skår", "en": "Band"},
    "band_low": {"nb": "lav", "en": "low"},
    "band_medium": {"nb": "middels", "en": "medium"},
    "band_high": {"nb": "høy", "en": "high"},
    "low_alpha": {
        "nb": "Alfa under 0,70: utsagnene på dette nivået måler ikke helt det samme; les skåren med varsomhet.",
        "en": "Alpha below 0.70: the statements of this level do not measure quite the same thing; "
        "read the score with care.",
    },
    "what_it_means": {"nb": "Hva nivåene betyr", "en": "What the levels mean"},
    "where_to_go": {"nb": "Hvor skal dere, og hvordan kommer dere dit", "en": "Where to go and how to get there"},
    "focus_level": {"nb": "Fokusnivå: {level}", "en": "Focus level: {level}"},
    "focus_intro": {
        "nb": "Det laveste nivået med lav eller middels skår er der flest kan flyttes ett trinn opp. "
        "Målet er ikke at alle skal lede, men at flere tar neste steg.",
        "en": "The lowest level with a low or medium score is where most people can move one rung up. "
        "The goal is not that everyone leads, but that more people take the next step.",
    },
    "all_high": {
        "nb": "Alle nivåene har høy skår. Hold på det som virker, og bruk styrken til å løfte flere til å lede.",
        "en": "Every level scores high. Keep what works, and use the strength to help more people lead.",
    },
    "theme_goals": {"nb": "Mål og interessenter", "en": "Goals and stakeholders"},
    "theme_roles": {"nb": "Roller", "en": "Roles"},
    "theme_means": {"nb": "Virkemidler", "en": "Means"},
    "theme_follow_up": {"nb": "Oppfølging", "en": "Follow-up"},
    "theme_anchoring": {"nb": "Forankring", "en": "Anchoring"},
    "theme_freedom": {"nb": "Frihet med retning", "en": "Freedom with direction"},
    "next_level": {"nb": "Neste nivå: {level}", "en": "The next level: {level}"},
    "departments": {"nb": "Avdelinger", "en": "Departments"},
    "departments_intro": {
        "nb": "Skår per avdeling og nivå. ▲/▼ markerer en signifikant forskjell fra resten av virksomheten "
        "(Welch t-test, Benjamini–Hochberg-justert p < 0,05).",
        "en": "Score per department and level. ▲/▼ marks a significant difference from the rest of the "
        "organisation (Welch's t-test, Benjamini–Hochberg adjusted p < 0.05).",
    },
    "hidden": {"nb": "skjult", "en": "hidden"},
    "hidden_departments": {"nb": "Skjulte avdelinger", "en": "Hidden departments"},
    "reason_too_few": {"nb": "færre enn {k} svar", "en": "fewer than {k} responses"},
    "reason_complementary": {
        "nb": "skjult for at en mindre avdeling ikke skal kunne regnes ut fra totalen",
        "en": "hidden so that a smaller department cannot be worked out from the total",
    },
    "reason_no_responses": {"nb": "ingen svar", "en": "no responses"},
    "items": {"nb": "Utsagn for utsagn", "en": "Statement by statement"},
    "items_intro": {
        "nb": "Fordelingen av svarene på hvert utsagn, og gjennomsnittet på skalaen 1–5.",
        "en": "The distribution of answers to each statement, and its mean on the 1–5 scale.",
    },
    "statement": {"nb": "Utsagn", "en": "Statement"},
    "mean": {"nb": "Snitt", "en": "Mean"},
    "comments": {"nb": "Kommentarer", "en": "Comments"},
    "comments_intro": {
        "nb": "Kommentarene vises i tilfeldig rekkefølge, uten dato og avdeling.",
        "en": "Comments are shown in random order, without date or department.",
    },
    "comments_hidden": {
        "nb": "Kommentarer vises bare for grupper med minst {c} svar; denne gruppen har færre.",
        "en": "Comments are shown only for groups with at least {c} responses; this group has fewer.",
    },
    "no_comments": {"nb": "Ingen kommentarer.", "en": "No comments."},
    "follow_up": {"nb": "Oppfølging og metode", "en": "Follow-up and methodology"},
    "when_again": {"nb": "Når bør dere måle igjen?", "en": "When to measure again"},
    "when_again_text": {
        "nb": "Mål igjen om 6–12 måneder, med samme spørreskjema, slik at endringene kan sammenlignes. "
        "Del resultatene med alle innen fire uker, velg ett eller to tiltak per avdeling, og følg dem opp "
        "i de faste møtene.",
        "en": "Measure again in 6–12 months, with the same questionnaire, so that changes can be compared. "
        "Share the results with everyone within four weeks, choose one or two actions per department, and "
        "follow them up in regular meetings.",
    },
    "no_previous": {
        "nb": "Dette er den første runden; neste rapport viser endringen siden denne.",
        "en": "This is the first round; the next report will show the change since this one.",
    },
    "methodology": {"nb": "Metode", "en": "Methodology"},
    "method_scale": {
        "nb": "Hvert utsagn besvares fra 1 (helt uenig) til 5 (helt enig), eller «ikke relevant», som regnes "
        "som manglende svar, aldri som null.",
        "en": "Each statement is answered from 1 (strongly disagree) to 5 (strongly agree), or “not "
        "applicable”, which counts as missing, never as zero.",
    },
    "method_score": {
        "nb": "En persons skår på et nivå er snittet av svarene på nivåets utsagn, når minst halvparten er "
        "besvart. Gruppens skår er (snitt − 1) / 4 × 100. Indeksen er snittet av de seks skårene.",
        "en": "A person's score on a level is the mean of their answers to its statements, when at least "
        "half are answered. The group's score is (mean − 1) / 4 × 100. The index is the mean of the six scores.",
    },
    "method_pyramid": {
        "nb": "Nivåene klatres nedenfra: en person står på det høyeste nivået der alle nivåer opp til og med "
        "det har skår {t} eller mer. Den som ikke når første nivå, står under pyramiden.",
        "en": "The levels are climbed from the base: a person stands on the highest level such that every "
        "level up to it scores {t} or more. Whoever does not reach the first level stands below the pyramid.",
    },
    "method_ci": {
        "nb": "Konfidensintervallet (95 %) viser usikkerheten i snittet: med nye, like store utvalg ville "
        "snittet ligge innenfor slike intervaller 95 ganger av 100. Smale intervaller betyr sikre tall.",
        "en": "The 95 % confidence interval shows the uncertainty of the mean: with new samples of the same "
        "size, the mean would fall within such intervals 95 times out of 100. Narrow intervals mean firm figures.",
    },
    "method_alpha": {
        "nb": "Cronbachs alfa måler om utsagnene på et nivå henger sammen (0–1). Under 0,70 er skåren "
        "mindre pålitelig.",
        "en": "Cronbach's alpha measures whether a level's statements hang together (0–1). Below 0.70 the "
        "score is less reliable.",
    },
    "method_compare": {
        "nb": "Avdelinger sammenlignes med resten av virksomheten med Welchs t-test; p-verdiene i en tabell "
        "justeres samlet (Benjamini–Hochberg), og Cohens d viser hvor stor forskjellen er.",
        "en": "Departments are compared with the rest of the organisation by Welch's t-test; the p-values of "
        "a table are adjusted together (Benjamini–Hochberg), and Cohen's d shows how large a difference is.",
    },
    "method_privacy": {
        "nb": "Personvern: grupper med færre enn {k} svar viser ingen tall. Er bare én avdeling skjult, skjules "
        "også den nest minste. Kommentarer vises bare for grupper med minst {c} svar. Svarene lagres uten "
        "navn, e-post eller klokkeslett.",
        "en": "Privacy: groups with fewer than {k} responses show no figures. When only one department is "
        "hidden, the next-smallest is hidden too. Comments appear only for groups with at least {c} "
        "responses. Answers are stored without name, e-mail or time of day.",
    },
    "contents": {"nb": "Innhold", "en": "Contents"},
    "comparison": {"nb": "Sammenligning", "en": "Comparison"},
    "comparison_intro": {
        "nb": "Avdelingene side om side, og endringen siden forrige runde. Bare tall som oppfyller "
        "personvernreglene vises.",
        "en": "The departments side by side, and the change since the previous round. Only figures that "
        "pass the confidentiality rules are shown.",
    },
    "gaps": {"nb": "De største forskjellene", "en": "The biggest gaps"},
    "no_gaps": {
        "nb": "Ingen avdeling skiller seg signifikant fra resten av virksomheten.",
        "en": "No department differs significantly from the rest of the organisation.",
    },
    "pyramids": {"nb": "Pyramidene side om side", "en": "The pyramids side by side"},
    "overlay": {"nb": "Valgte avdelinger mot hele virksomheten", "en": "Chosen departments against the organisation"},
    "trend": {"nb": "Utvikling over tid", "en": "Change over time"},
    "since_previous": {"nb": "Endring siden {title}", "en": "Change since {title}"},
    "shared_only": {
        "nb": "Rundene har ulike spørreskjema; de sammenlignes bare på nivåene de har felles: {levels}.",
        "en": "The rounds used different questionnaires; they are compared only on the levels they share: {levels}.",
    },
    "first_round": {
        "nb": "Dette er første runde i serien; endringer vises fra neste runde.",
        "en": "This is the first round of its series; changes appear from the next round on.",
    },
    "points": {"nb": "poeng", "en": "points"},
    "organisation": {"nb": "Hele virksomheten", "en": "Whole organisation"},
    "trend_legend": {
        "nb": "Endring i skårpoeng (0–100) mot forrige runde. ▲/▼: signifikant (Welch t-test, "
        "Benjamini–Hochberg-justert p < 0,05); rundene er uavhengige utvalg.",
        "en": "Change in score points (0–100) against the previous round. ▲/▼: significant (Welch's t-test, "
        "Benjamini–Hochberg adjusted p < 0.05); the rounds are independent samples.",
    },
}


def text(key: str, lang: str, **kwargs: object) -> str:
    """Return a report text in the language, formatted with kwargs."""
    value = TEXTS[key][lang]
    return value.format(**kwargs) if kwargs else value
