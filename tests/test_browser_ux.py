"""Real-browser checks of the rough edges (Chromium through Playwright), each with axe-core at zero serious or
critical findings: one response per rendered form (Back, submit again), unsent answers kept on the device, the
question about few answers, 0-10 in one row on a 390x844 phone; the comparison at 1366x900 (a fifth department,
chart titles that never overlap); the survey page's buttons and the handout's link."""

from __future__ import annotations

import itertools
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from helpers import CHROMIUM, PHONE, close_survey, log_in_as_hr
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM} (run `make chromium`)"
    ),
]
LAPTOP = {"width": 1366, "height": 900}
KEY = "survey-answers:/s/acme"


def no_serious_findings(page) -> None:
    """Assert that axe-core finds nothing serious or critical on the page as it is now."""
    found = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not found, [(v["id"], [n["target"] for n in v["nodes"]][:5]) for v in found]


def answer(page, instrument, count: int, value: int = 4) -> None:
    """Choose `value` for the first `count` statements by clicking their labels."""
    for item in instrument.items[:count]:
        page.locator(f"label[for=q_{item.id}_{value}]").click()


def responses(db) -> int:
    """Return how many responses are stored."""
    return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


# --- 9. one rendered form, one response ------------------------------------------------------------


def test_submit_back_and_submit_again_stores_one_response(new_page, live_server, db, instrument):
    """Submit, press Back, submit again: one response; the second press shows the thank-you page."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    page.locator("#department").select_option("A")
    answer(page, instrument, 14)
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    assert responses(db) == 1
    page.go_back()
    page.wait_for_url(re.compile(r"/s/acme$"))
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    expect(page.locator("h1")).to_have_text("Thank you for your answers!")
    assert responses(db) == 1
    no_serious_findings(page)


# --- 10. unsent answers stay on the device ----------------------------------------------------------


def test_unsent_answers_survive_a_reload_and_a_closed_page(new_page, live_server, db, instrument):
    """Answers kept in localStorage (never sent): a reload and a closed page keep them; sending empties it."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    expect(page.locator("#kept-note")).to_be_visible()
    page.locator("#department").select_option("C")
    answer(page, instrument, 2, 5)
    page.locator(f"label[for=q_{instrument.items[2].id}_na]").click()
    page.locator("label[for=enps_9]").click()
    page.locator("#comment").fill("Half-written on the bus")
    page.wait_for_function(f"() => (localStorage.getItem({KEY!r}) || '').includes('bus')")
    assert responses(db) == 0  # nothing reached the server

    def still_there(view) -> None:
        expect(view.locator(f"#q_{instrument.items[0].id}_5")).to_be_checked()
        expect(view.locator(f"#q_{instrument.items[1].id}_5")).to_be_checked()
        expect(view.locator(f"#q_{instrument.items[2].id}_na")).to_be_checked()
        expect(view.locator("#enps_9")).to_be_checked()
        expect(view.locator("#department")).to_have_value("C")
        expect(view.locator("#comment")).to_have_value("Half-written on the bus")
        expect(view.locator("#progress-text")).to_have_text(f"3 of {len(instrument.items)} answered")

    page.reload()
    still_there(page)
    context = page.context
    page.close()
    page = context.new_page()
    page.goto(f"{live_server}/s/acme")
    still_there(page)
    no_serious_findings(page)
    page.get_by_role("button", name="Submit your answers").click()
    page.get_by_role("button", name="Send anyway").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    assert page.evaluate("window.localStorage.length") == 0
    assert responses(db) == 1


def test_the_closed_page_forgets_the_kept_answers(new_page, live_server, app, instrument):
    """Answers kept for a survey that has since closed are deleted when its page says closed."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    answer(page, instrument, 1)
    page.wait_for_function(f"() => localStorage.getItem({KEY!r}) !== null")
    close_survey(app)
    page.goto(f"{live_server}/s/acme")
    expect(page.locator("h1")).to_have_text("This survey is closed")
    assert page.evaluate("window.localStorage.length") == 0


# --- 11. few answers: asked once, never blocked -------------------------------------------------------


def test_two_of_24_asks_once_then_sends(new_page, live_server, db, instrument):
    """Two answers: the page asks once (focused, readable), keeps both; 'Go on answering' leads on; then it sends."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    page.locator("#department").select_option("B")
    answer(page, instrument, 2)
    page.get_by_role("button", name="Submit your answers").click()
    question = page.locator("#few-answers")
    expect(question).to_contain_text(f"You have answered 2 of {len(instrument.items)} statements: send anyway?")
    expect(question).to_be_focused()
    expect(page.locator(f"#q_{instrument.items[1].id}_4")).to_be_checked()
    assert responses(db) == 0
    no_serious_findings(page)
    page.get_by_role("link", name="Go on answering").click()
    assert page.url.endswith(f"#item-{instrument.items[2].id}")
    page.locator(f"label[for=q_{instrument.items[2].id}_3]").click()
    # Asked once: the form's own button now sends it too.
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    assert responses(db) == 1


# --- 12. 0-10 in one row on a phone -------------------------------------------------------------------


