"""Languages (nb, nn, en): who sees which, gettext catalogs through Flask-Babel, numbers and dates by locale.

Every text a person sees is an English msgid translated through translations/<lang>/LC_MESSAGES/
messages.po (English is the source language: it has no catalog of its own). The language of a
request is put on g.lang by before_request hooks (set_lang), never later than the first text:
Flask-Babel caches the locale and the catalog of a request on first use, so set_lang drops that
cache whenever the language changes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_minus_sign_symbol
from flask import Flask, g, has_app_context, has_request_context, request, session, url_for
from flask_babel import Babel, force_locale, format_date, get_locale, gettext, refresh

from .config import ROOT
from .questionnaire import LANGUAGES

DEFAULT = "en"
TRANSLATIONS = ROOT / "translations"
# Each language's name in that language: a reader looks for their own language's name, so these
# are never translated.
LANGUAGE_NAMES = {"nb": "Norsk (bokmål)", "nn": "Norsk (nynorsk)", "en": "English"}
# The Babel locale whose conventions (decimal comma, "75 %", "27. november 2026") each language uses.
LOCALES = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}
# Accept-Language tags we recognise: "no" (Norwegian without a written standard) reads bokmål.
BROWSER_TAGS = {"nb": "nb", "no": "nb", "nn": "nn", "en": "en"}
ADMIN_SESSION_KEY = "admin_lang"  # a choice made on the HR pages before logging in


def valid(value: object) -> str | None:
    """Return value when it is one of our languages, else None (an unknown ?lang= is ignored, never an error)."""
    return value if isinstance(value, str) and value in LANGUAGES else None


def browser_lang() -> str | None:
    """Return the language of the browser's Accept-Language (nb/no: nb, nn: nn, anything else: en), or None."""
    if not has_request_context() or not request.accept_languages:
        return None
    best = request.accept_languages.best_match(list(BROWSER_TAGS))
    return BROWSER_TAGS.get(best, "en") if best else "en"


def current_lang(default: str | None = DEFAULT) -> str:
    """Return a respondent page's language: ?lang= (remembered for the visit), the visit's choice, else the default.

    Without a default (an unknown survey) the browser's language decides.
    """
    chosen = valid(request.args.get("lang"))
    if chosen:
        session["lang"] = chosen
        return chosen
    if valid(session.get("lang")):
        return session["lang"]
    return valid(default) or browser_lang() or DEFAULT


def admin_lang(account: str | None, survey: str | None = None) -> str:
    """Return an HR or facilitator page's language.

    ?lang= for this page, else the choice saved on the account, else one made before logging in,
    else the browser's Accept-Language, else the survey's language, else English.
    """
    return (
        valid(request.args.get("lang"))
        or valid(account)
        or valid(session.get(ADMIN_SESSION_KEY))
        or browser_lang()
        or valid(survey)
        or DEFAULT
    )


