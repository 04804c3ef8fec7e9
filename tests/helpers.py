"""Helpers shared by the tests: test accounts, form tokens, logins, answers, browser settings, a test SMTP inbox."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from pathlib import Path

import numpy as np

from survey import invitations, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

SENDER = "HR Team <hr@example.org>"  # the From of the test mail settings (conftest.mail_app)
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


def new_survey_form(page: str, **fields: str) -> dict[str, str]:
    """Return the HR new-survey form as a browser posts it from `page` (its CSRF token), with `fields` changed."""
    form = {
        "csrf_token": csrf_token(page),
        "title": "T",
        "language": "en",
        "departments": "A, Alpha",
        "min_group_size": "5",
        "comment_min_group_size": "10",
        "collection": "open",
        "small_groups": "merge",
        "previous": "",
    }
    return {**form, **fields}


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


def fill_varied(
    app,
    counts: dict[str, int],
    slug: str = "acme",
    seed: int = 3,
    shift: dict | None = None,
    mean: float = 3.2,
    sd: float = 0.9,
    followup_value=None,
) -> None:
    """Store random answers (normal around mean + shift[code], clipped to 1-5) for each department of a survey.

    followup_value(code, i), when given, answers the follow-up statement of the i-th response of a department.
    """
    rng = np.random.default_rng(seed)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, slug)
        for code, n in counts.items():
            dept = surveys.department_by_code(db, survey, code)
            centre = mean + (shift or {}).get(code, 0.0)
            for i in range(n):
                answers = {it.id: int(np.clip(round(rng.normal(centre, sd)), 1, 5)) for it in survey.instrument.items}
                value = followup_value(code, i) if followup_value else None
                save_response(db, survey, Submission(dept.id, answers, None, None, value))


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


class Inbox:
    """An aiosmtpd handler that keeps every message, and can refuse or fail on demand."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.fail_after: int | None = None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_after is not None and len(self.messages) >= self.fail_after:
                return "451 4.3.0 Try again later"
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """Return the messages received for one address."""
        return [m for m in self.messages if m["To"] == address]

    def recipients(self) -> list[str]:
        return sorted(m["To"] for m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
