"""Follow-up between rounds: since last time (against compare.trend()), the follow-up statement, "you said, we did"."""

from __future__ import annotations

import re

import pytest
from helpers import close_all, csrf_token, fill_varied, new_survey_form

from survey import accounts, compare, followup, surveys
from survey.db import get_db
from survey.invitations import mailings, smtp
from survey.responses import Submission, save_response

DEPTS = [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}, {"code": "C", "name": "Gamma"}]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_round(app, slug: str, previous: str | None = None, **more) -> None:
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title=f"Round {slug}", language="en", departments=DEPTS,
            slug=slug, previous=previous, **more,
        )  # fmt: skip


def fill(app, slug: str, counts: dict[str, int], shift: float = 0.0, seed: int = 1, followup_value=None) -> None:
    """Store varied answers around 3.0 + shift for each department of a round."""
    fill_varied(app, counts, slug, seed, mean=3.0 + shift, sd=0.8, followup_value=followup_value)


def add_action(client, token, slug, **values) -> int:
    body = {"level": "owning", "theme": "roles", "title": "An action", **values}
    resp = client.post(f"/api/v1/surveys/{slug}/actions", json=body, headers=auth(token))
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


@pytest.fixture
def two_rounds(app, client, hr_token):
    """Round r1 (A, B shown; C too small) and r2 (everyone higher), with actions on r1."""
    new_round(app, "r1")
    new_round(app, "r2", "r1")
    fill(app, "r1", {"A": 15, "B": 12, "C": 2}, seed=1)
    fill(app, "r2", {"A": 15, "B": 12, "C": 9}, shift=0.8, seed=2)
    ids = {
        "org": add_action(client, hr_token, "r1", level="following", title="Monthly news summary"),
        "A": add_action(client, hr_token, "r1", level="owning", department="A", title="Owners for routines"),
        "C": add_action(client, hr_token, "r1", level="leading", department="C", title="Mentoring in Gamma"),
        "done": add_action(client, hr_token, "r1", level="observing", title="Intranet news page", status="done"),
    }
    return ids


def test_since_last_time_is_the_trend_cells_of_each_action(app, client, hr_token, two_rounds):
    close_all(app)
    body = client.get("/api/v1/surveys/r2/followup", headers=auth(hr_token)).json
    assert body["previous"]["slug"] == "r1" and body["released"] is True
    with app.app_context():
        db = get_db()
        trend = compare.trend(db, surveys.get_survey(db, "r2"))
    org = {c["id"]: c for c in trend["organisation"]}
    depts = {d["code"]: {c["id"]: c for c in d["levels"]} for d in trend["departments"]}
    assert "C" not in depts  # hidden in r1: the trend leaves it out
    by_title = {a["title"]: a for a in body["actions"]}
    assert set(by_title) == {"Monthly news summary", "Owners for routines", "Mentoring in Gamma", "Intranet news page"}
    for action in body["actions"]:
        cell = org[action["level"]]
        assert action["organisation"]["points"] == pytest.approx(cell["points"])
        assert action["organisation"]["significant"] == cell["significant"]
        assert action["organisation"]["p_adj"] == pytest.approx(cell["p_adj"])
    owners = by_title["Owners for routines"]
    assert owners["department_change"]["points"] == pytest.approx(depts["A"]["owning"]["points"])
    assert owners["department_change"]["significant"] == depts["A"]["owning"]["significant"]
    # The hidden department shows no figure of itself: only "suppressed".
    assert by_title["Mentoring in Gamma"]["department_change"] == {"suppressed": True}
    assert by_title["Intranet news page"]["status"] == "done"
    assert all(a["organisation"]["significant"] for a in body["actions"])  # the rise of 0.8 is large


def test_no_change_before_both_rounds_are_closed(app, client, hr_token, two_rounds):
    body = client.get("/api/v1/surveys/r2/followup", headers=auth(hr_token)).json
    assert body["released"] is False and len(body["actions"]) == 4
    assert all("organisation" not in a and "department_change" not in a for a in body["actions"])
    with app.app_context():
        db = get_db()
        assert surveys.get_survey(db, "r2").results_read_on is None
    first = client.get("/api/v1/surveys/r1/followup", headers=auth(hr_token)).json
    assert first == {"slug": "r1", "previous": None, "released": False, "actions": []}


