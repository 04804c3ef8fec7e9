"""An open link's first visit answered from memory: same page and headers, own values, never stale, never weaker."""

from __future__ import annotations

import re
import sqlite3

import pytest
from axe_playwright_python.sync_playwright import Axe
from helpers import CHROMIUM, PHONE, answers_for, csrf_token
from playwright.sync_api import expect

from survey import retention, surveys
from survey.db import get_db
from survey.respond import first_visit

SESSION = re.compile(r"^session=([^;]+)(;.*)$")


def form_key(page: str) -> str:
    """Return the single-use key of a rendered form."""
    return re.search(r'name="form_key" value="([0-9a-f]{32})"', page).group(1)


@pytest.fixture
def flask_calls(app, monkeypatch) -> list[str]:
    """Record every request that reaches Flask (behind the first-visit layer)."""
    layer = app.wsgi_app
    assert isinstance(layer, first_visit.FirstVisits)
    calls: list[str] = []
    inner = layer.wsgi_app

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))
        return inner(environ, start_response)

    monkeypatch.setattr(layer, "wsgi_app", counted)
    return calls


def first_visit_to(app, path: str = "/s/acme"):
    """Return a new visitor's client and its response."""
    client = app.test_client()
    return client, client.get(path)


def test_first_visits_after_the_first_never_reach_flask_and_get_the_same_page_with_their_own_values(app, flask_calls):
    """The second and third first visits are answered from memory: same status, headers and page, own values."""
    made = [first_visit_to(app)[1] for _ in range(3)]
    assert flask_calls == ["/s/acme"]  # Flask answered the first only
    assert {r.status_code for r in made} == {200}
    pages = [r.get_data(as_text=True) for r in made]
    tokens, keys = [csrf_token(p) for p in pages], [form_key(p) for p in pages]
    assert len(set(tokens)) == 3 and len(set(keys)) == 3
    assert len({p.replace(t, "TOKEN").replace(k, "KEY") for p, t, k in zip(pages, tokens, keys, strict=True)}) == 1
    cookies = [SESSION.match(r.headers["Set-Cookie"]) for r in made]
    assert len({c.group(1) for c in cookies}) == 3  # a session of its own each
    assert len({c.group(2) for c in cookies}) == 1  # with the same attributes Flask set (HttpOnly, SameSite...)
    others = [sorted((k, v) for k, v in r.headers if k != "Set-Cookie") for r in made]
    assert others[0] == others[1] == others[2]
    assert {"Content-Security-Policy", "X-Frame-Options", "Vary"} <= {k for k, _ in others[1]}
    assert int(made[2].headers["Content-Length"]) == len(made[2].get_data())


def test_a_form_answered_from_memory_gives_exactly_one_response(app, db, flask_calls):
    """Its token is accepted with its own cookie, its form key spent once: Back and Submit again store nothing."""
    first_visit_to(app)
    client, response = first_visit_to(app)
    assert flask_calls == ["/s/acme"]
    page = response.get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "form_key": form_key(page), "department": "A"}
    form.update({f"q_{item}": value for item, value in answers_for(app.extensions["instrument"]).items()})
    assert client.post("/s/acme", data=form).status_code == 200
    again = client.post("/s/acme", data=form)
    assert again.status_code == 303 and "/s/acme/thanks" in again.headers["Location"]
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1


def test_a_token_from_memory_is_refused_with_another_visitors_cookie(app, db):
    """The CSRF token stays bound to its own session: another browser cannot send it (cross-site stuffing)."""
    first_visit_to(app)
    _, theirs = first_visit_to(app)
    mine, _ = first_visit_to(app)
    page = theirs.get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "form_key": form_key(page), "department": "A"}
    form.update({f"q_{item}": value for item, value in answers_for(app.extensions["instrument"]).items()})
    refused = mine.post("/s/acme", data=form)
    assert refused.status_code == 400
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


def test_answers_arriving_leave_the_kept_page_in_use(app, flask_calls):
    """Responses do not change the form: a stream of answers does not send first visits back to Flask."""
    first_visit_to(app)
    client, response = first_visit_to(app)
    page = response.get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "form_key": form_key(page), "department": "B"}
    form.update({f"q_{item}": value for item, value in answers_for(app.extensions["instrument"]).items()})
    assert client.post("/s/acme", data=form).status_code == 200
    first_visit_to(app)
    assert flask_calls == ["/s/acme", "/s/acme"]  # the POST went to Flask; the next first visit did not


