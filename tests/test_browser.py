"""Real-browser tests in Debian's Chromium, driven by Playwright.

Keyboard-only answering on a phone, the Norwegian form, the error flow, accessibility
basics and the HR journey, each in a fresh browser context against a live server.
"""

from __future__ import annotations

import re

import pytest
from helpers import CHROMIUM, DESKTOP, FAC_EMAIL, FAC_PASSWORD, PHONE, log_in_as_hr, stored_answers
from playwright.sync_api import expect

from survey.db import NOT_APPLICABLE

TOTAL = 24  # items in questions.yaml; checked against the instrument below

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM} (run `make chromium`)"
    ),
]


def stored(db) -> list[dict]:
    """Return every stored response with its department code and answers."""
    rows = list(
        db.query(
            "SELECT r.*, d.code AS department FROM responses r"
            " JOIN departments d ON d.id = r.department_id ORDER BY r.id"
        )
    )
    for row in rows:
        row["answers"] = stored_answers(db, row["id"])
    return rows


def test_keyboard_only_on_a_phone(new_page, live_server, db, instrument):
    """An employee answers everything with the keyboard alone, on a phone-sized screen."""
    assert len(instrument.items) == TOTAL
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    keyboard = page.keyboard
    progress = page.locator("#progress-text")
    expect(progress).to_have_text(f"0 of {TOTAL} answered")

    # The tab order: skip link, the two other languages of the switch, then the department list.
    keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    for link in page.locator("a.lang").all():
        keyboard.press("Tab")
        expect(link).to_be_focused()
    keyboard.press("Tab")
    expect(page.locator("#department")).to_be_focused()
    keyboard.type("Gamma")  # type-ahead in the closed list
    expect(page.locator("#department")).to_have_value("C")
    keyboard.press("ArrowUp")
    expect(page.locator("#department")).to_have_value("B")

    # One Tab per item: focus lands on the first option of an unanswered group; Space
    # chooses it, arrow keys move and choose. Values cycle 1..5.
    chosen: dict[str, int] = {}
    for index, item in enumerate(instrument.items):
        keyboard.press("Tab")
        expect(page.locator(f"#q_{item.id}_1")).to_be_focused()
        value = index % 5 + 1
        if value == 1:
            keyboard.press("Space")
        else:
            for _ in range(value - 1):
                keyboard.press("ArrowRight" if index % 2 else "ArrowDown")
        expect(page.locator(f"#q_{item.id}_{value}")).to_be_checked()
        expect(page.locator(f"#q_{item.id}_{value}")).to_be_focused()
        chosen[item.id] = value
        expect(progress).to_have_text(f"{index + 1} of {TOTAL} answered")

    # Shift+Tab goes back to the previous group's chosen option; change it, then come back.
    previous, last = instrument.items[-2], instrument.items[-1]
    keyboard.press("Shift+Tab")
    expect(page.locator(f"#q_{previous.id}_{chosen[previous.id]}")).to_be_focused()
    keyboard.press("ArrowLeft")
    chosen[previous.id] -= 1
    expect(page.locator(f"#q_{previous.id}_{chosen[previous.id]}")).to_be_checked()
    keyboard.press("Tab")
    expect(page.locator(f"#q_{last.id}_{chosen[last.id]}")).to_be_focused()
    expect(progress).to_have_text(f"{TOTAL} of {TOTAL} answered")
    assert page.locator("#progress").evaluate("el => el.value") == TOTAL

    # eNPS: 8 steps to the right of 0.
    keyboard.press("Tab")
    expect(page.locator("#enps_0")).to_be_focused()
    for _ in range(8):
        keyboard.press("ArrowRight")
    expect(page.locator("#enps_8")).to_be_checked()
    expect(progress).to_have_text(f"{TOTAL} of {TOTAL} answered")  # eNPS is not an item

    # The comment: Enter makes a new line in the text area instead of submitting.
    keyboard.press("Tab")
    expect(page.locator("#comment")).to_be_focused()
    keyboard.type("Works well on a phone – æøå.\nSecond line.")
    expect(page.locator("#comment")).to_have_value("Works well on a phone – æøå.\nSecond line.")
    assert page.url == f"{live_server}/s/acme"

    keyboard.press("Tab")
    submit = page.locator("button[type=submit]")
    expect(submit).to_be_focused()
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    expect(page.locator("h1")).to_have_text("Thank you for your answers!")

    (row,) = stored(db)
    assert row["department"] == "B"
    assert row["answers"] == chosen
    assert row["enps"] == 8
    # Browsers submit text-area line breaks as CRLF.
    assert row["comment"].splitlines() == ["Works well on a phone – æøå.", "Second line."]


