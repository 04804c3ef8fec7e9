"""Interface texts in Norwegian (bokmål) and English, and the choice of language per request."""

from __future__ import annotations

from flask import Flask, g, request, session, url_for
from flask_babel import Babel, format_date, format_decimal, format_percent

from .config import ROOT

LANGS = ("nb", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app_name": {"nb": "Engasjementspyramiden", "en": "Engagement pyramid"},
    "language": {"nb": "Språk", "en": "Language"},
    "switch_to": {"nb": "English", "en": "Norsk (bokmål)"},
    "skip": {"nb": "Hopp til innholdet", "en": "Skip to content"},
    "privacy_title": {"nb": "Svarene dine er konfidensielle", "en": "Your answers are confidential"},
    "privacy_anon": {
        "nb": "Ingen kan se hva du har svart. Vi lagrer ikke navn, e-post eller tidspunkt, bare datoen.",
        "en": "Nobody can see what you answered. We store no name, e-mail or time of day, only the date.",
    },
    "privacy_invite": {
        "nb": "Invitasjonen din registreres bare som brukt; den kobles aldri til svarene dine.",
        "en": "Your invitation is only marked as used; it is never linked to your answers.",
    },
    "privacy_threshold": {
        "nb": "Resultater vises bare for grupper med minst {k} svar, "
        "og kommentarer bare for grupper med minst {c} svar.",
        "en": "Results are shown only for groups with at least {k} answers, and comments only for groups "
        "with at least {c} answers.",
    },
    "intro": {
        "nb": "Spørreskjemaet tar omtrent fem minutter. Svar ut fra hva du faktisk gjør. "
        "Velg «{na}» hvis et utsagn ikke passer for deg.",
        "en": "The questionnaire takes about five minutes. Answer from what you actually do. "
        "Choose “{na}” if a statement does not fit you.",
    },
    "department": {"nb": "Avdeling", "en": "Department"},
    "choose_department": {"nb": "Velg avdelingen din", "en": "Choose your department"},
    "your_department": {"nb": "Du svarer for avdelingen", "en": "You are answering for the department"},
    "part_of": {"nb": "Del {n} av {total}", "en": "Part {n} of {total}"},
    "answered_of": {"nb": "{n} av {total} besvart", "en": "{n} of {total} answered"},
    "optional": {"nb": "valgfritt", "en": "optional"},
    "submit": {"nb": "Send inn svarene", "en": "Submit your answers"},
    "fix_errors": {
        "nb": "Noe må rettes før svarene kan sendes. Se meldingene nedenfor.",
        "en": "Something needs fixing before your answers can be sent. See the messages below.",
    },
    "csrf_expired": {
        "nb": "Skjemaet var åpent lenge, så sikkerhetsnøkkelen utløp. "
        "Svarene dine er tatt vare på: send dem inn på nytt.",
        "en": "The form was open a long time, so its security key expired. Your answers are kept: please submit again.",
    },
    "err_department": {"nb": "Velg avdelingen din fra listen.", "en": "Choose your department from the list."},
    "err_answer": {"nb": "Velg et svar fra 1 til 5 eller «{na}».", "en": "Choose an answer from 1 to 5 or “{na}”."},
    "err_none_answered": {
        "nb": "Svar på minst ett utsagn før du sender inn.",
        "en": "Answer at least one statement before you submit.",
    },
    "err_enps": {
        "nb": "Velg et tall fra 0 til 10, eller la feltet stå tomt.",
        "en": "Choose 0 to 10, or leave it blank.",
    },
    "err_comment_long": {
        "nb": "Kommentaren kan ha høyst {n} tegn. Kort den ned litt.",
        "en": "The comment can have at most {n} characters. Please shorten it.",
    },
    "thanks_title": {"nb": "Takk for svarene dine!", "en": "Thank you for your answers!"},
    "thanks_body": {
        "nb": "Svarene er lagret. Resultatene presenteres bare samlet, for grupper som er store nok.",
        "en": "Your answers are stored. Results are only presented in aggregate, for groups large enough.",
    },
    "closed_title": {"nb": "Undersøkelsen er avsluttet", "en": "This survey is closed"},
    "closed_body": {
        "nb": "Undersøkelsen tar ikke imot flere svar. Takk for interessen.",
        "en": "This survey no longer accepts answers. Thank you for your interest.",
    },
    "unknown_title": {"nb": "Fant ikke undersøkelsen", "en": "Survey not found"},
    "unknown_body": {
        "nb": "Lenken er ikke gyldig. Sjekk at du har hele adressen, eller spør den som sendte den.",
        "en": "This link is not valid. Check that you have the whole address, or ask the person who sent it.",
    },
    "used_title": {"nb": "Invitasjonen er allerede brukt", "en": "This invitation has already been used"},
    "used_body": {
        "nb": "Hver personlige invitasjon kan brukes én gang. Har du ikke svart selv, kontakt HR.",
        "en": "Each personal invitation can be used once. If you did not answer yourself, contact HR.",
    },
    "no_invitation_title": {"nb": "Åpne invitasjonslenken din", "en": "Open your invitation link"},
    "no_invitation_body": {
        "nb": "Denne nettleseren har ingen invitasjon til undersøkelsen. Åpne lenken i invitasjonen du fikk "
        "på e-post på nytt. Har du svart allerede, er du ferdig. Takk!",
        "en": "This browser holds no invitation to the survey. Open the link in the invitation you received "
        "by e-mail again. If you have answered already, you are done. Thank you!",
    },
    "throttled_title": {"nb": "For mange forsøk", "en": "Too many attempts"},
    "throttled_body": {
        "nb": "Det har kommet for mange ugyldige invitasjonslenker fra denne adressen. "
        "Vent {minutes} minutter og prøv igjen, med hele lenken fra e-posten.",
        "en": "Too many invalid invitation links came from this address. "
        "Wait {minutes} minutes and try again, with the whole link from the e-mail.",
    },
    "handout_heading": {"nb": "Si din mening: svar på undersøkelsen", "en": "Have your say: answer the survey"},
    "handout_for": {"nb": "For avdelingen {name}", "en": "For the department {name}"},
    "handout_scan": {
        "nb": "Skann koden med mobilkameraet, eller skriv inn adressen:",
        "en": "Scan the code with your phone's camera, or type in the address:",
    },
    "handout_time": {
        "nb": "Det tar omtrent fem minutter, på mobil eller PC.",
        "en": "It takes about five minutes, on a phone or a laptop.",
    },
    "na": {"nb": "Ikke relevant", "en": "Not applicable"},
    "scale_hint": {
        "nb": "1 = helt uenig, 5 = helt enig",
        "en": "1 = strongly disagree, 5 = strongly agree",
    },
}