def set_lang(lang: str) -> str:
    """Make `lang` this request's language (g.lang and Flask-Babel's locale); return it."""
    lang = valid(lang) or DEFAULT
    if g.get("lang") != lang:
        g.lang = lang
        refresh()
    return lang


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Render something in another language for a while (a report, an e-mail, a handout), then switch back."""
    lang = valid(lang) or DEFAULT
    if not has_app_context():
        # Outside the app (a unit test, a script) there is no catalog: texts stay English.
        yield lang
        return
    before = g.get("lang")
    g.lang = lang
    try:
        with force_locale(LOCALES[lang]):
            yield lang
    finally:
        if before is None:
            g.pop("lang", None)
        else:
            g.lang = before


def locale() -> str:
    """Return the Babel locale of this request (Flask-Babel's locale selector)."""
    return LOCALES.get(g.get("lang", DEFAULT), LOCALES[DEFAULT])


def _locale(lang: str | None) -> Locale:
    if lang:
        return Locale.parse(LOCALES.get(lang, LOCALES[DEFAULT]))
    return get_locale() or Locale.parse(LOCALES[DEFAULT])


def _minus(text: str, loc: Locale) -> str:
    # Babel copies the pattern's "-"; Norwegian writes the real minus sign (U+2212).
    return text.replace("-", get_minus_sign_symbol(loc))


def number(value: float | int | None, digits: int = 0, lang: str | None = None, signed: bool = False) -> str:
    """Write a number in the reader's convention: decimal comma and minus sign in Norwegian; "–" for None."""
    if value is None:
        return "–"
    loc = _locale(lang)
    body = "#,##0" + ("." + "0" * digits if digits else "")
    if signed and round(value, digits) == 0:
        value = 0  # no "+0" or "-0"
    pattern = f"+{body};-{body}" if signed and value != 0 else body
    return _minus(format_decimal(value, format=pattern, locale=loc, decimal_quantization=True), loc)


def percent(share: float | None, digits: int = 0, lang: str | None = None) -> str:
    """Write a share (0..1) as a percentage in the reader's convention: "75 %" (no-break space) or "75%"."""
    if share is None:
        return "–"
    loc = _locale(lang)
    pattern = loc.percent_formats[None].pattern  # the locale's own: "#,##0\u00a0%" in Norwegian, "#,##0%" in English
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return _minus(format_percent(share, format=pattern, locale=loc), loc)


def percent_suffix(lang: str | None = None) -> str:
    """Return what follows a percentage number in the reader's convention ("\u00a0%" or "%"), for chart axes."""
    loc = _locale(lang)
    pattern = loc.percent_formats[None].pattern
    return pattern[pattern.rindex("0") + 1 :].replace("'", "") or "%"


def day(value: dt.date | str | None, lang: str | None = None) -> str:
    """Write a date as the reader writes it: "27. november 2026", "27 November 2026"."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if lang:
        from babel.dates import format_date as babel_format_date

        return babel_format_date(value, format="long", locale=_locale(lang))
    return format_date(value, format="long")


def period(start: dt.date | str | None, end: dt.date | str | None = None, lang: str | None = None) -> str:
    """Write a survey's period, "27 November 2026 – 11 December 2026", or "from 27 November 2026" while it runs."""
    if end:
        return f"{day(start, lang)} – {day(end, lang)}"
    if lang:
        with language(lang):
            return gettext("from %(day)s", day=day(start, lang))
    return gettext("from %(day)s", day=day(start))


def lang_url(lang: str) -> str:
    """Return the current page's address in another language, keeping its other parameters."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=lang)


def here_without_lang() -> str:
    """Return this page's path and query without ?lang= (where a language choice sends the reader back)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + ("?" + urlencode(args) if args else "")


def ensure_compiled(folder: Path = TRANSLATIONS) -> list[Path]:
    """Compile every catalog whose .mo is missing or older than its .po (`make translations` does the same).

    The app calls this at start, so that a checkout run without make still speaks every language.
    """
    written = []
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        try:
            # Written aside and renamed: several workers may start at once.
            fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo-tmp")
            with os.fdopen(fd, "wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
        except OSError as exc:
            # A read-only installation must have been compiled by `make catalogs`; say so, but start.
            warnings.warn(f"{mo} could not be compiled ({exc}); run `make catalogs`", RuntimeWarning, stacklevel=2)
            continue
        written.append(mo)
    return written


babel = Babel()


def _first_lang() -> None:
    """Give every request a language before anything is translated; the blueprints refine it."""
    if request.endpoint == "static" or request.blueprint == "respond":
        return  # the respondent's pages choose theirs from their survey (respond.set_language)
    if request.path.startswith("/api/"):
        # API clients get their messages in their Accept-Language, English by default.
        set_lang(browser_lang() or DEFAULT)
    else:
        set_lang(visit_lang())


def visit_lang() -> str:
    """Return the language a page without a survey speaks: ?lang=, else the visit's choice, else the browser's."""
    return valid(request.args.get("lang")) or valid(session.get("lang")) or browser_lang() or DEFAULT


def init_app(app: Flask) -> None:
    """Set up Flask-Babel (gettext catalogs in translations/), the language hook and the template filters."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    ensure_compiled(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    babel.init_app(app, locale_selector=locale)
    app.before_request(_first_lang)
    app.jinja_env.filters["number"] = lambda value, digits=0: number(value, digits)
    app.jinja_env.filters["signed"] = lambda value, digits=0: number(value, digits, signed=True)
    app.jinja_env.filters["percent"] = lambda value, digits=0: percent(value, digits)
    app.jinja_env.filters["day"] = day
    app.jinja_env.globals["period"] = period
    from .privacy import reasons_in
    from .scoring import band

    app.jinja_env.globals["band_of"] = band
    app.jinja_env.globals["hidden_reasons"] = reasons_in
    app.jinja_env.globals["lang_url"] = lang_url
    app.jinja_env.globals["here_without_lang"] = here_without_lang
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES

    @app.context_processor
    def inject_lang() -> dict:
        return {"lang": g.get("lang", DEFAULT), "config_extensions": app.extensions}