def test_norwegian_form_and_thanks(new_page, live_server, db, instrument):
    """?lang=nb gives a Norwegian page, answered with ordinary clicks."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme?lang=nb")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    first, second, third = instrument.items[:3]
    legend = page.locator(f"#item-{first.id} legend")
    expect(legend).to_contain_text(first.text["nb"])
    assert legend.inner_text().strip() == f"1. {first.text['nb']}"
    expect(page.locator(f"label[for=q_{first.id}_na]")).to_have_text(instrument.not_applicable["nb"])
    expect(page.locator("#progress-text")).to_have_text(f"0 av {TOTAL} besvart")
    # The department name is shown literally, not as markup or entities.
    expect(page.locator("#department option[value=A]")).to_have_text("Alpha & <Omega>")

    page.locator("#department").select_option("A")
    page.locator(f"label[for=q_{first.id}_5]").click()
    page.locator(f"label[for=q_{second.id}_2]").click()
    page.locator(f"label[for=q_{third.id}_na]").click()
    page.locator("label[for=enps_10]").click()
    expect(page.locator(f"#q_{first.id}_5")).to_be_checked()
    expect(page.locator("#progress-text")).to_have_text(f"3 av {TOTAL} besvart")
    page.get_by_role("button", name="Send inn svarene").click()
    # Three of 24: asked once whether to send anyway (in Norwegian), then sent.
    expect(page.locator("#few-answers")).to_contain_text(f"Du har svart på 3 av {TOTAL} utsagn")
    page.get_by_role("button", name="Send likevel").click()

    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("h1")).to_have_text("Takk for svarene dine!")
    (row,) = stored(db)
    assert row["department"] == "A"
    # "Ikke relevant" is stored as such: missing in every figure, told apart from a blank in the export.
    assert row["answers"] == {first.id: 5, second.id: 2, third.id: NOT_APPLICABLE}
    assert row["enps"] == 10 and row["comment"] is None


def test_missing_department_shows_error_keeps_answers(new_page, live_server, db, instrument):
    """Without a department the form comes back with a focused notice and every answer kept."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    first, second = instrument.items[:2]
    page.locator(f"label[for=q_{first.id}_4]").click()
    page.locator(f"label[for=q_{second.id}_na]").click()
    page.locator("label[for=enps_3]").click()
    page.locator("#comment").fill("Kept after an error")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.locator("button[type=submit]").click()
    assert posted.value.status == 400

    notice = page.locator("#form-notice")
    expect(notice).to_have_text("Something needs fixing before your answers can be sent. See the messages below.")
    expect(notice).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "form-notice"
    expect(page.locator("#department-error")).to_have_text("Choose your department from the list.")
    expect(page.locator("#department")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#department")).to_have_attribute("aria-describedby", "department-error")
    expect(page.locator(f"#q_{first.id}_4")).to_be_checked()
    expect(page.locator(f"#q_{second.id}_na")).to_be_checked()
    expect(page.locator("#enps_3")).to_be_checked()
    expect(page.locator("#comment")).to_have_value("Kept after an error")
    expect(page.locator("#progress-text")).to_have_text(f"2 of {TOTAL} answered")
    assert stored(db) == []

    # Fixing the one error is enough to send everything (after the one question about so few answers).
    page.locator("#department").select_option("C")
    page.locator("#questionnaire button[type=submit]").click()
    page.get_by_role("button", name="Send anyway").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    (row,) = stored(db)
    assert row["department"] == "C" and row["answers"] == {first.id: 4, second.id: NOT_APPLICABLE}
    assert row["enps"] == 3 and row["comment"] == "Kept after an error"


def test_accessibility_basics_at_phone_size(new_page, live_server, instrument):
    """Labels, legends, touch targets and no sideways scrolling on a 390 px screen."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")

    radios = page.locator("input[type=radio]")
    expect(radios).to_have_count(TOTAL * 6 + 11)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter(el => el.type !== "hidden")
            .filter(el => !el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
            .map(el => el.id || el.name)"""
    )
    assert unlabelled == []
    without_legend = page.evaluate(
        """() => [...document.querySelectorAll("fieldset")]
            .filter(fs => !(fs.firstElementChild && fs.firstElementChild.tagName === "LEGEND"
                            && fs.firstElementChild.textContent.trim()))
            .map(fs => fs.id || fs.className)"""
    )
    assert without_legend == []
    assert page.locator("fieldset.item").count() == TOTAL + 1  # the items and eNPS

    options = page.locator("label.opt")
    expect(options).to_have_count(TOTAL * 6 + 11)
    small = []
    for index in range(options.count()):
        box = options.nth(index).bounding_box()
        assert box is not None
        name = options.nth(index).get_attribute("for")
        # 0-10 fits one row on a phone: its eleven targets are narrower, but at least 24 px wide (WCAG 2.2,
        # 2.5.8 target size) and 44 px tall; every other option is at least 44 x 44.
        wide = 24 if name.startswith("enps_") else 44
        if box["width"] < wide or box["height"] < 44:
            small.append((name, round(box["width"]), round(box["height"])))
    assert small == [], f"touch targets too small: {small}"

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("window.innerWidth") == PHONE["width"]


