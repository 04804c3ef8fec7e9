"""Fixtures: an app on a temporary database, clients, a live server, helpers."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from survey import accounts, create_app, surveys
from survey.db import connect

BASE_URL = "https://survey.example.org"  # links are built from this, never from the Host header
HR_EMAIL, HR_PASSWORD = "hr@example.org", "correct horse battery"
FAC_EMAIL, FAC_PASSWORD = "fac@example.org", "facilitator password"
DEPARTMENTS = [
    {"code": "A", "name": "Alpha & <Omega>", "headcount": 20},
    {"code": "B", "name": "Beta", "headcount": 8},
    {"code": "C", "name": "Gamma", "headcount": None},
]


@pytest.fixture
def app(tmp_path):
    """Return an app on a fresh database with one HR user, one facilitator and survey 'acme'."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "test.sqlite"),
            "SECRET_KEY": "test-secret-key",
            "REPORTS_DIR": str(tmp_path / "reports"),
            "BASE_URL": BASE_URL,
        }
    )
    with app.app_context():
        from survey.db import get_db

        db = get_db()
        accounts.create_user(db, HR_EMAIL, HR_PASSWORD, "hr")
        accounts.create_user(db, FAC_EMAIL, FAC_PASSWORD, "facilitator")
        surveys.create_survey(
            db, app.extensions["instrument"], title="Acme 2026", language="en", departments=DEPARTMENTS, slug="acme"
        )
    return app


@pytest.fixture
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """Return a separate connection to the app's database, for checking what was stored."""
    database = connect(app.config["DATABASE"])
    yield database
    database.close()


@pytest.fixture
def instrument(app):
    """Return the instrument loaded from questions.yaml."""
    return app.extensions["instrument"]


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


@pytest.fixture
def hr_client(client):
    """Return a client logged in as HR."""
    assert login(client).status_code == 302
    return client


@pytest.fixture
def fac_client(app):
    """Return a client logged in as a facilitator."""
    client = app.test_client()
    assert login(client, FAC_EMAIL, FAC_PASSWORD).status_code == 302
    return client


@pytest.fixture
def hr_token(app):
    """Return an HR API token."""
    with app.app_context():
        from survey.db import get_db

        return accounts.create_token(get_db(), "hr")


@pytest.fixture
def live_server(app):
    """Serve the app on a free local port in a thread (threaded, like a real deployment)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url  # the links the pages show lead back to this server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)


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
