"""A survey's life: drafts, opening and closing by date (with no process running), departments until the first
answer, the next round, archive; pages for HR, the API, and what respondents see."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, add_responses, csrf_token, login, new_survey_form

from survey import invitations, surveys
from survey.db import get_db
from survey.responses import Submission, SurveyClosed, store

TODAY = dt.date.today()


def day(offset: int) -> str:
    """Return the date `offset` days from today where the organisation is (the app's schedule days)."""
    return (dt.date.fromisoformat(surveys.local_today()) + dt.timedelta(days=offset)).isoformat()


def api(client, method: str, path: str, token: str, body: dict | None = None):
    """Call the JSON API with a bearer token."""
    return client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})


NEW = {"title": "Round two", "language": "en", "departments": [{"code": "A", "name": "Alpha", "headcount": 9}]}


def survey_of(app, slug: str) -> surveys.Survey:
    """Read a survey the way every page does (a schedule that came due is applied)."""
    with app.app_context():
        return surveys.get_survey(get_db(), slug)


def set_column(db, slug: str, **values) -> None:
    """Change columns of a survey behind the app's back (time passing, as far as the schedule is concerned)."""
    for name, value in values.items():
        db.execute(f"UPDATE surveys SET {name} = ? WHERE slug = ?", [value, slug])
    db.conn.commit()


# --- drafts and opening ------------------------------------------------------------------------------


def test_a_draft_takes_no_answers_and_says_it_is_not_open_yet(app, client, hr_token):
    """A draft made through the API: the open link says 'not open yet', the API refuses answers with 409."""
    created = api(client, "POST", "/api/v1/surveys", hr_token, {**NEW, "slug": "r2", "draft": True})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "draft"
    page = client.get("/s/r2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "This survey is not open yet" in text and "<form" not in text.split("</header>")[1]
    answer = client.post("/api/v1/surveys/r2/responses", json={"department": "A", "answers": {"obs1": 4}})
    assert answer.status_code == 409
    assert "not open yet" in answer.get_json()["error"]
    assert client.post("/s/r2", data={"department": "A", "q_obs1": "4"}).status_code == 409


def test_a_draft_with_an_opening_day_names_it_and_opens_by_itself(app, client, hr_token, db):
    """A draft set to open on a day: respondents see the day; once the day has come, reading it opens it."""
    body = {**NEW, "slug": "r2", "opens_at": day(3), "closes_at": day(10)}
    assert api(client, "POST", "/api/v1/surveys", hr_token, body).get_json()["status"] == "draft"
    with app.test_request_context():
        from survey.i18n import day as written

        opens = written(day(3), "en")
    assert f"It opens on {opens}" in client.get("/s/r2").get_data(as_text=True)
    set_column(db, "r2", opens_at=day(0))  # the day has come: nothing runs, the next reading opens it
    assert survey_of(app, "r2").status == "open"
    assert "<form" in client.get("/s/r2").get_data(as_text=True)
    assert survey_of(app, "r2").opens_at == day(0)


def test_opening_a_draft_by_hand_and_with_the_api(app, hr_client, client, hr_token):
    """HR opens a draft on its page (CSRF-checked); the API opens another; a survey that is not a draft: 409."""
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], "Draft", "en", NEW["departments"], "d1", draft=True
        )
        surveys.create_survey(
            get_db(), app.extensions["instrument"], "Draft", "en", NEW["departments"], "d2", draft=True
        )
    page = hr_client.get("/admin/surveys/d1").get_data(as_text=True)
    assert "Draft: nobody can answer yet. It opens when you open it." in page
    assert hr_client.post("/admin/surveys/d1/open").status_code == 400  # no CSRF token
    assert survey_of(app, "d1").is_draft
    response = hr_client.post("/admin/surveys/d1/open", data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "The survey is open" in response.get_data(as_text=True)
    assert survey_of(app, "d1").is_open and survey_of(app, "d1").opens_at == surveys.local_today()
    assert api(client, "POST", "/api/v1/surveys/d2/open", hr_token).get_json() == {"slug": "d2", "status": "open"}
    assert api(client, "POST", "/api/v1/surveys/d2/open", hr_token).status_code == 409


def test_the_new_survey_form_makes_a_draft_or_a_survey_that_opens_on_a_day(hr_client, app):
    """The HR form: 'keep it as a draft', or 'on a day I choose' (which needs the day), with a last day."""
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    assert 'name="start"' in page and 'type="date"' in page
    base = new_survey_form(page, title="Spring", departments="A, Alpha, 10")
    missing = hr_client.post("/admin/surveys/new", data={**base, "slug": "s1", "start": "date"})
    assert missing.status_code == 400
    assert "Choose the day it opens" in missing.get_data(as_text=True)
    ok = hr_client.post(
        "/admin/surveys/new", data={**base, "slug": "s1", "start": "date", "opens_at": day(5), "closes_at": day(20)}
    )
    assert ok.status_code == 302
    made = survey_of(app, "s1")
    assert (made.status, made.opens_at, made.closes_at) == ("draft", day(5), day(20))
    assert hr_client.post("/admin/surveys/new", data={**base, "slug": "s2", "start": "draft"}).status_code == 302
    assert survey_of(app, "s2").is_draft and survey_of(app, "s2").opens_at is None
    past = hr_client.post("/admin/surveys/new", data={**base, "slug": "s3", "closes_at": day(-1)})
    assert past.status_code == 400 and "cannot be in the past" in past.get_data(as_text=True)
    assert hr_client.post("/admin/surveys/new", data={**base, "slug": "s4"}).status_code == 302
    assert survey_of(app, "s4").is_open  # no choice sent: open now, as before


# --- closing by date ---------------------------------------------------------------------------------


def test_a_survey_closes_by_itself_after_its_last_day_when_next_read(app, client, db, hr_token):
    """No process runs: the first reading after the last day closes it (closed_on set, file rebuilt, released)."""
    response = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"closes_at": day(0)})
    assert response.status_code == 200 and response.get_json()["closes_at"] == day(0)
    assert survey_of(app, "acme").is_open  # today is still its last day
    set_column(db, "acme", closes_at=day(-1))
    assert db.execute("SELECT status FROM surveys WHERE slug = 'acme'").fetchone()[0] == "open"
    page = client.get("/s/acme")  # a respondent arriving a day late
    assert "This survey is closed" in page.get_data(as_text=True)
    status, closed_on = db.execute("SELECT status, closed_on FROM surveys WHERE slug = 'acme'").fetchone()
    assert status == "closed" and closed_on


