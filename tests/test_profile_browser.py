"""The respondent's own pyramid in a real browser (Debian's Chromium): on a phone, shown once, printable, then gone."""

from __future__ import annotations

import io

import pytest
from helpers import CHROMIUM, PHONE
from playwright.sync_api import expect
from pypdf import PdfReader

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]

# Observing and following 5, endorsing 4, the rest 2: the profile reaches Endorsing (level 3).
VALUES = [5] * 8 + [4] * 4 + [2] * 12


def answer(page, instrument, values, skip: int = 0) -> None:
    """Click an answer for each statement (the last `skip` left as "not applicable")."""
    for n, (item, value) in enumerate(zip(instrument.items, values, strict=True)):
        chosen = "na" if n >= len(values) - skip else value
        page.locator(f"label[for=q_{item.id}_{chosen}]").click()


def submit_survey(page, live_server: str, instrument, skip: int = 0) -> None:
    page.goto(f"{live_server}/s/acme")
    page.locator("#department").select_option("B")
    answer(page, instrument, VALUES, skip)
    page.get_by_role("button", name="Submit your answers").click()
    expect(page.locator("#profile-title")).to_have_text("Your own pyramid")


def session_keys(app, page) -> set[str]:
    """Return the keys of the Flask session the browser holds (its cookie, decoded with the app's key)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    serializer = app.session_interface.get_signing_serializer(app)
    return set(serializer.loads(cookies["session"])) if "session" in cookies else set()


def test_answering_on_a_phone_shows_the_profile_once(app, new_page, live_server, db, instrument):
    """390x844: the profile after answering; Reload and Back send nothing again and show it no more."""
    page = new_page(PHONE)
    submit_survey(page, live_server, instrument)
    expect(page.locator(".profile-level")).to_contain_text("You reach the level Endorsing")
    expect(page.locator(".profile-chart svg")).to_be_visible()
    expect(page.locator(".profile-steps li")).to_have_count(3)
    expect(page.locator(".profile-kept")).to_contain_text("This profile is not stored.")
    expect(page.locator("#print-profile")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The address is the plain thank-you page's, without anything of the profile.
    assert page.url == f"{live_server}/s/acme/thanks?lang=en"
    # Nothing on the device holds it: no web storage, and the session cookie only the form's token.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert {c["name"] for c in page.context.cookies()} <= {"session"}
    assert session_keys(app, page) == {"csrf_token"}
    assert db["responses"].count == 1

    # Reload fetches the plain page: the history entry no longer holds the form to send again.
    sent = []
    page.on("request", lambda request: sent.append((request.method, request.url)))
    page.reload()
    expect(page.locator("h1")).to_have_text("Thank you for your answers!")
    expect(page.locator("#profile")).to_have_count(0)
    expect(page.locator(".self-link")).to_contain_text("shown once")
    assert ("GET", f"{live_server}/s/acme/thanks?lang=en") in sent
    assert not [url for method, url in sent if method == "POST"]
    page.go_back()
    expect(page).to_have_url(f"{live_server}/s/acme")
    expect(page.locator("form.questionnaire")).to_be_visible()
    # The questionnaire comes back empty: its answers would give the profile away to the next person.
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    assert not [url for method, url in sent if method == "POST"]
    assert db["responses"].count == 1


def test_leaving_the_page_leaves_no_profile_to_come_back_to(new_page, live_server, db, instrument):
    """Back after leaving shows no profile, whether the browser kept the page in memory or fetches it anew."""
    page = new_page(PHONE)
    submit_survey(page, live_server, instrument)
    page.get_by_role("link", name="Take the self-assessment on your own, or share it with others").click()
    expect(page).to_have_url(f"{live_server}/self?lang=en")
    page.go_back()
    expect(page.locator(".profile-chart")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("shown once")
    assert db["responses"].count == 1


def test_without_javascript_a_reload_sends_nothing_twice(browser, live_server, db, instrument):
    """Without JavaScript the page stays the POST's answer; sending it again gives the plain page, not a response."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        submit_survey(page, live_server, instrument)
        assert page.url == f"{live_server}/s/acme"
        expect(page.locator("#print-profile")).to_be_hidden()  # printing needs the script; the browser's menu works
        sent = []
        page.on("request", lambda request: sent.append(request.method))
        page.reload()  # the browser sends the form again: its spent key gives no second response
        expect(page.locator("h1")).to_have_text("Thank you for your answers!")
        expect(page.locator("#profile")).to_have_count(0)
        assert "POST" in sent
        assert db["responses"].count == 1
    finally:
        context.close()


def printed(page) -> str:
    """Print the page as the browser's "Save as PDF" does (A4) and return its one page's text; no request is made."""
    page.wait_for_load_state("networkidle")  # the page's own requests (the favicon) are done
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert requests == [], "printing went back to the server"
    assert len(pdf.pages) == 1, f"the profile prints on {len(pdf.pages)} pages"
    return pdf.pages[0].extract_text()


def test_the_profile_prints_on_one_a4_page(new_page, live_server, instrument):
    """Printed or saved as PDF: one A4 page with the profile, without navigation or buttons."""
    page = new_page(PHONE)
    submit_survey(page, live_server, instrument, skip=7)  # two levels unscored: the longest profile
    expect(page.locator(".profile-missing")).to_be_visible()
    text = printed(page)
    assert "Your own pyramid" in text and "Endorsing" in text and "not stored" in text
    assert "Print or save as PDF" not in text and "Skip to content" not in text

    page.goto(f"{live_server}/self?lang=nn")
    answer(page, instrument, VALUES, skip=7)
    page.locator("button[type=submit]").click()
    expect(page.locator(".profile-typical")).to_have_text(instrument.level("endorsing").person.typical["nn"])
    text = printed(page)
    assert "Tilrå" in text and "Norsk" not in text


def test_self_assessment_in_nynorsk_on_a_phone(new_page, live_server, instrument):
    """The language switch, the questionnaire and the profile, in nynorsk."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/self?lang=en")
    page.get_by_role("link", name="Norsk (nynorsk)").click()
    expect(page.locator("html")).to_have_attribute("lang", "nn")
    expect(page.locator(f"#item-{instrument.items[0].id} legend")).to_contain_text(instrument.items[0].text["nn"])
    answer(page, instrument, [4] * 24)
    expect(page.locator("#progress-text")).to_contain_text("24")
    page.locator("button[type=submit]").click()
    expect(page.locator(".profile-level strong")).to_have_text("Leie")
    expect(page.locator(".profile-steps li").first).to_have_text(instrument.level("leading").person.next_steps["nn"][0])
    assert page.url == f"{live_server}/self?lang=nn"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.go_back()
    expect(page.locator("form.questionnaire")).to_be_visible()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
