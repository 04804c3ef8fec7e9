"""Action plans: the JSON API, the pages, one-click recommendations, exports, roles and bad input."""

from __future__ import annotations

import csv
import io
import re

import pytest
from helpers import CHROMIUM, FAC_EMAIL, FAC_PASSWORD, close_survey, csrf_token, login
from helpers import fill_varied as fill
from openpyxl import load_workbook

from survey import accounts, actions, surveys
from survey.db import get_db

ACTION = {"level": "owning", "theme": "roles", "title": "Every team names an owner for its routines"}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fac_token(app):
    with app.app_context():
        return accounts.create_token(get_db(), "facilitator")


def count_actions(db) -> int:
    return db.execute("SELECT COUNT(*) FROM actions").fetchone()[0]


# --- The JSON API ---------------------------------------------------------------------------------------


def test_hr_and_facilitator_create_and_edit_hr_deletes(client, db, hr_token, fac_token):
    made = client.post("/api/v1/surveys/acme/actions", json={**ACTION, "department": "a"}, headers=auth(fac_token))
    assert made.status_code == 201, made.json
    body = made.json
    assert body["department"] == "A" and body["status"] == "planned" and body["notes"] == []
    action_id = body["id"]
    other = client.post(
        "/api/v1/surveys/acme/actions",
        json={**ACTION, "title": "Monthly news summary", "due": "2026-09-30", "owner": "HR", "note": "Started"},
        headers=auth(hr_token),
    ).json
    assert "department" not in other and other["notes"][0]["text"] == "Started"

    changed = client.patch(
        f"/api/v1/surveys/acme/actions/{action_id}",
        json={"status": "in_progress", "note": "Half the teams are done", "owner": "Team leads"},
        headers=auth(fac_token),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["status"] == "in_progress" and changed.json["owner"] == "Team leads"
    assert changed.json["notes"] == [
        {
            "written_on": changed.json["updated_on"],
            "author": "API token (facilitator)",
            "status": "in_progress",
            "text": "Half the teams are done",
        }
    ]
    cleared = client.patch(
        f"/api/v1/surveys/acme/actions/{action_id}", json={"department": None, "owner": None}, headers=auth(hr_token)
    )
    assert "department" not in cleared.json and "owner" not in cleared.json

    listed = client.get("/api/v1/surveys/acme/actions", headers=auth(fac_token)).json["actions"]
    assert [a["id"] for a in listed] == [other["id"], action_id]  # by due date, those without one last
    only = client.get("/api/v1/surveys/acme/actions?status=in_progress", headers=auth(fac_token)).json["actions"]
    assert [a["id"] for a in only] == [action_id]

    refused = client.delete(f"/api/v1/surveys/acme/actions/{action_id}", headers=auth(fac_token))
    assert refused.status_code == 403 and "hr" in refused.json["error"]
    assert count_actions(db) == 2
    gone = client.delete(f"/api/v1/surveys/acme/actions/{action_id}", headers=auth(hr_token))
    assert gone.status_code == 200 and gone.json == {"id": action_id, "deleted": True}
    assert count_actions(db) == 1
    assert db.execute("SELECT COUNT(*) FROM action_notes WHERE action_id = ?", [action_id]).fetchone()[0] == 0
    assert client.delete(f"/api/v1/surveys/acme/actions/{action_id}", headers=auth(hr_token)).status_code == 404


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (
            {"level": "climbing"},
            {"level": "Choose a level: observing, following, endorsing, contributing, owning, leading."},
        ),
        ({"theme": "budget"}, {"theme": "Choose a theme: goals, roles, means, follow_up, anchoring, freedom."}),
        ({"due": "2026-02-30"}, {"due": "'2026-02-30' is not a date in the calendar; write YYYY-MM-DD."}),
        ({"due": "2026-13-01"}, {"due": "'2026-13-01' is not a date in the calendar; write YYYY-MM-DD."}),
        ({"due": "next week"}, {"due": "Give the due date as YYYY-MM-DD, or leave it out."}),
        ({"department": "ZZ"}, {"department": "Unknown department code; see GET /surveys/<slug> for the codes."}),
        ({"title": "x" * 301}, {"title": "Keep the title to at most 300 characters."}),
        ({"title": "   "}, {"title": "Give the action a title of 1-300 characters."}),
        ({"title": "a\x00b"}, {"title": "Remove the control characters from the text."}),
        (
            {"owner": "o" * 121},
            {"owner": "Give the owner as a name or a role of at most 120 characters, or leave it out."},
        ),
        (
            {"owner_email": "not an address"},
            {"owner_email": "Give the owner's e-mail address (name@example.org), or leave it out."},
        ),
        ({"note": "n" * 2001}, {"note": "Write the progress note in 1-2,000 characters."}),
        ({"status": "finished"}, {"status": "Choose a status: planned, in_progress, done, dropped."}),
        ({"level": 3}, {"level": "Choose a level: observing, following, endorsing, contributing, owning, leading."}),
        ({"colour": "red"}, {"colour": "Unknown field; remove it."}),
    ],
)
def test_bad_actions_get_422_with_a_message_per_field(client, db, hr_token, change, fields):
    resp = client.post("/api/v1/surveys/acme/actions", json={**ACTION, **change}, headers=auth(hr_token))
    assert resp.status_code == 422
    assert resp.json == {"error": "Invalid action.", "fields": fields}
    assert count_actions(db) == 0


