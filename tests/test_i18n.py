"""Languages: every text in the catalogs and translated, numbers in the reader's convention, who sees which language.

Bokmål (nb), nynorsk (nn) and English (en, the msgids) on every page, in reports, charts,
e-mails and exports; a respondent switches language without losing an answer.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from helpers import (
    CHROMIUM,
    DESKTOP,
    HR_EMAIL,
    HR_PASSWORD,
    PHONE,
    close_survey,
    csrf_token,
    import_csv,
    login,
    stored_answers,
)

from survey import accounts, i18n, report, surveys
from survey.db import NOT_APPLICABLE, get_db

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "translations"
TRANSLATED = ("nb", "nn")  # English is the source language: its texts are the msgids
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "rule": None}  # as `make translations`

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}")


def catalog(lang: str):
    """Return the .po catalog of a language."""
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def source_messages() -> set:
    """Return every msgid the code and templates use, extracted as `make translations` does (babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


# --- (1) The catalogs -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    """A message without a translation, or one marked fuzzy (a guess after the English changed), fails."""
    found = catalog(lang)
    untranslated = [m.id for m in found if m.id and not (all(m.string) if m.pluralizable else m.string)]
    fuzzy = [m.id for m in found if m.id and m.fuzzy]
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{lang}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    # Placeholders (%(name)s) must be the same in the translation as in the msgid.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in found.check()]
    assert not problems, f"{lang}: {problems[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_catalogs_hold_every_text_of_the_code(lang):
    """A text added to the code or a template without `make translations` (and a translation) fails here."""
    ids = {m.id for m in catalog(lang) if m.id}
    missing = [m for m in source_messages() if m not in ids]
    assert not missing, f"{lang}: not in the catalog (run make translations, then translate): {missing[:5]}"


def test_compiled_catalogs_are_there_and_up_to_date():
    """The app compiles a stale catalog at start; the .mo files exist and are newer than the .po files."""
    i18n.ensure_compiled()
    for lang in TRANSLATED:
        po = CATALOGS / lang / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime


# --- (2) No visible text outside the catalogs in the templates ------------------------------------

TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
BODY_CLASS = re.compile(r"{%\s*block body_class\s*%}.*?{%\s*endblock\s*%}", re.S)
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
WORD = re.compile(r"[^\W\d_]+")
SEEN_ATTRIBUTES = {"title", "aria-label", "alt", "placeholder", "label"}
META_TEXT = {"description", "author", "generator", "keywords"}
# Words that are the same in every language: names of formats and codes, symbols.
ALLOWED = {"n", "eNPS", "SVG", "PNG", "HTTP", "α", "¹", "²", "³", "⁴"}  # footnote marks


class VisibleText(HTMLParser):
    """Collect the text a reader sees (text nodes and the attributes read aloud or shown) of a template."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            shown = name in SEEN_ATTRIBUTES or (name == "value" and tag == "button")
            shown |= name == "content" and tag == "meta" and values.get("name") in META_TEXT
            if shown and value:
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.found.append((self.getpos()[0], data))


def outside_the_catalog(source: str, html: bool = True) -> list[tuple[int, str]]:
    """Return (line, text) of every word a template shows that does not come from the catalog."""
    source = JINJA.sub(" ", BODY_CLASS.sub(" ", TRANS_BLOCK.sub(" ", source)))
    if not html:
        return [(0, word) for word in WORD.findall(source)]
    parser = VisibleText()
    parser.feed(source)
    return [(line, word) for line, text in parser.found for word in WORD.findall(text)]


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_templates_show_no_text_outside_the_catalog(path):
    """Every word a page shows is in {{ _() }} or {% trans %}, or comes from data (names, titles, answers)."""
    found = [
        (line, word) for line, word in outside_the_catalog(path.read_text(encoding="utf-8")) if word not in ALLOWED
    ]
    assert not found, f"{path.relative_to(ROOT)}: text outside the catalog: {found[:10]}"


@pytest.mark.parametrize("path", sorted((ROOT / "templates" / "mail").glob("*.txt")), ids=lambda p: p.name)
def test_mail_templates_are_all_catalog(path):
    """An e-mail is all catalog text but for its 'Subject:' header line."""
    words = [word for _line, word in outside_the_catalog(path.read_text(encoding="utf-8"), html=False)]
    assert words == ["Subject"]


def test_the_template_check_finds_a_plain_word():
    """The check above would catch an untranslated word in text, in an attribute and next to a trans block."""
    source = '<p>{{ _("Fine") }} Oops</p><img alt="Picture"><b>{% trans %}Fine{% endtrans %}</b>'
    assert [word for _line, word in outside_the_catalog(source)] == ["Oops", "Picture"]


# --- Numbers and dates in the reader's convention ---------------------------------------------------


def test_number_formats_per_language():
    """Decimal comma, the real minus sign, "75 %" with a no-break space and long dates in nb and nn."""
    for lang in TRANSLATED:
        assert i18n.number(4.22, 2, lang) == "4,22"
        assert i18n.number(-12, 0, lang, signed=True) == "\u221212"
        assert i18n.number(12, 0, lang, signed=True) == "+12"
        assert i18n.number(12345, 0, lang) == "12\u00a0345"
        assert i18n.percent(0.75, lang=lang) == "75\u00a0%"
        assert i18n.day("2026-11-27", lang) == "27. november 2026"
    assert i18n.number(4.22, 2, "en") == "4.22" and i18n.percent(0.75, lang="en") == "75%"
    assert i18n.day("2026-11-27", "en") == "27 November 2026"


# --- (4) Unknown languages ----------------------------------------------------------------------------


def test_an_unknown_lang_falls_back_silently(client, hr_client):
    """?lang=xx is no error: the page comes in its usual language."""
    resp = client.get("/s/acme?lang=xx")
    assert resp.status_code == 200 and '<html lang="en">' in resp.get_data(as_text=True)
    resp = hr_client.get("/admin/surveys/acme?lang=xx", headers={"Accept-Language": "nn"})
    assert resp.status_code == 200 and '<html lang="nn">' in resp.get_data(as_text=True)
    assert client.get("/s/no-such-survey?lang=xx").status_code == 404  # the page's own status, in English


def test_the_api_refuses_an_unknown_language_naming_the_three(client, hr_token):
    body = {"title": "T", "language": "xx", "departments": [{"code": "A", "name": "Alpha"}]}
    resp = client.post("/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {hr_token}"})
    assert resp.status_code == 422
    message = resp.json["fields"]["language"]
    assert all(f"'{code}'" in message for code in ("nb", "nn", "en"))
    # In Norwegian too, for a client that asks for it; still naming the three values.
    resp = client.post(
        "/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {hr_token}", "Accept-Language": "nn"}
    )
    message = resp.json["fields"]["language"]
    assert (
        resp.status_code == 422 and message.startswith("Vel") and all(f"«{c}»" in message for c in ("nb", "nn", "en"))
    )
    for lang in ("nn", "nb", "en"):
        body = {"title": f"T {lang}", "language": lang, "departments": [{"code": "A", "name": "Alpha"}]}
        assert (
            client.post("/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {hr_token}"}).status_code
            == 201
        )


# --- (6) The HTML lang attribute --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_html_lang_attribute_says_which_language(app, client, lang):
    """Respondent pages and HR pages say their language in <html lang>, and show texts of that language."""
    texts = {"nb": "Svarene dine er konfidensielle", "nn": "Svara dine er konfidensielle", "en": "Your answers are"}
    page = client.get(f"/s/acme?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and texts[lang] in page
    for path in ("/s/acme/thanks", "/s/no-such-survey"):
        assert f'<html lang="{lang}">' in client.get(path).get_data(as_text=True)  # the visit's choice sticks
    hr = app.test_client()
    assert login(hr).status_code == 302
    headings = {"nb": "Svar per avdeling", "nn": "Svar per avdeling", "en": "Responses per department"}
    for path in ("/admin/", "/admin/surveys/acme", "/admin/surveys/acme/invitations", "/admin/surveys/new"):
        page = hr.get(f"{path}?lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}">' in page, path
    assert headings[lang] in hr.get(f"/admin/surveys/acme?lang={lang}").get_data(as_text=True)
    login_page = app.test_client().get(f"/admin/login?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in login_page


def test_respondents_see_the_surveys_language_first(app, client):
    """A survey in nynorsk speaks nynorsk to a browser that asks for English; the visitor can switch."""
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Nn", language="nn", departments=[{"code": "A", "name": "A"}]
        )
    page = client.get("/s/nn", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nn">' in page and "Svara dine er konfidensielle" in page and "Send inn svara" in page
    # All three languages are offered, each named in itself, the current one marked.
    assert 'aria-current="true">Norsk (nynorsk)<' in page
    assert (
        'hreflang="nb" data-keep-answers>Norsk (bokmål)<' in page and 'hreflang="en" data-keep-answers>English<' in page
    )


# --- (7) HR and facilitators: their own choice, remembered ------------------------------------------


def test_an_hr_users_choice_is_remembered_across_logins(app):
    first = app.test_client()
    # Before any choice: the browser's language, else the survey's (acme is English).
    assert login(first).status_code == 302
    assert '<html lang="nb">' in first.get("/admin/", headers={"Accept-Language": "nb-NO"}).get_data(as_text=True)
    assert '<html lang="nn">' in first.get("/admin/", headers={"Accept-Language": "nn"}).get_data(as_text=True)
    assert '<html lang="en">' in first.get("/admin/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    page = first.get("/admin/surveys/acme").get_data(as_text=True)
    assert '<html lang="en">' in page  # no Accept-Language: the survey's language
    resp = first.post(
        "/admin/language", data={"lang": "nn", "next": "/admin/surveys/acme", "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/admin/surveys/acme"
    page = first.get("/admin/surveys/acme", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nn">' in page and "Avslutt undersøkinga" in page
    first.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    # Another browser, another day: the account remembers.
    second = app.test_client()
    assert login(second).status_code == 302
    page = second.get("/admin/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="nn">' in page and ">Undersøkingar<" in page
    with app.app_context():
        user = next(u for u in get_db().query("SELECT email, language FROM users") if u["email"] == HR_EMAIL)
    assert user["language"] == "nn"
    # An unknown value or a missing token changes nothing, and is no error page.
    assert second.post("/admin/language", data={"lang": "xx", "csrf_token": csrf_token(page)}).status_code == 303
    assert second.post("/admin/language", data={"lang": "en"}).status_code == 400  # the form's token is missing
    assert '<html lang="nn">' in second.get("/admin/").get_data(as_text=True)


def test_a_choice_on_the_login_page_is_saved_on_the_account(app):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/language", data={"lang": "nb", "next": "/admin/login", "csrf_token": csrf_token(page)})
    page = client.get("/admin/login").get_data(as_text=True)
    assert '<html lang="nb">' in page and "Logg inn" in page
    resp = client.post(
        "/admin/login", data={"email": HR_EMAIL, "password": HR_PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302
    with app.app_context():
        assert accounts.get_user(get_db(), 1)["language"] == "nb"


# --- (3) No decimal point in Norwegian --------------------------------------------------------------

DECIMAL_POINT = re.compile(r"\d\.\d")
ENGLISH_PERCENT = re.compile(r"\d(?: )?%")  # "75%" or "75 %" with an ordinary space


class PageText(HTMLParser):
    """The visible text of a page and the attributes shown or read aloud, without scripts and data."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts += [v for k, v in attrs if k in ("title", "aria-label", "alt") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = PageText()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture
def demo(app):
    """The closed demo survey (English), with 200 synthetic responses."""
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "200", "--seed", "3", "--language", "en"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return surveys.get_survey(get_db(), "demo")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_norwegian_results_page_writes_no_decimal_point(demo, hr_client, lang):
    html = hr_client.get(f"/admin/surveys/demo/results?lang={lang}").get_data(as_text=True)
    text = visible(html)
    assert "Pyramiden til verksemda" in text if lang == "nn" else "Virksomhetens pyramide" in text
    assert not DECIMAL_POINT.findall(text), DECIMAL_POINT.findall(text)[:5]
    assert not ENGLISH_PERCENT.findall(text), ENGLISH_PERCENT.findall(text)[:5]
    assert re.search(r"\d,\d\d", text)  # alpha and means with a decimal comma
    # Statements and levels in the reader's language, not in English.
    inst = demo.instrument
    assert inst.items[0].text[lang] in html and inst.levels[0].name[lang] in html
    assert inst.items[0].text["en"] not in html
    # The charts: plotly's separators and the locale's percent suffix.
    assert '"separators": ",\\u00a0"' in html or '"separators":",\\u00a0"' in html.replace(" ", "")
    assert '"ticksuffix": "\\u00a0%"' in html or '"ticksuffix":"\\u00a0%"' in html.replace(" ", "")


def test_the_comparison_page_and_exports_follow_the_reader(demo, hr_client):
    html = hr_client.get("/admin/surveys/demo/compare?lang=nn").get_data(as_text=True)
    assert '<html lang="nn">' in html and "Dei største skilnadene" in html
    assert demo.instrument.levels[4].name["nn"] in html
    assert not DECIMAL_POINT.findall(visible(html))
    csv = hr_client.get("/admin/surveys/demo/export.csv?lang=nb").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("\ufeffavdeling;") and "Andre (små avdelinger)" in csv


@needs_chromium
@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_norwegian_report_writes_no_decimal_point(app, demo, lang):
    from pypdf import PdfReader

    with app.app_context():
        pdf = report.make_report(get_db(), demo, lang)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert ("Samandrag" if lang == "nn" else "Sammendrag") in text
    assert not DECIMAL_POINT.findall(text), DECIMAL_POINT.findall(text)[:5]
    assert re.search(r"\d,\d\d", text)  # means and alpha, with a decimal comma
    assert re.search(r"\d\. [a-zæøå]+ \d{4}", text)  # the date written out: "27. november 2026"


def test_the_cli_and_the_csv_take_nynorsk(app, runner, db):
    """report --lang nn and demo --language nn are accepted; an invitation list may ask for nynorsk e-mails."""
    result = runner.invoke(args=["report", "acme", "--lang", "nn"])
    assert "Invalid value for '--lang'" not in result.output
    assert "Invalid value" in runner.invoke(args=["report", "acme", "--lang", "xx"]).output
    result = runner.invoke(args=["demo", "--responses", "20", "--language", "nn"])
    assert result.exit_code == 0, result.output
    assert db.execute("SELECT language, title FROM surveys WHERE slug = 'demo'").fetchone() == (
        "nn",
        "Engasjementsundersøking (demo)",
    )
    report_ = import_csv(app, "ann@example.org,A,nn\n")
    assert report_.ok and report_.rows[0].language == "nn"


def test_e_mails_in_nynorsk(app):
    """An invitation to a nynorsk reader is written in nynorsk, subject and body."""
    from survey.invitations import mailings, smtp

    settings = smtp.SmtpSettings("localhost", 25, "none", "", "", "HR <hr@example.org>", 5)
    with app.test_request_context():
        survey = surveys.get_survey(get_db(), "acme")
        recipient = {"email": "a@example.org", "language": "nn", "department": "Alpha"}
        message = mailings.compose(settings, survey, "nudge", recipient, "token")
        body = message.get_content()
    assert message["Subject"] == "Påminning: Acme 2026"
    assert "ikkje er brukt enno" in body and "Lenkja i den første e-posten verkar òg" in body


# --- (5) A real browser: switching language keeps every answer -------------------------------------


def test_switching_language_keeps_every_answer(new_page, live_server, db, instrument):
    """Answer a few statements, switch language twice, find every answer still chosen, then submit."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    first, second, third, fourth = instrument.items[:4]
    page.locator("#department").select_option("B")
    page.locator(f"label[for=q_{first.id}_5]").click()
    page.locator(f"label[for=q_{second.id}_2]").click()
    page.locator(f"label[for=q_{third.id}_na]").click()
    page.locator("label[for=enps_7]").click()
    page.locator("#comment").fill("Kept across languages – æøå")
    chosen = {f"q_{first.id}_5", f"q_{second.id}_2", f"q_{third.id}_na", "enps_7"}
    axe = Axe()
    for lang, name, counter in (("nn", "Norsk (nynorsk)", "svart på"), ("nb", "Norsk (bokmål)", "besvart")):
        page.get_by_role("link", name=name).click()
        page.wait_for_url(re.compile(rf"lang={lang}"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator(f"#item-{first.id} legend")).to_contain_text(first.text[lang])
        for radio in chosen:
            expect(page.locator(f"#{radio}")).to_be_checked()
        expect(page.locator(f"#q_{fourth.id}_1")).not_to_be_checked()
        expect(page.locator("#department")).to_have_value("B")
        expect(page.locator("#comment")).to_have_value("Kept across languages – æøå")
        expect(page.locator("#progress-text")).to_have_text(f"3 av {len(instrument.items)} {counter}")
        serious = [v for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, [(v["id"], [n["target"] for n in v["nodes"]]) for v in serious]
    # The answers are kept in this browser only (localStorage, never sent) until they are sent.
    assert page.evaluate("window.sessionStorage.length") == 0
    assert page.evaluate("Object.keys(window.localStorage)") == ["survey-answers:/s/acme"]
    page.get_by_role("button", name="Send inn svarene").click()
    page.get_by_role("button", name="Send likevel").click()  # three of 24: asked once
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    expect(page.locator("h1")).to_have_text("Takk for svarene dine!")
    assert page.evaluate("window.localStorage.length") == 0
    (row,) = list(db.query("SELECT id, enps, comment, department_id FROM responses"))
    assert stored_answers(db, row["id"]) == {first.id: 5, second.id: 2, third.id: NOT_APPLICABLE}
    assert row["enps"] == 7 and row["comment"] == "Kept across languages – æøå"


def test_without_javascript_the_switch_is_a_plain_link(browser, live_server):
    """With JavaScript off the language links still work (unsent answers are then lost, as the docs say)."""
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/s/acme?d=A")
        page.get_by_role("link", name="Norsk (nynorsk)").click()
        assert page.locator("html").get_attribute("lang") == "nn"
        assert "d=A" in page.url and page.locator("#department").input_value() == "A"
    finally:
        context.close()


def test_the_hr_pages_switch_language_from_the_layout(new_page, live_server, app):
    """The chooser in the HR layout changes the page language at once, and the results page follows it."""
    from playwright.sync_api import expect

    close_survey(app)
    page = new_page(DESKTOP)
    page.goto(f"{live_server}/admin/login")
    page.get_by_role("button", name="Norsk (bokmål)").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.get_by_label("E-post").fill(HR_EMAIL)
    page.get_by_label("Passord").fill(HR_PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("heading", name="Undersøkelser")).to_be_visible()
    page.get_by_role("button", name="Norsk (nynorsk)").click()
    expect(page.get_by_role("heading", name="Undersøkingar")).to_be_visible()
    expect(page.get_by_role("button", name="Norsk (nynorsk)")).to_have_attribute("aria-pressed", "true")
