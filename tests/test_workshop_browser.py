"""A whole workshop in a real browser: the facilitator's presentation at 1920x1080, six phones in a live poll,
an action recorded on a slide, and the plan in the organisation's PDF report."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, PHONE, close_survey

from survey import surveys
from survey.db import get_db
from survey.responses import Submission, save_response

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1920, "height": 1080}


def fill(app) -> None:
    """Answers for departments A, B and C of 'acme', B clearly lower than the rest."""
    rng = np.random.default_rng(7)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        for code, n, mean in (("A", 16, 3.6), ("B", 14, 2.4), ("C", 10, 3.2)):
            dept = surveys.department_by_code(db, survey, code)
            for _ in range(n):
                answers = {it.id: int(np.clip(round(rng.normal(mean, 0.8)), 1, 5)) for it in survey.instrument.items}
                save_response(db, survey, Submission(dept.id, answers, None, None))
    close_survey(app)


def log_in_as_facilitator(page, live_server: str) -> None:
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail").fill(FAC_EMAIL)
    page.get_by_label("Password").fill(FAC_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/admin/")


def visible_slide(page) -> str:
    return page.evaluate(
        "Array.from(document.querySelectorAll('#deck > .slide')).filter(s => !s.hidden).map(s => s.id).join(',')"
    )


def answer_on_a_phone(new_page, live_server: str, code: str, values: list[str]) -> None:
    """One participant: open /p, type the code from the screen, answer the six statements, send."""
    phone = new_page(PHONE)
    phone.goto(f"{live_server}/p")
    phone.get_by_label("The code on the screen").fill(code.lower())
    phone.get_by_role("button", name="Go to the poll").click()
    phone.wait_for_url(f"**/p/{code}")
    groups = phone.locator("fieldset.item").all()
    assert len(groups) == 6
    for group, value in zip(groups, values, strict=True):
        group.locator(f"label[for$='_{value}']").click()
    assert phone.locator("#progress-text").inner_text() == "6 of 6 answered"
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url(f"**/p/{code}/thanks**")
    assert "Look at the screen" in phone.content()
    phone.context.close()


def test_a_whole_workshop(app, live_server, new_page):
    fill(app)
    errors: list[str] = []
    screen = new_page(PROJECTOR)
    log_in_as_facilitator(screen, live_server)

    # 1. The presentation: chosen departments, full screen at 1920x1080, keyboard only.
    screen.goto(f"{live_server}/admin/surveys/acme/present/setup")
    screen.get_by_label("Alpha & <Omega>").check()
    screen.get_by_role("button", name="Start the presentation").click()
    screen.wait_for_url("**/present?d=A**")
    assert visible_slide(screen) == "slide-title"
    text = screen.locator("body").inner_text()
    assert FAC_EMAIL not in text and "Log out" not in text and screen.locator("nav").count() == 0
    root = screen.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    heading = screen.evaluate("parseFloat(getComputedStyle(document.querySelector('#slide-title h1')).fontSize)")
    assert root >= 24 and heading >= 64, (root, heading)  # readable from the back of a room

    screen.keyboard.press("ArrowRight")
    assert visible_slide(screen) == "slide-pyramid"
    screen.locator("#slide-pyramid .main-svg").first.wait_for()
    tick = screen.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#slide-pyramid .ytick text')).fontSize)"
    )
    assert tick >= 20, tick  # chart labels scaled for a projector
    box = screen.locator("#slide-pyramid .chart").bounding_box()
    assert box["height"] > 600 and box["width"] > 1500
    screen.keyboard.press("PageDown")
    assert visible_slide(screen) == "slide-radar"
    screen.locator("#slide-radar .main-svg").first.wait_for()
    assert "Alpha" in screen.locator("#slide-radar .legend").text_content()
    screen.keyboard.press("ArrowRight")
    assert visible_slide(screen) == "slide-heat"
    heat = screen.locator("#slide-heat").inner_text()
    assert "Beta" in heat and "▼" in heat  # B is significantly lower than the rest
    screen.keyboard.press("End")
    assert visible_slide(screen) == "slide-plan" and screen.url.endswith("#slide-plan")
    screen.keyboard.press("PageUp")
    assert visible_slide(screen) == "slide-differences"
    concerns = screen.locator("#slide-differences .diffs.down").inner_text()
    assert "Beta" in concerns and "below the rest" in concerns
    screen.keyboard.press("Home")
    assert visible_slide(screen) == "slide-title"
    screen.keyboard.press("ArrowLeft")
    assert visible_slide(screen) == "slide-title"
    for _ in range(8):
        screen.keyboard.press("ArrowRight")
    assert visible_slide(screen) == "slide-level-owning"
    prompts = screen.locator("#slide-level-owning .prompts li")
    assert prompts.count() == 3 and prompts.first.inner_text().endswith("?")

    # 2. A live poll: six phones answer through the code on the screen.
    poll_screen = screen.context.new_page()  # a second tab of the facilitator's browser
    poll_screen.on("console", lambda msg: msg.type != "error" or errors.append(msg.text))
    poll_screen.goto(f"{live_server}/admin/polls/new?linked=acme")
    poll_screen.get_by_label("Title shown on the screen").fill("Management team")
    poll_screen.get_by_role("button", name="Start the poll").click()
    code = poll_screen.locator("#poll-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    assert poll_screen.locator(".poll-qr img").evaluate("img => img.naturalWidth") > 0
    assert poll_screen.locator("#poll-count").inner_text() == "Fewer than 5 have answered"
    answers = [
        ["5", "4", "1", "3", "4", "2"],
        ["5", "4", "5", "3", "4", "2"],
        ["4", "4", "1", "3", "5", "2"],
        ["5", "5", "5", "3", "4", "3"],
        ["4", "4", "1", "3", "4", "2"],
        ["5", "4", "5", "3", "4", "2"],
    ]
    for values in answers[:4]:
        answer_on_a_phone(new_page, live_server, code, values)
    poll_screen.wait_for_timeout(2500)  # the screen asks every 2 s; below k it still says "fewer than"
    assert poll_screen.locator("#poll-count").inner_text() == "Fewer than 5 have answered"
    poll_screen.get_by_role("button", name="Close the poll and show the results").click()
    assert "cannot be closed yet" in poll_screen.locator(".flash-error").inner_text()
    for values in answers[4:]:
        answer_on_a_phone(new_page, live_server, code, values)
    poll_screen.locator("#poll-count", has_text="6 have answered").wait_for(timeout=8000)
    poll_screen.get_by_role("button", name="Close the poll and show the results").click()
    assert "6 answered. The most divided statements first." in poll_screen.locator("#poll-answered").inner_text()
    first = poll_screen.locator("th.stmt-row").first.inner_text()
    endorsing = app.extensions["instrument"].short().items[2]
    assert endorsing.text["en"] in first  # answered 1, 5, 1, 5, 1, 5: the most divided
    assert poll_screen.locator("svg.bar").count() == 6
    assert not errors, errors

    # 3. Back on the presentation: the group agrees on an action, recorded on the slide.
    screen.locator("#slide-level-owning details.record summary").click()
    screen.locator("#title-owning").fill("Every team names an owner for its routines")
    screen.locator("#dept-owning").select_option("B")
    screen.locator("#owner-owning").fill("Head of Beta")
    screen.locator("#due-owning").fill("2026-06-30")
    screen.locator("#slide-level-owning").get_by_role("button", name="Add to the plan").click()
    screen.wait_for_url("**/present?d=A#slide-level-owning")
    assert visible_slide(screen) == "slide-level-owning"
    assert "Added to the action plan" in screen.locator(".toast").inner_text()
    screen.keyboard.press("End")
    plan = screen.locator("#slide-plan").inner_text()
    assert "Every team names an owner for its routines" in plan and "Beta" in plan and "Head of Beta" in plan
    # One click on a recommended action of the same slide.
    screen.keyboard.press("Home")
    for _ in range(8):
        screen.keyboard.press("ArrowRight")
    screen.locator("#slide-level-owning details.record summary").click()
    screen.locator("#slide-level-owning .recs button.plus").first.click()
    screen.wait_for_url("**#slide-level-owning")
    with app.app_context():
        stored = get_db().execute("SELECT title, owner, due, status FROM actions ORDER BY id").fetchall()
    assert stored[0] == ("Every team names an owner for its routines", "Head of Beta", "2026-06-30", "planned")
    assert len(stored) == 2

    # 4. The plan in the organisation's PDF report.
    from pypdf import PdfReader

    pdf = screen.request.get(f"{live_server}/admin/surveys/acme/report.pdf?lang=en")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages).split())
    assert "Action plan" in text
    assert "Every team names an owner for its routines" in text and "Head of Beta" in text and "2026-06-30" in text


def test_the_deck_scales_to_larger_screens(app, live_server, new_page):
    fill(app)
    sizes = {}
    for width, height in ((1920, 1080), (2560, 1440)):
        page = new_page({"width": width, "height": height})
        log_in_as_facilitator(page, live_server)
        page.goto(f"{live_server}/admin/surveys/acme/present#slide-radar")
        page.locator("#slide-radar .main-svg").first.wait_for()
        root = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        label = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#slide-radar .angularaxistick text')).fontSize)"
        )
        sizes[width] = (root, label)
    assert sizes[2560][0] > sizes[1920][0] * 1.25 and sizes[2560][1] > sizes[1920][1]