def test_a_cell_hidden_in_the_previous_round_stays_hidden(app, client, hr_token):
    """B's leading level is hidden in r1 to protect C's: the follow-up of an action on it stays hidden."""
    new_round(app, "p1")
    new_round(app, "p2", "p1")
    leading = {it.id for it in app.extensions["instrument"].level("leading").items}
    fill(app, "p1", {"A": 12, "B": 8}, seed=4)
    fill(app, "p2", {"A": 12, "B": 8, "C": 6}, seed=5)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "p1")
        dept = surveys.department_by_code(db, survey, "C")
        for n in range(6):  # only 4 of C's 6 answer the leading statements in p1
            answers = {it.id: 3 for it in survey.instrument.items if not (n >= 4 and it.id in leading)}
            save_response(db, survey, Submission(dept.id, answers, None, None))
    action = add_action(client, hr_token, "p1", level="leading", department="B", title="Leadership in Beta")
    close_all(app)
    results = client.get("/api/v1/surveys/p1/results", headers=auth(hr_token)).json
    b_p1 = next(d for d in results["departments"] if d["code"] == "B")
    assert next(c for c in b_p1["dimensions"] if c["id"] == "leading").get("suppressed")
    body = client.get("/api/v1/surveys/p2/followup", headers=auth(hr_token)).json
    found = next(a for a in body["actions"] if a["id"] == action)
    assert found["department_change"] == {"suppressed": True}
    assert "points" in found["organisation"]


def test_the_comparison_page_shows_since_last_time(app, hr_client, two_rounds):
    close_all(app)
    page = hr_client.get("/admin/surveys/r2/compare").get_data(as_text=True)
    section = page.split('id="h-since"')[1].split("</section>")[0]
    assert "Owners for routines" in section and "Mentoring in Gamma" in section
    gamma_row = section.split("Mentoring in Gamma")[1].split("</tr>")[0]
    department_cell = gamma_row.rsplit("<td", 1)[1]
    assert "hidden" in department_cell and not re.search(r"[+−-]\d", department_cell)
    assert "▲" in section


def test_the_deck_shows_since_last_time(app, hr_client, two_rounds):
    close_all(app)
    page = hr_client.get("/admin/surveys/r2/present").get_data(as_text=True)
    assert 'id="slide-since"' in page and "Intranet news page" in page
    assert 'id="slide-trend"' in page


# --- The follow-up statement ---------------------------------------------------------------------------


def test_the_statement_is_asked_stored_apart_and_reported_on_its_own(app, client, db, hr_token, instrument):
    created = client.post(
        "/api/v1/surveys",
        json={"title": "Round 2", "departments": DEPTS, "followup_statement": True, "language": "en"},
        headers=auth(hr_token),
    )
    assert created.status_code == 201
    slug = created.json["slug"]
    answers = {it.id: 4 for it in instrument.items}
    sent = client.post(f"/api/v1/surveys/{slug}/responses", json={"department": "A", "answers": answers, "followup": 5})
    assert sent.status_code == 201, sent.json
    bad = client.post(f"/api/v1/surveys/{slug}/responses", json={"department": "A", "answers": answers, "followup": 6})
    assert bad.status_code == 422 and "followup" in bad.json["fields"]
    refused = client.post("/api/v1/surveys/acme/responses", json={"department": "A", "answers": answers, "followup": 3})
    assert refused.status_code == 422 and refused.json["fields"] == {
        "followup": "This survey has no follow-up statement."
    }
    # Through the form: the statement is on the page, after the questionnaire.
    page = client.get(f"/s/{slug}").get_data(as_text=True)
    assert followup.STATEMENT["en"] in page and 'name="followup"' in page
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', page).group(1)
    form = {f"q_{it.id}": "3" for it in instrument.items}
    form.update({"department": "B", "followup": "2", "csrf_token": csrf_token(page), "form_key": key})
    assert client.post(f"/s/{slug}", data=form).status_code == 200  # the thank-you page with the profile
    assert sorted(v for (v,) in db.execute("SELECT value FROM followup_answers")) == [2, 5]
    # It is no item of the instrument: the stored answers and the levels know nothing of it.
    assert db.execute("SELECT MAX(item) FROM answers").fetchone()[0] == len(instrument.items) - 1
    assert followup.STATEMENT["en"] not in client.get("/s/acme").get_data(as_text=True)