def test_the_survey_list_applies_due_schedules(app, hr_client, db):
    """Listing the surveys closes one whose last day has passed (a page nobody else opened)."""
    set_column(db, "acme", closes_at=day(-2))
    hr_client.get("/admin/")
    assert db.execute("SELECT status FROM surveys WHERE slug = 'acme'").fetchone()[0] == "closed"


def test_the_open_link_cache_notices_the_day_passing(app, client, monkeypatch):
    """The open link keeps its survey in memory; a last day that passes without any write is still noticed."""
    with app.app_context():
        surveys.set_schedule(get_db(), surveys.get_survey(get_db(), "acme"), None, day(0))
    assert "<form" in client.get("/s/acme").get_data(as_text=True)
    tomorrow = day(1)
    monkeypatch.setattr(surveys, "local_today", lambda: tomorrow)
    assert "This survey is closed" in client.get("/s/acme").get_data(as_text=True)
    assert survey_of(app, "acme").is_closed


def test_an_answer_after_the_last_day_is_refused_even_before_the_survey_is_read(app, db):
    """The write itself checks the last day (a form opened before midnight and sent after)."""
    set_column(db, "acme", closes_at=day(-1))
    with app.app_context():
        row = next(iter(get_db().query("SELECT * FROM surveys WHERE slug = 'acme'")))
        survey = surveys._survey(row)  # as read before the day passed: still open
        dept = surveys.department_by_code(get_db(), survey, "A")
        with pytest.raises(SurveyClosed):
            store(get_db(), survey, Submission(dept.id, {"obs1": 4}, None, None), last_day=day(0))


def test_reopening_drops_a_last_day_that_has_passed(app, db):
    """A survey closed by its date and reopened before anyone read it does not close again at once."""
    set_column(db, "acme", closes_at=day(-1))
    assert survey_of(app, "acme").is_closed
    with app.app_context():
        reopened = surveys.reopen_survey(get_db(), surveys.get_survey(get_db(), "acme"))
    assert reopened.is_open and reopened.closes_at is None
    assert survey_of(app, "acme").is_open