def browser_lang() -> str:
    """Return the visitor's preferred language among ours (Norwegian variants count as nb)."""
    best = request.accept_languages.best_match(["nb", "no", "nn", "en"], default="nb")
    return "en" if best == "en" else "nb"


def current_lang(default: str | None = "en") -> str:
    """Return this request's language: ?lang=, then the session's choice, then the default (or the browser's)."""
    chosen = request.args.get("lang")
    if chosen in LANGS:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGS:
        return session["lang"]
    return default if default in LANGS else browser_lang()


def t(key: str, **kwargs: object) -> str:
    """Return the interface text for key in the request's language, formatted with kwargs."""
    lang = g.get("lang", "en")
    # Nynorsk pages (the self-assessment) fall back to bokmål until these texts move to gettext catalogs.
    text = TEXTS[key].get(lang) or TEXTS[key]["nb" if lang == "nn" else "en"]
    return text.format(**kwargs) if kwargs else text


def lang_url(lang: str) -> str:
    """Return the current page's address in another language, keeping its other parameters."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=lang)


def locale() -> str:
    """Return the language of this request, as the view chose it (Flask-Babel asks for it)."""
    return g.get("lang", "en")


babel = Babel()


def init_app(app: Flask) -> None:
    """Set up Flask-Babel (gettext catalogs in translations/) and make the language helpers available in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    babel.init_app(app, locale_selector=locale)
    app.jinja_env.filters["number"] = lambda value, digits=0: format_decimal(
        value, format=f"#,##0.{'0' * digits}" if digits else "#,##0"
    )
    app.jinja_env.filters["percent"] = lambda value: format_percent(value, format="#,##0 %")
    app.jinja_env.filters["day"] = lambda value: format_date(value, format="long")
    app.jinja_env.globals["t"] = t
    app.jinja_env.globals["lang_url"] = lang_url

    @app.context_processor
    def inject_lang() -> dict:
        return {"lang": g.get("lang", "en"), "config_extensions": app.extensions}
