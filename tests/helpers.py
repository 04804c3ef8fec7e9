"""Helpers shared by the tests: test accounts, form tokens, logins, answers and browser settings."""

from __future__ import annotations

import re
from pathlib import Path

from survey import invitations, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

BASE_URL = "https://survey.example.org"  # links are built from this, never from the Host header
HR_EMAIL, HR_PASSWORD = "hr@example.org", "correct horse battery"
FAC_EMAIL, FAC_PASSWORD = "fac@example.org", "facilitator password"
DEPARTMENTS = [
    {"code": "A", "name": "Alpha & <Omega>", "headcount": 20},
    {"code": "B", "name": "Beta", "headcount": 8},
    {"code": "C", "name": "Gamma", "headcount": None},
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def csrf_token(html: str) -> str:
    """Return the CSRF token embedded in a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, email: str = HR_EMAIL, password: str = HR_PASSWORD):
    """Log a test client in through the login form."""
    page = client.get("/admin/login").get_data(as_text=True)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)})


def answers_for(instrument, value: int = 4) -> dict[str, int]:
    """Return an answer for every item of the instrument."""
    return {item.id: value for item in instrument.items}


def stored_answers(db, response_id: int) -> dict[str, int]:
    """Return a stored response's answers by item id (answers are stored by item position)."""
    return {
        row["item_id"]: row["value"]
        for row in db.query(
            """SELECT i.item_id, a.value FROM answers a
               JOIN responses r ON r.id = a.response_id
               JOIN survey_items i ON i.survey_id = r.survey_id AND i.position = a.item
               WHERE a.response_id = ?""",
            [response_id],
        )
    }


def add_responses(app, code: str, n: int) -> None:
    """Store n minimal responses for a department of survey 'acme'."""
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        dept = surveys.department_by_code(db, survey, code)
        for _ in range(n):
            save_response(db, survey, Submission(dept.id, {"obs1": 4}, None, None))


def import_csv(app, text: str | bytes, slug: str = "acme"):
    """Import an invitation file into a survey and return the report."""
    with app.app_context():
        return invitations.import_invitations(get_db(), surveys.get_survey(get_db(), slug), text)


def backdate(db, day: str = "2000-01-01") -> None:
    """Pretend the invitations were sent on an earlier day, so that reminders are due."""
    db.execute("UPDATE invitations SET sent_on = ? WHERE sent_on IS NOT NULL", [day])
    db.conn.commit()


def log_in_as_hr(page, live_server: str) -> None:
    """Log in through the login form as the HR user of the test app."""
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail").fill(HR_EMAIL)
    page.get_by_label("Password").fill(HR_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def close_survey(app, slug: str = "acme") -> None:
    """Close a survey (results are released only then)."""
    with app.app_context():
        db = get_db()
        surveys.close(db, surveys.get_survey(db, slug))


def close_all(app) -> None:
    """Close every open survey of the app's database."""
    with app.app_context():
        db = get_db()
        for row in list(db.query("SELECT slug FROM surveys WHERE status = 'open'")):
            surveys.close(db, surveys.get_survey(db, row["slug"]))
