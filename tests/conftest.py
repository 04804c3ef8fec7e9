"""Fixtures: an app factory on temporary databases, clients, a live server, a browser."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from helpers import (
    BASE_URL,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEPARTMENTS,
    FAC_EMAIL,
    FAC_PASSWORD,
    HR_EMAIL,
    HR_PASSWORD,
    PHONE,
    SENDER,
    Inbox,
    free_port,
    login,
)
from werkzeug.serving import make_server

from survey import accounts, create_app, surveys
from survey.db import connect, get_db

EXPECTED_400 = "Failed to load resource: the server responded with a status of 400"


@pytest.fixture
def make_app(tmp_path) -> Callable[..., Flask]:
    """Return a factory of apps, each on its own fresh database in tmp_path; keywords override the config."""
    made = 0

    def make(**overrides) -> Flask:
        nonlocal made
        made += 1
        config = {
            "TESTING": True,
            "DATABASE": str(tmp_path / f"test-{made}.sqlite"),
            "SECRET_KEY": "test-secret-key",
            "REPORTS_DIR": str(tmp_path / "reports"),
            "BASE_URL": BASE_URL,
        }
        config.update(overrides)
        return create_app(config)

    return make


@pytest.fixture
def app(make_app) -> Flask:
    """Return an app on a fresh database with one HR user, one facilitator and survey 'acme'."""
    app = make_app()
    with app.app_context():
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


@pytest.fixture(scope="module")
def browser():
    """Start Debian's Chromium once per test module (Playwright cannot download its own browser here)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (run `make chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server: str) -> Iterator[Callable]:
    """Return a factory of pages, each in its own context; no page may log a JavaScript or CSP error.

    Depending on live_server closes the pages before the server stops, so that a request
    still in flight (the favicon) is not reset and reported as an error.
    """
    contexts = []
    errors: list[str] = []

    def record_console(kind: str, text: str) -> None:
        # Console errors include Content-Security-Policy violations (blocked inline script or
        # style); a form shown again with status 400 is expected, not an error of the page.
        if kind == "error" and not text.startswith(EXPECTED_400):
            errors.append(text)

    def make(viewport: dict | None = None, locale: str = "en-GB"):
        context = browser.new_context(viewport=viewport or PHONE, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: record_console(msg.type, msg.text))
        return page

    yield make
    found = list(errors)  # closing a context may abort requests; that is no error of the page
    for context in contexts:
        context.close()
    assert not found, f"errors in the browser console: {found}"


@pytest.fixture
def inbox():
    """Run a real SMTP server on a free local port and return what it receives."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def mail_app(app, inbox):
    """The app, sending through the test SMTP server."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_TLS="none", SMTP_SENDER=SENDER)
    return app