def test_statement_figures_follow_the_rules(app, client, hr_token):
    new_round(app, "s1", followup_statement=True)
    # A answers the statement 12 times, B 9 times, C 3 times (C: too few; B: hidden to protect C).
    fill(app, "s1", {"A": 12, "B": 9, "C": 3}, followup_value=lambda code, i: 5 if code == "A" else 1 + i % 5)
    body = client.get("/api/v1/surveys/s1/followup", headers=auth(hr_token)).json
    assert "organisation" not in body["statement"]  # open: no figures
    close_all(app)
    statement = client.get("/api/v1/surveys/s1/followup", headers=auth(hr_token)).json["statement"]
    assert statement["text"] == followup.STATEMENT["en"]
    assert statement["organisation"]["n"] == 24
    rows = {d["code"]: d for d in statement["departments"]}
    assert rows["A"]["favourable"] == 1.0 and rows["A"]["counts"] == [0, 0, 0, 0, 12]
    assert rows["C"] == {"code": "C", "name": "Gamma", "suppressed": True, "reason": "too_few"}
    assert rows["B"]["suppressed"] and rows["B"]["reason"] == "complementary"
    # The index and the levels are exactly those of a survey without the statement.
    results = client.get("/api/v1/surveys/s1/results", headers=auth(hr_token)).json
    assert [d["id"] for d in results["dimensions"]] == [lv.id for lv in app.extensions["instrument"].levels]


def test_hr_form_creates_a_short_survey_with_the_statement(app, hr_client, db):
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    form = new_survey_form(
        page,
        title="Pulse",
        departments="A, Alpha\nB, Beta",
        previous="acme",
        instrument="short",
        followup_statement="y",
    )
    assert hr_client.post("/admin/surveys/new", data=form).status_code == 302
    with app.app_context():
        survey = surveys.get_survey(get_db(), "pulse")
        assert survey.kind == "short" and len(survey.instrument.items) == 6
        assert followup.statement(get_db(), survey) == followup.STATEMENT


# --- "You said, we did" ----------------------------------------------------------------------------------


def test_you_said_we_did_on_the_start_page_and_in_invitations(app, client, hr_token):
    new_round(app, "w1")
    new_round(app, "w2", "w1")
    add_action(client, hr_token, "w1", title="Still planned")
    done = add_action(client, hr_token, "w1", title="News on paper in the break room", status="done")
    page = client.get("/s/w2").get_data(as_text=True)
    assert "Since the last survey, we have done this" in page
    assert "News on paper in the break room" in page and "Still planned" not in page
    assert "Since the last survey" not in client.get("/s/w1").get_data(as_text=True)
    # Marked done while the new round is open: the (cached) start page says so at once.
    later = add_action(client, hr_token, "w1", title="Team leads go through the summary")
    client.patch(f"/api/v1/surveys/w1/actions/{later}", json={"status": "done"}, headers=auth(hr_token))
    page = client.get("/s/w2").get_data(as_text=True)
    assert "Team leads go through the summary" in page and "News on paper" in page
    # At most three titles, then "and N more".
    for n in range(3):
        add_action(client, hr_token, "w1", title=f"Extra {n}", status="done")
    page = client.get("/s/w2").get_data(as_text=True)
    assert "and 2 more" in page
    client.delete(f"/api/v1/surveys/w1/actions/{done}", headers=auth(hr_token))

    settings = smtp.SmtpSettings("127.0.0.1", 25, "none", "", "", "HR <hr@example.org>", 5)
    with app.test_request_context():
        survey = surveys.get_survey(get_db(), "w2")
        recipient = {"email": "ann@example.org", "language": "en", "department": "Alpha"}
        message = mailings.compose(settings, survey, "invitation", recipient, "tok")
        body = message.get_content()
        assert "Since the last survey, we have done this:" in body and "- Extra 2" in body and "- and 1 more" in body
        plain = mailings.compose(settings, surveys.get_survey(get_db(), "w1"), "invitation", recipient, "tok")
        assert "Since the last survey" not in plain.get_content()
        assert "\n\n\n" not in plain.get_content()


def test_facilitator_token_reads_the_followup(app, client):
    with app.app_context():
        token = accounts.create_token(get_db(), "facilitator")
    assert client.get("/api/v1/surveys/acme/followup", headers=auth(token)).status_code == 200
    assert client.get("/api/v1/surveys/acme/followup").status_code == 401


def test_the_two_round_demo_has_a_plan_to_follow_up(app, client, hr_token):
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "120", "--language", "en", "--rounds", "2"])
    assert result.exit_code == 0, result.output
    body = client.get("/api/v1/surveys/demo/followup", headers=auth(hr_token)).json
    assert body["released"] and [a["status"] for a in body["actions"]].count("done") == 2
    assert all("organisation" in a for a in body["actions"])
    assert "Since the last survey" not in client.get("/s/demo-open").get_data(as_text=True)
