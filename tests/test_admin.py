"""HR pages: login, roles, creating and closing surveys, live counts without leaks."""

from __future__ import annotations

import pytest
from helpers import BASE_URL, FAC_EMAIL, HR_PASSWORD, add_responses, csrf_token, login

from survey import surveys
from survey.db import get_db


@pytest.mark.parametrize("path", ["/admin/", "/admin/surveys/new", "/admin/surveys/acme"])
def test_pages_need_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]


def test_login_wrong_password_and_open_redirect(client):
    resp = login(client, password="wrong password")
    assert resp.status_code == 401 and "wrong" in resp.get_data(as_text=True)
    page = client.get("/admin/login").get_data(as_text=True)
    resp = client.post(
        "/admin/login?next=//evil.example/x",
        data={"email": "HR@example.org", "password": HR_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/"


def test_login_form_needs_csrf(client):
    resp = client.post("/admin/login", data={"email": "hr@example.org", "password": HR_PASSWORD})
    assert resp.status_code == 400
    assert client.get("/admin/").status_code == 302  # still logged out


def test_passwords_are_hashed(db):
    for row in db.query("SELECT password_hash FROM users"):
        assert HR_PASSWORD not in row["password_hash"] and row["password_hash"].startswith(("scrypt:", "pbkdf2:"))


def test_list_and_detail(hr_client):
    page = hr_client.get("/admin/").get_data(as_text=True)
    assert "Acme 2026" in page and "/admin/surveys/acme" in page
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert f"{BASE_URL}/s/acme" in page and f"{BASE_URL}/s/acme?d=B" in page
    assert "Alpha &amp; &lt;Omega&gt;" in page


def test_create_survey_through_the_form(hr_client, db):
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    resp = hr_client.post(
        "/admin/surveys/new",
        data={
            "csrf_token": csrf_token(page),
            "title": "Høst <2026>",
            "language": "nb",
            "departments": "OPS, Drift, 40\n# a comment line\nIT, IT\n",
            "min_group_size": "5",
            "comment_min_group_size": "10",
            "collection": "invitations",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/surveys/host-2026"
    row = next(db.query("SELECT * FROM surveys WHERE slug = 'host-2026'"))
    assert row["title"] == "Høst <2026>" and row["collection"] == "invitations" and row["language"] == "nb"
    depts = list(
        db.query("SELECT code, name, headcount FROM departments WHERE survey_id = ? ORDER BY position", [row["id"]])
    )
    assert depts == [{"code": "OPS", "name": "Drift", "headcount": 40}, {"code": "IT", "name": "IT", "headcount": None}]
    assert "Høst &lt;2026&gt;" in hr_client.get("/admin/surveys/host-2026").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "Give the survey a title."),
        ({"departments": "OPS"}, "Line 1: write &#39;CODE, Name&#39;"),
        ({"departments": "OPS, Drift, many"}, "headcount &#39;many&#39; must be a whole number"),
        ({"departments": "OPS, Drift\nOPS, Again"}, "used twice"),
        ({"min_group_size": "2"}, "The minimum group size must be a whole number from 3 to 10,000."),
        ({"min_group_size": "10001"}, "The minimum group size must be a whole number from 3 to 10,000."),
        ({"title": "x" * 201}, "Keep the title under 200 characters."),
        ({"slug": "acme"}, "is taken"),
        ({"slug": "Not a slug"}, "Use 1-64 lowercase letters, digits and dashes (not at the ends)."),
        ({"comment_min_group_size": "4"}, "comment threshold"),
        ({"departments": "OPS, Drift, 99999999"}, "the headcount must be a whole number from 0 to 10,000,000"),
    ],
)
def test_create_survey_errors(hr_client, db, change, message):
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "title": "T",
        "language": "en",
        "departments": "OPS, Drift",
        "min_group_size": "5",
        "comment_min_group_size": "10",
    }
    data.update(change)
    resp = hr_client.post("/admin/surveys/new", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert db["surveys"].count == 1


def test_the_form_takes_the_bounds_of_the_api(hr_client, db):
    """The HR form and the API accept the same thresholds: both come from SurveyIn."""
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    assert 'max="10000" min="3"' in page or 'min="3" max="10000"' in page
    data = {
        "csrf_token": csrf_token(page),
        "title": "Large organisation",
        "language": "en",
        "departments": "OPS, Drift",
        "min_group_size": "5000",
        "comment_min_group_size": "10000",
    }
    assert hr_client.post("/admin/surveys/new", data=data).status_code == 302
    row = next(db.query("SELECT min_group_size, comment_min_group_size FROM surveys WHERE slug = 'large-organisation'"))
    assert row == {"min_group_size": 5000, "comment_min_group_size": 10000}


def test_facilitator_cannot_create_or_close(fac_client, db):
    assert fac_client.get("/admin/surveys/new").status_code == 403
    page = fac_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert "Close the survey" not in page and "Personal invitations" not in page
    # With a valid CSRF token, so that only the role check can refuse these.
    token = csrf_token(page)
    resp = fac_client.post("/admin/surveys/acme/status", data={"status": "closed", "csrf_token": token})
    assert resp.status_code == 403
    assert next(db.query("SELECT status FROM surveys"))["status"] == "open"
    new_survey = {"csrf_token": token, "title": "T", "language": "en", "departments": "OPS, Drift"}
    resp = fac_client.post(
        "/admin/surveys/new", data={**new_survey, "min_group_size": "5", "comment_min_group_size": "10"}
    )
    assert resp.status_code == 403
    assert db["surveys"].count == 1
    assert FAC_EMAIL in page


def test_close_and_reopen(hr_client, db):
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    token = csrf_token(page)
    assert hr_client.post("/admin/surveys/acme/status", data={"status": "closed"}).status_code == 400
    resp = hr_client.post("/admin/surveys/acme/status", data={"status": "closed", "csrf_token": token})
    assert resp.status_code == 302
    assert next(db.query("SELECT status, closed_on FROM surveys"))["status"] == "closed"
    assert "Reopen the survey" in hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    hr_client.post("/admin/surveys/acme/status", data={"status": "open", "csrf_token": token})
    assert next(db.query("SELECT status, closed_on FROM surveys")) == {"status": "open", "closed_on": None}


def count_cells(page: str) -> list[str]:
    """Return the text of the Responses column, department by department."""
    import re

    rows = re.findall(r"<tr>\s*<td>(.*?)</td>.*?<td class=\"num\">(.*?)</td>", page, flags=re.S)
    return [(name, re.sub(r"<[^>]+>", "", cell).split()) for name, cell in rows]


def test_live_counts_hide_small_departments_while_open(app, hr_client):
    add_responses(app, "A", 9)
    add_responses(app, "B", 6)
    add_responses(app, "C", 2)
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    cells = dict(count_cells(page))
    assert cells["Alpha &amp; &lt;Omega&gt;"] == ["9"]
    # C is below 5, so its exact count is hidden; B is the next-smallest and hidden too,
    # otherwise C = total - A - B could be worked out.
    assert cells["Gamma"] == ["fewer", "than", "5"]
    assert cells["Beta"] == ["hidden", "to", "protect", "a", "smaller", "department"]
    assert ">2<" not in page and ">6<" not in page
    # Closing changes nothing here: a count of 2 tells who answered just as well after the close.
    with app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    closed = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    assert dict(count_cells(closed)) == cells and ">2<" not in closed and ">6<" not in closed


def test_invitation_links_shown_once(hr_client, db):
    page = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    resp = hr_client.post(
        "/admin/surveys/acme/invitations", data={"csrf_token": csrf_token(page), "department": "B", "count": "3"}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.count(f"{BASE_URL}/i/") == 3
    assert db["invitations"].count == 3
    assert "3 created, 0 used" in hr_client.get("/admin/surveys/acme").get_data(as_text=True)


def test_logout_needs_post_with_csrf(hr_client):
    page = hr_client.get("/admin/").get_data(as_text=True)
    assert hr_client.get("/admin/logout").status_code == 405
    assert hr_client.post("/admin/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert hr_client.get("/admin/").status_code == 302