@pytest.mark.parametrize(
    "change, seen",
    [
        ("UPDATE departments SET name = 'Renamed' WHERE code = 'B'", "Renamed"),
        ("UPDATE surveys SET title = 'Acme, second try' WHERE slug = 'acme'", "Acme, second try"),
        ("UPDATE surveys SET status = 'closed' WHERE slug = 'acme'", "This survey is closed"),
    ],
)
def test_a_change_by_any_connection_reaches_the_next_first_visit(app, db, flask_calls, change, seen):
    """A command, another worker or a hand-made UPDATE changes what the form shows: Flask answers the next visit."""
    first_visit_to(app)
    first_visit_to(app)
    assert len(flask_calls) == 1
    db.execute(change)
    db.conn.commit()
    assert seen in first_visit_to(app)[1].get_data(as_text=True)
    assert len(flask_calls) == 2


def test_a_deleted_survey_is_not_answered_from_memory(app, flask_calls):
    """Deleting a survey empties the kept pages: its address answers 'unknown', not the old form."""
    first_visit_to(app)
    with app.app_context():
        db = get_db()
        retention.delete_survey(db, surveys.get_survey(db, "acme"))
    assert len(app.extensions[first_visit.KEPT]) == 0
    gone = first_visit_to(app)[1]
    assert gone.status_code == 404
    assert 'name="csrf_token"' not in gone.get_data(as_text=True)


def test_returning_visitors_languages_and_other_addresses_go_to_flask(app, flask_calls):
    """Only a GET without cookie or query string is a first visit; a chosen language or a cookie goes to Flask."""
    client, _ = first_visit_to(app)
    client.get("/s/acme")  # the session cookie is back
    first_visit_to(app, "/s/acme?lang=nb")
    app.test_client().head("/s/acme")
    first_visit_to(app, "/s/acme/thanks")
    assert flask_calls == ["/s/acme", "/s/acme", "/s/acme?lang=nb", "/s/acme", "/s/acme/thanks"]
    assert 'lang="nb"' in first_visit_to(app, "/s/acme?lang=nb")[1].get_data(as_text=True)


def test_a_new_day_or_a_due_purge_goes_to_flask(app, flask_calls, monkeypatch):
    """A survey may open or close at midnight, and Flask's hooks run the retention purge: both go through Flask."""
    first_visit_to(app)
    with monkeypatch.context() as patched:
        patched.setattr(first_visit, "today_in", lambda timezone: "2999-01-01")
        first_visit_to(app)
    assert len(flask_calls) == 2
    first_visit_to(app)  # kept again by the visit before, on today's date
    assert len(flask_calls) == 2
    app.extensions["purged_at"] = 0.0
    first_visit_to(app)
    assert len(flask_calls) == 3
    assert app.extensions["purged_at"] > 0.0  # Flask's hook ran the purge


def test_a_page_whose_session_holds_more_than_the_token_is_not_kept(app):
    """Only a response whose cookie carries the token's secret alone is the same for everyone."""
    layer = app.wsgi_app
    offer = first_visit.Offer("acme", 1, "2026-11-27", "a" * 40, b"TOKEN", b"KEY")
    serializer = app.session_interface.get_signing_serializer(app)
    body = b"<form>TOKEN KEY</form>"

    def cut(data: dict):
        cookie = f"session={serializer.dumps(data)}; HttpOnly; Path=/; SameSite=Lax"
        return layer._cut(offer, "200 OK", [("Content-Type", "text/html"), ("Set-Cookie", cookie)], body)

    assert cut({"csrf_token": "a" * 40}) is not None
    assert cut({"csrf_token": "a" * 40, "lang": "nb"}) is None
    assert cut({"csrf_token": "b" * 40}) is None


def test_a_busy_database_sends_the_first_visit_to_flask_never_a_500(app, flask_calls, monkeypatch):
    """The memory path has no error pages of its own: when its one read fails, Flask answers."""
    first_visit_to(app)

    def locked(db):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(first_visit, "form_version", locked)
    response = first_visit_to(app)[1]
    assert response.status_code == 200 and 'name="csrf_token"' in response.get_data(as_text=True)
    assert len(flask_calls) == 2


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}")
def test_a_browser_answers_a_form_served_from_memory_once(app, db, flask_calls, new_page, live_server):
    """In Chromium: the page from memory passes axe, sends, shows the profile; Back and Submit again store nothing."""
    new_page(PHONE).goto(f"{live_server}/s/acme")  # Flask answers; its page is kept
    page = new_page(PHONE)
    page.goto(f"{live_server}/s/acme")
    assert [path for path in flask_calls if path == "/s/acme"] == ["/s/acme"]  # the second came from memory
    found = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not found, [v["id"] for v in found]
    page.locator("#department").select_option("A")
    for item in app.extensions["instrument"].items:
        page.locator(f"label[for=q_{item.id}_4]").click()
    page.get_by_role("button", name="Submit your answers").click()
    expect(page.locator("#profile")).to_be_visible()
    page.go_back()
    page.wait_for_url(re.compile(r"/s/acme$"))
    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(r"/s/acme/thanks"))
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