def test_zero_to_ten_is_one_row_on_a_390_px_phone(new_page, live_server):
    """The eleven choices of the recommendation question share one row, inside the screen, each a usable target."""
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    boxes = [page.locator(f"label[for=enps_{n}]").bounding_box() for n in range(11)]
    assert len({round(box["y"]) for box in boxes}) == 1, [round(box["y"]) for box in boxes]
    assert all(box["width"] >= 24 and box["height"] >= 44 for box in boxes), boxes
    assert boxes[-1]["x"] + boxes[-1]["width"] <= PHONE["width"]
    assert all(a["x"] + a["width"] <= b["x"] for a, b in itertools.pairwise(boxes))  # no overlap
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# --- 15 and 16. the comparison at 1366x900 --------------------------------------------------------------


def load_demo(app) -> None:
    """Load the demo survey (English, 200 responses) into the test app's database."""
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "200", "--language", "en"])
    assert result.exit_code == 0, result.output


def overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    """Return the pairs of boxes that overlap."""
    pairs = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[i + 1 :], start=i + 1):
            apart = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            apart = apart or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            if not apart:
                pairs.append((i, j))
    return pairs


def test_a_fifth_department_is_refused_out_loud(new_page, live_server, app):
    """Four ticked: the others switch off with a message; five in the address: the page names the one left out."""
    load_demo(app)
    page = new_page(LAPTOP)
    log_in_as_hr(page, live_server)
    page.goto(f"{live_server}/admin/surveys/demo/compare")
    for name in ("Operations", "Sales", "Customer service", "Development"):
        page.get_by_label(name, exact=True).check()
    expect(page.locator("#overlay-limit")).to_have_text(
        "You have chosen 4 departments, the most that fit. Untick one to choose another."
    )
    expect(page.get_by_label("Logistics", exact=True)).to_be_disabled()
    page.get_by_label("Sales", exact=True).uncheck()
    expect(page.get_by_label("Logistics", exact=True)).to_be_enabled()
    no_serious_findings(page)

    page.goto(f"{live_server}/admin/surveys/demo/compare?d=OPS&d=SALES&d=CS&d=DEV&d=LOG")
    expect(page.locator("#overlay-left-out")).to_contain_text("so Logistics was left out")
    expect(page.locator("label.left-out")).to_contain_text("Logistics")
    expect(page.locator('[data-figure="fig-radar"] .legend')).not_to_contain_text("Logistics")
    no_serious_findings(page)


def test_the_side_by_side_pyramids_titles_never_overlap(new_page, live_server, app):
    """Five pyramids at 1366x900: every panel title is inside the chart and clear of the others."""
    load_demo(app)
    page = new_page(LAPTOP)
    log_in_as_hr(page, live_server)
    page.goto(f"{live_server}/admin/surveys/demo/compare?d=CS&d=MKT&d=PROC&d=DEV")
    chart = page.locator('[data-figure="fig-pyramids"]')
    expect(chart.locator(".main-svg").first).to_be_visible()
    titles = chart.locator(".annotation-text")
    expect(titles).to_have_count(5)
    boxes = [titles.nth(n).bounding_box() for n in range(5)]
    assert overlapping(boxes) == [], boxes
    frame = chart.bounding_box()
    assert all(frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] for box in boxes)
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    no_serious_findings(page)


# --- 18. the survey page's buttons and the handout's link ----------------------------------------------


@pytest.mark.parametrize("width", [390, 768, 1024, 1366])
def test_the_survey_pages_buttons_never_run_into_the_figures(new_page, live_server, app, width):
    """However the buttons wrap, none touches the key figures or the text below them."""
    close_survey(app)
    page = new_page({"width": width, "height": 900})
    log_in_as_hr(page, live_server)
    page.goto(f"{live_server}/admin/surveys/acme")
    buttons = [b for b in page.locator("#survey-actions .button").all()]
    assert len(buttons) >= 5
    lowest = max(b.bounding_box()["y"] + b.bounding_box()["height"] for b in buttons)
    below = page.locator("#collection").bounding_box()
    figures = page.locator(".kpis").bounding_box()
    assert lowest < below["y"] and lowest < figures["y"], (lowest, below, figures)
    assert overlapping([b.bounding_box() for b in buttons]) == []


def test_the_handout_never_breaks_inside_a_department_code(new_page, live_server, app):
    """A long address on a narrow sheet breaks after a slash; the ?d=CODE part stays on one line."""
    with app.app_context():
        from survey import surveys
        from survey.db import get_db

        surveys.create_survey(
            get_db(),
            app.extensions["instrument"],
            "Long",
            "en",
            [{"code": "CUSTOMER_SERVICE_NORTH_2026", "name": "Customer service north"}],
            slug="engagement-survey-for-the-whole-organisation-spring-2026",
        )
    page = new_page({"width": 420, "height": 900})
    log_in_as_hr(page, live_server)
    page.goto(
        f"{live_server}/admin/surveys/engagement-survey-for-the-whole-organisation-spring-2026/handout"
        "?d=CUSTOMER_SERVICE_NORTH_2026"
    )
    code = page.locator(".link .code")
    expect(code).to_have_text("?d=CUSTOMER_SERVICE_NORTH_2026")
    assert code.evaluate("el => el.getClientRects().length") == 1
    assert page.locator(".link").evaluate("el => el.getClientRects()[0].height") > 0
    lines = page.locator(".link").evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    )
    assert lines > 1  # it did have to break: the test would prove nothing otherwise
    no_serious_findings(page)