def test_hr_creates_and_closes_a_survey(new_page, live_server, db):
    """HR logs in, creates a survey, sees its links and closes it."""
    page = new_page(DESKTOP)
    log_in_as_hr(page, live_server)
    expect(page.locator("h1")).to_have_text("Surveys")
    expect(page.get_by_role("link", name="Acme 2026")).to_be_visible()

    page.locator("main").get_by_role("link", name="New survey").click()
    page.wait_for_url(f"{live_server}/admin/surveys/new")
    page.get_by_label("Title").fill("Browser check 2026")
    page.get_by_label("Language").select_option("en")
    page.get_by_label("Departments").fill("X, Xray, 12\nY, Yankee")
    page.get_by_role("button", name="Create survey").click()

    page.wait_for_url(re.compile(r"/admin/surveys/[a-z0-9-]+$"))
    slug = page.url.rsplit("/", 1)[1]
    assert slug == "browser-check-2026"
    expect(page.locator("h1")).to_have_text("Browser check 2026")
    expect(page.locator(".flash")).to_contain_text("Survey “Browser check 2026” created")
    expect(page.locator(".badge.open")).to_have_text("open")
    expect(page.locator("#link-open")).to_have_value(f"{live_server}/s/{slug}")
    expect(page.locator(".links .dept-name")).to_have_text(["Xray", "Yankee"])
    expect(page.get_by_label("Link for Xray")).to_have_value(f"{live_server}/s/{slug}?d=X")
    expect(page.get_by_label("Link for Yankee")).to_have_value(f"{live_server}/s/{slug}?d=Y")
    expect(page.locator("tbody tr").first).to_contain_text("12")

    page.get_by_role("button", name="Close the survey").click()
    expect(page.locator(".flash")).to_contain_text("The survey is closed.")
    expect(page.locator(".badge.closed")).to_have_text("closed")
    expect(page.get_by_role("button", name="Reopen the survey")).to_be_visible()
    survey = next(db.query("SELECT * FROM surveys WHERE slug = ?", [slug]))
    assert survey["status"] == "closed" and survey["closed_on"]
    departments = [
        (d["code"], d["name"], d["headcount"])
        for d in db.query("SELECT * FROM departments WHERE survey_id = ? ORDER BY position", [survey["id"]])
    ]
    assert departments == [("X", "Xray", 12), ("Y", "Yankee", None)]

    # The department link now says the survey is closed.
    page.goto(f"{live_server}/s/{slug}?d=X")
    expect(page.locator("h1")).to_have_text("This survey is closed")


def load_demo(app, responses: int) -> None:
    """Load the demo survey (English) into the test app's database."""
    result = app.test_cli_runner().invoke(args=["demo", "--responses", str(responses), "--language", "en"])
    assert result.exit_code == 0, result.output


def test_hr_results_page_and_pdf_download(new_page, live_server, app):
    """HR sees the results with plotly charts (no CSP error) and downloads the PDF with a busy indicator."""
    load_demo(app, 150)
    page = new_page(DESKTOP)
    log_in_as_hr(page, live_server)
    page.goto(f"{live_server}/admin/surveys/demo/results")
    expect(page.locator("h1")).to_contain_text("Results")
    # plotly drew every chart as SVG in the page.
    for name in ("pyramid", "radar", "items"):
        expect(page.locator(f'[data-figure="fig-{name}"] .main-svg').first).to_be_visible()
    page.get_by_label("Show a department's own figures").select_option("SALES")
    page.wait_for_url(re.compile(r"department=SALES"))
    expect(page.locator('[data-figure="fig-radar"] .legend')).to_contain_text("Sales")
    link = page.get_by_role("link", name="Download PDF for Sales")
    with page.expect_download(timeout=60_000) as info:
        link.click()
        expect(page.locator("#pdf-status")).to_contain_text("Preparing the PDF")
    download = info.value
    assert download.suggested_filename.startswith("report-demo-sales-en")
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    expect(page.locator("#pdf-status")).to_have_text("The PDF is ready.")


def test_results_page_fits_a_phone(new_page, live_server, app):
    """The results page (charts, wide tables) scrolls inside its tables, never the whole page sideways."""
    load_demo(app, 120)
    page = new_page(PHONE)
    log_in_as_hr(page, live_server)
    for path in ("/admin/", "/admin/surveys/demo", "/admin/surveys/demo/results"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path


def test_facilitator_compares_and_downloads_pdf(new_page, live_server, app):
    """A facilitator opens the comparison, picks two departments and downloads the PDF."""
    load_demo(app, 200)
    page = new_page(DESKTOP)
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail").fill(FAC_EMAIL)
    page.get_by_label("Password").fill(FAC_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/admin/surveys/demo")
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)  # raw answers are for HR only
    page.get_by_role("link", name="Compare departments").click()
    page.get_by_label("Sales").check()
    page.get_by_label("Logistics").check()
    page.get_by_label("Sort by").select_option("owning")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"sort=owning"))
    expect(page.locator('[data-figure="fig-radar"] .legend')).to_contain_text("Sales")
    expect(page.locator('[data-figure="fig-pyramids"] .main-svg').first).to_be_visible()
    expect(page.locator("table.heat th[aria-sort=descending]")).to_have_text("Owning")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename.startswith("comparison-demo")
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