def test_dates_are_checked(app, client, hr_token):
    """A last day in the past, before the opening day, a new opening day of an open survey, dates of a closed one."""
    bad = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"closes_at": day(-1)})
    assert bad.status_code == 409 and "cannot be in the past" in bad.get_json()["error"]
    moved = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"opens_at": day(4)})
    assert moved.status_code == 409 and "opened already" in moved.get_json()["error"]
    body = {**NEW, "slug": "r2", "opens_at": day(5), "closes_at": day(3)}
    early = api(client, "POST", "/api/v1/surveys", hr_token, body)
    assert early.status_code == 422 and "on or after the opening day" in early.get_json()["fields"]["closes_at"]
    assert api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"closes_at": "2026-02-30"}).status_code == 409
    assert api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"closes_at": "soon"}).status_code == 422
    api(client, "POST", "/api/v1/surveys/acme/close", hr_token)
    closed = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"closes_at": day(3)})
    assert closed.status_code == 409 and "reopen it before" in closed.get_json()["error"]


def test_hr_sets_the_last_day_on_the_survey_page(app, hr_client):
    """The survey page's date form (CSRF-checked) saves the last day and says the survey closes by itself."""
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert "It closes when you close it." in page
    assert hr_client.post("/admin/surveys/acme/schedule", data={"closes_at": day(7)}).status_code == 400
    response = hr_client.post(
        "/admin/surveys/acme/schedule",
        data={"closes_at": day(7), "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "The dates are saved." in response.get_data(as_text=True)
    assert "It closes by itself after" in response.get_data(as_text=True)
    assert survey_of(app, "acme").closes_at == day(7)


# --- departments until the first answer ---------------------------------------------------------------


def test_departments_can_be_edited_until_the_first_answer(app, hr_client):
    """Rename, change a headcount, add and remove (matched by code, names may swap); then an answer locks them."""
    page = hr_client.get("/admin/surveys/acme/departments").get_data(as_text=True)
    assert "A,Alpha &amp; &lt;Omega&gt;,20" in page  # today's departments, one a line
    text = "A, Beta, 21\nB, Alpha, 8\nD, Delta"
    response = hr_client.post(
        "/admin/surveys/acme/departments", data={"departments": text, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    with app.app_context():
        depts = surveys.departments(get_db(), surveys.get_survey(get_db(), "acme"))
    assert [(d.code, d.name, d.headcount) for d in depts] == [
        ("A", "Beta", 21),
        ("B", "Alpha", 8),
        ("D", "Delta", None),
    ]
    add_responses(app, "A", 1)
    locked = hr_client.post(
        "/admin/surveys/acme/departments", data={"departments": "A, Beta, 30", "csrf_token": csrf_token(page)}
    )
    assert locked.status_code == 409
    assert "can no longer be changed: the survey has answers" in locked.get_data(as_text=True)
    assert "Edit departments" not in hr_client.get("/admin/surveys/acme").get_data(as_text=True)


def test_the_api_changes_departments_until_the_first_answer(app, client, hr_token):
    """PATCH departments: 200 before any answer; duplicate names 422; after an answer 409 with the reason."""
    new = [{"code": "A", "name": "Alpha", "headcount": 5}, {"code": "E", "name": "Echo"}]
    changed = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"departments": new})
    assert changed.status_code == 200
    assert [d["code"] for d in changed.get_json()["departments"]] == ["A", "E"]
    twins = [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "alpha"}]
    assert api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"departments": twins}).status_code == 422
    add_responses(app, "A", 1)
    refused = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"departments": new})
    assert refused.status_code == 409
    assert "has answers" in refused.get_json()["fields"]["departments"]


def test_a_department_with_invitations_cannot_be_removed(app, client, hr_token):
    """Removing a department would delete its invitations: refused, naming the department."""
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        invitations.create_invitations(get_db(), survey, surveys.department_by_code(get_db(), survey, "B"), 2)
    body = {"departments": [{"code": "A", "name": "Alpha"}]}
    refused = api(client, "PATCH", "/api/v1/surveys/acme", hr_token, body)
    assert (
        refused.status_code == 409 and "'B' has 2 personal invitations" in refused.get_json()["fields"]["departments"]
    )


# --- next round and archive ---------------------------------------------------------------------------