def test_bad_changes_get_422_and_change_nothing(client, db, hr_token):
    action_id = client.post("/api/v1/surveys/acme/actions", json=ACTION, headers=auth(hr_token)).json["id"]
    path = f"/api/v1/surveys/acme/actions/{action_id}"
    for body, field in [
        ({}, "body"),
        ({"level": None}, "level"),
        ({"due": "2025-04-31"}, "due"),
        ({"department": "nope"}, "department"),
        ({"title": "t" * 400}, "title"),
    ]:
        resp = client.patch(path, json=body, headers=auth(hr_token))
        assert resp.status_code == 422 and list(resp.json["fields"]) == [field], (body, resp.json)
    assert client.patch(path, data="{", headers=auth(hr_token), content_type="application/json").status_code == 400
    assert (
        client.patch("/api/v1/surveys/acme/actions/999", json={"status": "done"}, headers=auth(hr_token)).status_code
        == 404
    )
    stored = client.get("/api/v1/surveys/acme/actions", headers=auth(hr_token)).json["actions"][0]
    assert stored["title"] == ACTION["title"] and stored["status"] == "planned" and stored["notes"] == []


def test_an_action_belongs_to_its_survey(app, client, hr_token):
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Other", language="en",
            departments=[{"code": "A", "name": "A"}], slug="other",
        )  # fmt: skip
    action_id = client.post("/api/v1/surveys/acme/actions", json=ACTION, headers=auth(hr_token)).json["id"]
    assert (
        client.patch(
            f"/api/v1/surveys/other/actions/{action_id}", json={"status": "done"}, headers=auth(hr_token)
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/surveys/other/actions/{action_id}", headers=auth(hr_token)).status_code == 404
    assert client.get("/api/v1/surveys/other/actions", headers=auth(hr_token)).json["actions"] == []
    assert client.get("/api/v1/surveys/nope/actions", headers=auth(hr_token)).status_code == 404
    assert client.get("/api/v1/surveys/acme/actions").status_code == 401


# --- Pages ------------------------------------------------------------------------------------------------


def post_action(client, path: str, data: dict, page: str = "/admin/surveys/acme/actions"):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_the_plan_page_adds_edits_notes_and_filters(hr_client, db):
    resp = post_action(
        hr_client,
        "/admin/surveys/acme/actions",
        {**ACTION, "department": "B", "due": "2026-06-01", "owner": "Beta's manager"},
    )
    assert resp.status_code == 302
    action_id = db.execute("SELECT id FROM actions").fetchone()[0]
    page = hr_client.get("/admin/surveys/acme/actions").get_data(as_text=True)
    assert ACTION["title"] in page and "Beta&#39;s manager" in page and "2026-06-01" in page
    assert hr_client.get("/admin/surveys/acme/actions?status=done").get_data(as_text=True).count(ACTION["title"]) == 0
    assert ACTION["title"] in hr_client.get("/admin/surveys/acme/actions?department=b").get_data(as_text=True)
    assert ACTION["title"] not in hr_client.get("/admin/surveys/acme/actions?department=organisation").get_data(
        as_text=True
    )

    edit = f"/admin/surveys/acme/actions/{action_id}"
    resp = post_action(hr_client, f"{edit}/notes", {"note": "Kick-off held", "status": "in_progress"}, edit)
    assert resp.status_code == 302
    resp = post_action(hr_client, edit, {**ACTION, "title": "Renamed", "status": "in_progress", "department": ""}, edit)
    assert resp.status_code == 302
    row = db.execute("SELECT title, department_id, due, owner, status FROM actions").fetchone()
    # Every field of the edit form is sent: fields left blank are cleared.
    assert row == ("Renamed", None, None, None, "in_progress")
    page = hr_client.get(edit).get_data(as_text=True)
    assert "Kick-off held" in page and "hr@example.org" in page


def test_the_plan_form_shows_what_to_fix(hr_client, db):
    resp = post_action(
        hr_client, "/admin/surveys/acme/actions", {"level": "top", "theme": "roles", "title": "", "due": "2026-02-29"}
    )
    assert resp.status_code == 422
    errors = re.findall(r'<p class="error" id="[a-z_]+-error">([^<]*)</p>', resp.get_data(as_text=True))
    assert errors == [
        "Give the action a title of 1-300 characters.",
        "Choose a level: observing, following, endorsing, contributing, owning, leading.",
        "&#39;2026-02-29&#39; is not a date in the calendar; write YYYY-MM-DD.",
    ]
    assert count_actions(db) == 0


def test_facilitator_edits_but_cannot_delete_hr_can(app, hr_client, fac_client, db):
    assert post_action(fac_client, "/admin/surveys/acme/actions", ACTION).status_code == 302
    action_id = db.execute("SELECT id FROM actions").fetchone()[0]
    edit = f"/admin/surveys/acme/actions/{action_id}"
    assert "Delete the action" not in fac_client.get(edit).get_data(as_text=True)
    assert post_action(fac_client, f"{edit}/delete", {}, edit).status_code == 403
    assert count_actions(db) == 1
    assert "Delete the action" in hr_client.get(edit).get_data(as_text=True)
    assert post_action(hr_client, f"{edit}/delete", {}, edit).status_code == 302
    assert count_actions(db) == 0


def test_plan_pages_need_a_login(client):
    for path in ("/admin/surveys/acme/actions", "/admin/surveys/acme/actions/print", "/admin/surveys/acme/actions.csv"):
        assert client.get(path).status_code == 302


def recommendation_forms(html: str) -> list[dict]:
    """Return the one-click "add as action" forms of a page, as the fields they post."""
    forms = []
    for form in re.findall(r'<form method="post" action="[^"]*/actions" class="add-action">(.*?)</form>', html, re.S):
        forms.append(dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', form)))
    return forms


@pytest.mark.parametrize(
    "page", ["/admin/surveys/acme/results", "/admin/surveys/acme/compare", "/admin/surveys/acme/present"]
)
def test_a_recommendation_becomes_an_action_with_one_click(app, fac_client, db, instrument, page):
    fill(app, {"A": 14, "B": 12, "C": 10}, shift={"A": 0.9, "B": -0.9})
    close_survey(app)
    html = fac_client.get(page).get_data(as_text=True)
    forms = recommendation_forms(html)
    assert forms, "no one-click recommendation on the page"
    chosen = forms[-1]
    level = instrument.level(chosen["level"])
    texts = {a.text["en"] for rec in level.recommendations.values() for a in rec.actions}
    assert chosen["title"].replace("&#39;", "'").replace("&amp;", "&") in texts
    resp = fac_client.post("/admin/surveys/acme/actions", data=chosen)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(page)
    stored = db.execute("SELECT level, theme, title, department_id, status FROM actions").fetchall()
    assert len(stored) == 1 and stored[0][0] == chosen["level"] and stored[0][1] == chosen["theme"]
    assert stored[0][4] == "planned"
    if page.endswith("compare"):
        # A significant negative difference gives advice for that department.
        assert any(f.get("department") == "B" for f in forms)


def test_an_action_on_a_hidden_department_shows_no_figure_of_it(app, hr_client, hr_token, client, db):
    fill(app, {"A": 14, "B": 9, "C": 2})  # C too few; B hidden so that C cannot be worked out
    close_survey(app)
    for code in ("A", "B", "C"):
        client.post("/api/v1/surveys/acme/actions", json={**ACTION, "department": code}, headers=auth(hr_token))
    res = client.get("/api/v1/surveys/acme/results", headers=auth(hr_token)).json
    shown = {d["code"]: d for d in res["departments"]}
    assert shown["C"]["suppressed"] and shown["B"]["suppressed"] and not shown["A"]["suppressed"]
    a_score = round(next(c for c in shown["A"]["dimensions"] if c["id"] == "owning")["score"])
    page = hr_client.get("/admin/surveys/acme/actions").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    assert len(rows) == 3
    by_dept = {("Alpha" if "Alpha" in r else "Beta" if "Beta" in r else "Gamma"): r for r in rows}
    assert f'<td class="num">{a_score}</td>' in by_dept["Alpha"]
    assert "hidden: too few answers" in by_dept["Gamma"]
    assert "hidden to protect a smaller group" in by_dept["Beta"]
    for name in ("Beta", "Gamma"):
        assert not re.search(r'<td class="num">\d+</td>', by_dept[name])
    with app.app_context():
        cells = actions.level_cells(get_db(), surveys.get_survey(get_db(), "acme"))
    assert all(set(cells[(code, lv)]) == {"hidden"} for code in ("B", "C") for lv in ("owning", "leading"))
    for action_id in (2, 3):
        one = hr_client.get(f"/admin/surveys/acme/actions/{action_id}").get_data(as_text=True)
        assert "Level score now:" in one and "<strong>" not in one.split("Level score now:")[1].split("</p>")[0]


def test_no_figures_while_the_survey_is_open(app, hr_client, hr_token, client):
    fill(app, {"A": 14, "B": 12, "C": 10})
    client.post("/api/v1/surveys/acme/actions", json=ACTION, headers=auth(hr_token))
    page = hr_client.get("/admin/surveys/acme/actions").get_data(as_text=True)
    assert "Level score now" not in page
    with app.app_context():
        assert surveys.get_survey(get_db(), "acme").results_read_on is None


def test_print_csv_and_xlsx(app, hr_client, hr_token, client):
    client.post(
        "/api/v1/surveys/acme/actions",
        json={**ACTION, "title": '=HYPERLINK("x")', "note": "first"},
        headers=auth(hr_token),
    )
    client.post(
        "/api/v1/surveys/acme/actions",
        json={**ACTION, "title": "Dropped idea", "status": "dropped"},
        headers=auth(hr_token),
    )
    client.post(
        "/api/v1/surveys/acme/actions",
        json={**ACTION, "title": "Æøå plan", "department": "A", "due": "2026-10-01"},
        headers=auth(hr_token),
    )
    printed = hr_client.get("/admin/surveys/acme/actions/print")
    html = printed.get_data(as_text=True)
    assert printed.status_code == 200 and "Æøå plan" in html and "Dropped idea" not in html
    assert "plan-print.css" in html and "<nav" not in html
    data = hr_client.get("/admin/surveys/acme/actions.csv")
    assert data.mimetype == "text/csv" and "attachment" in data.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(data.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == actions.HEADER
    titles = [r[3] for r in rows[1:]]
    assert '\'=HYPERLINK("x")' in titles and "Æøå plan" in titles and "Dropped idea" in titles
    assert any(r[4] == "A" and r[7] == "2026-10-01" for r in rows[1:])
    book = load_workbook(io.BytesIO(hr_client.get("/admin/surveys/acme/actions.xlsx").data))
    sheet = list(book["actions"].values)
    assert list(sheet[0]) == actions.HEADER and len(sheet) == 4


def test_the_survey_page_leads_to_the_workshop(app, hr_client):
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert "/admin/surveys/acme/actions" in page and "/admin/polls/new?linked=acme" in page
    assert "/present/setup" not in page  # results (and so the presentation) only once closed
    close_survey(app)
    assert "/admin/surveys/acme/present/setup" in hr_client.get("/admin/surveys/acme").get_data(as_text=True)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"the PDF charts need Debian's Chromium at {CHROMIUM}")
def test_the_organisations_report_has_the_action_plan(app, client, hr_token):
    from pypdf import PdfReader

    fill(app, {"A": 14, "B": 12, "C": 10})
    close_survey(app)
    client.post(
        "/api/v1/surveys/acme/actions",
        json={**ACTION, "title": "Quarterly owner round", "owner": "COO", "due": "2026-12-01"},
        headers=auth(hr_token),
    )
    pdf = client.get("/api/v1/surveys/acme/report.pdf?lang=en", headers=auth(hr_token))
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Action plan" in text and "Quarterly owner round" in text and "COO" in text
    dept = client.get("/api/v1/surveys/acme/report.pdf?lang=en&department=A", headers=auth(hr_token))
    assert "Quarterly owner round" not in "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(dept.data)).pages)


def test_a_facilitator_login_sees_the_plan(app):
    client = app.test_client()
    assert login(client, FAC_EMAIL, FAC_PASSWORD).status_code == 302
    assert client.get("/admin/surveys/acme/actions").status_code == 200


def test_an_id_beyond_sqlites_integers_is_a_404(client, hr_token):
    path = f"/api/v1/surveys/acme/actions/{2**63}"
    assert client.patch(path, json={"status": "done"}, headers=auth(hr_token)).status_code == 404
    assert client.delete(path, headers=auth(hr_token)).status_code == 404