def test_copy_as_the_next_round_makes_a_draft_that_follows_this_survey(app, hr_client, client, hr_token):
    """The copy: a draft, same departments and headcounts and settings, previous = this survey, a new address."""
    page = hr_client.get("/admin/surveys/acme/next-round").get_data(as_text=True)
    assert 'value="Acme 2026"' in page
    response = hr_client.post(
        "/admin/surveys/acme/next-round",
        data={"title": "Acme 2027", "slug": "acme-2027", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/surveys/acme-2027")
    copy = api(client, "GET", "/api/v1/surveys/acme-2027", hr_token).get_json()
    original = api(client, "GET", "/api/v1/surveys/acme", hr_token).get_json()
    assert copy["status"] == "draft" and copy["previous"] == "acme"
    assert copy["departments"] == original["departments"]
    assert copy["instrument"] == original["instrument"]
    with app.app_context():
        depts = surveys.departments(get_db(), surveys.get_survey(get_db(), "acme-2027"))
    assert [d.headcount for d in depts] == [20, 8, None]
    taken = hr_client.post(
        "/admin/surveys/acme/next-round", data={"title": "Again", "slug": "acme-2027", "csrf_token": csrf_token(page)}
    )
    assert taken.status_code == 400 and "is taken" in taken.get_data(as_text=True)
    via_api = api(client, "POST", "/api/v1/surveys/acme/next-round", hr_token, {})
    assert via_api.status_code == 201 and via_api.get_json()["title"] == "Acme 2026"


def test_archive_and_unarchive(app, hr_client, client, hr_token):
    """An open survey cannot be archived; a closed one moves under 'Archived' and comes back."""
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    token = csrf_token(page)
    refused = hr_client.post("/admin/surveys/acme/archive", data={"csrf_token": token}, follow_redirects=True)
    assert "before archiving it" in refused.get_data(as_text=True)
    api(client, "POST", "/api/v1/surveys/acme/close", hr_token)
    assert hr_client.post("/admin/surveys/acme/archive", data={"csrf_token": token}).status_code == 303
    listing = hr_client.get("/admin/").get_data(as_text=True)
    main, archived = listing.split('id="h-archived"')
    assert '/admin/surveys/acme"' not in main and '/admin/surveys/acme"' in archived
    assert "Archived on" in hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert hr_client.post("/admin/surveys/acme/unarchive", data={"csrf_token": token}).status_code == 303
    assert 'id="h-archived"' not in hr_client.get("/admin/").get_data(as_text=True)
    assert api(client, "PATCH", "/api/v1/surveys/acme", hr_token, {"archived": True}).get_json()["archived"] is True


@pytest.mark.parametrize(
    "path",
    [
        "/admin/surveys/acme/open",
        "/admin/surveys/acme/schedule",
        "/admin/surveys/acme/departments",
        "/admin/surveys/acme/archive",
        "/admin/surveys/acme/unarchive",
        "/admin/surveys/acme/next-round",
    ],
)
def test_facilitators_cannot_change_a_surveys_life(app, path):
    """Every life-cycle action is HR's: a facilitator gets 403."""
    client = app.test_client()
    login(client, FAC_EMAIL, FAC_PASSWORD)
    page = client.get("/admin/").get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token(page)}).status_code == 403


def test_facilitators_get_no_life_cycle_api(client, app):
    """The API's life-cycle calls need an HR token."""
    with app.app_context():
        from survey import accounts

        token = accounts.create_token(get_db(), "facilitator")
    assert api(client, "PATCH", "/api/v1/surveys/acme", token, {"archived": True}).status_code == 403
    assert api(client, "POST", "/api/v1/surveys/acme/open", token).status_code == 403
    assert api(client, "POST", "/api/v1/surveys/acme/next-round", token, {}).status_code == 403


# --- one period everywhere ----------------------------------------------------------------------------


def test_the_demos_previous_round_has_one_period_in_the_list_the_trend_and_the_report(app, hr_client):
    """The earlier demo round: the list's period ends on the day the trend names it by; the creation day is gone."""
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "60", "--rounds", "2", "--language", "en"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        from survey import compare
        from survey.i18n import day as written

        db = get_db()
        previous = surveys.get_survey(db, "demo-previous")
        start, end = written(previous.starts_on, "en"), written(previous.closed_on, "en")
        history = compare.trend(db, surveys.get_survey(db, "demo"))["rounds"]
    assert previous.starts_on == previous.created_on and previous.closed_on > previous.starts_on
    listing = hr_client.get("/admin/").get_data(as_text=True)
    row = listing.split("/admin/surveys/demo-previous")[1].split("</tr>")[0]
    assert f"{start} – {end}" in row
    assert history[0]["slug"] == "demo-previous" and history[0]["date"] == previous.closed_on
    figure = hr_client.get("/admin/surveys/demo/compare").get_data(as_text=True)
    assert f"closed {end}" in figure
