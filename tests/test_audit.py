"""The audit trail: who did what and when, append-only, HR only, exportable, and never about respondents."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from helpers import FAC_EMAIL, HR_EMAIL, HR_PASSWORD, add_responses, csrf_token, import_csv, new_survey_form

from survey import audit, invitations, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

RESPONDENT_EMAIL = "respondent.4471@example.org"
COMMENT = "Capybara-5521 thinks the canteen is too loud"


def trail(app) -> list[dict]:
    """Return the whole audit trail, oldest first."""
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM audit_log ORDER BY id")]
    finally:
        conn.close()


def actions(app) -> list[tuple]:
    return [(row["actor"], row["action"], row["target"]) for row in trail(app)]


def post_login(client, email: str, password: str) -> int:
    page = client.get("/admin/login").get_data(as_text=True)
    return client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
    ).status_code


def test_sign_ins_are_recorded_without_the_password(app, client):
    assert post_login(client, HR_EMAIL, "my wrong secret 123") == 401
    # Someone who typed their password into the e-mail field: it must not be written down.
    assert post_login(client, "hunter2-my-real-password", HR_PASSWORD) == 401
    assert post_login(client, HR_EMAIL, HR_PASSWORD) == 302
    page = client.get("/admin/").get_data(as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    for _ in range(app.config["LOGIN_LIMIT"]):
        post_login(client, FAC_EMAIL, "wrong again, wrong again")
    assert post_login(client, FAC_EMAIL, "wrong again, wrong again") == 429
    rows = trail(app)
    text = repr(rows)
    assert "my wrong secret" not in text and "hunter2" not in text and HR_PASSWORD not in text
    got = [(r["actor"], r["action"], r["detail"]) for r in rows if r["action"].startswith(("sign", "signed"))]
    assert got[:4] == [
        (HR_EMAIL, "sign-in-failed", "wrong e-mail or password"),
        (audit.UNKNOWN_ACCOUNT, "sign-in-failed", "wrong e-mail or password"),
        (HR_EMAIL, "signed-in", "password"),
        (HR_EMAIL, "signed-out", None),
    ]
    assert got[-1] == (FAC_EMAIL, "sign-in-refused", "too many failed attempts")
    assert all(r["at"].endswith("Z") and len(r["at"]) == 20 for r in rows)


def test_survey_life_results_exports_invitations_tokens_and_accounts_are_recorded(app, hr_client, runner, tmp_path):
    # Created on the web, invitations imported and links made, closed, read, exported, deleted.
    page = hr_client.get("/admin/surveys/new").get_data(as_text=True)
    form = new_survey_form(page, title="Audit me", slug="audit", departments="A, Alpha\nB, Beta")
    assert hr_client.post("/admin/surveys/new", data=form).status_code == 302
    import_csv(app, f"{RESPONDENT_EMAIL},A\n", slug="audit")
    detail = hr_client.get("/admin/surveys/audit").get_data(as_text=True)
    token = csrf_token(detail)
    hr_client.post("/admin/surveys/audit/invitations", data={"department": "A", "count": "3", "csrf_token": token})
    hr_client.post("/admin/surveys/audit/invitations/links.csv", data={"kind": "invitation", "csrf_token": token})
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "audit")
        for code in ("A", "B"):
            dept = surveys.department_by_code(db, survey, code)
            for _ in range(6):
                save_response(db, survey, Submission(dept.id, {"obs1": 4}, 8, COMMENT))
    assert (
        hr_client.post("/admin/surveys/audit/status", data={"status": "closed", "csrf_token": token}).status_code == 302
    )
    assert (
        hr_client.post("/admin/surveys/audit/status", data={"status": "open", "csrf_token": token}).status_code == 302
    )
    assert (
        hr_client.post("/admin/surveys/audit/status", data={"status": "closed", "csrf_token": token}).status_code == 302
    )
    assert hr_client.get("/admin/surveys/audit/results?department=A").status_code == 200
    assert hr_client.get("/admin/surveys/audit/export.xlsx").status_code == 200
    assert hr_client.get("/admin/surveys/audit/comments.csv").status_code == 200
    # The API, by token; the command line.
    made = runner.invoke(args=["tokens", "create", "--role", "hr", "--label", "bi"]).output.strip().splitlines()[-1]
    api = app.test_client().get("/api/v1/surveys/audit/results", headers={"Authorization": f"Bearer {made}"})
    assert api.status_code == 200
    assert runner.invoke(args=["export", "audit", "-o", str(tmp_path / "a.csv")]).exit_code == 0
    assert runner.invoke(args=["users", "disable", FAC_EMAIL]).exit_code == 0
    assert runner.invoke(args=["tokens", "revoke", "1"]).exit_code == 0
    assert runner.invoke(args=["delete", "audit", "--yes"]).exit_code == 0
    got = actions(app)
    expected = [
        (HR_EMAIL, "survey-created", "audit"),
        ("command line", "invitations-imported", "audit"),
        (HR_EMAIL, "invitation-links-created", "audit"),
        (HR_EMAIL, "invitation-links-exported", "audit"),
        (HR_EMAIL, "survey-closed", "audit"),
        (HR_EMAIL, "survey-reopened", "audit"),
        (HR_EMAIL, "survey-closed", "audit"),
        (HR_EMAIL, "results-read", "audit"),
        (HR_EMAIL, "export-downloaded", "audit"),
        (HR_EMAIL, "comments-downloaded", "audit"),
        ("command line", "token-created", "token #1"),
        ("token #1", "results-read", "audit"),
        ("command line", "export-downloaded", "audit"),
        ("command line", "user-disabled", FAC_EMAIL),
        ("command line", "token-revoked", "token #1"),
        ("command line", "survey-deleted", "audit"),
    ]
    relevant = [row for row in got if row[1] not in ("signed-in", "user-created") and row[2] != "acme"]
    assert relevant == expected
    details = {row["action"]: row["detail"] for row in trail(app)}
    assert [r["detail"] for r in trail(app) if r["action"] == "results-read"] == ["department=A", None]
    assert details["export-downloaded"] == "fmt=csv"  # the last one, on the command line
    assert details["invitations-imported"] == "invitations=1"
    assert details["survey-deleted"] == "responses=12, comments=12, invitations=4"


def test_nothing_about_respondents_is_ever_recorded(app, client, hr_client, runner):
    """A whole round: invitations with e-mails, answers with comments through every door, then every HR read."""
    import_csv(app, f"{RESPONDENT_EMAIL},A\n")
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        links = invitations.create_invitations(db, survey, surveys.department_by_code(db, survey, "A"), 12)
    for link in links:
        body = {"invitation": link, "answers": {"obs1": 3}, "comment": COMMENT}
        assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    add_responses(app, "B", 6)
    assert client.get("/i/not-a-real-token").status_code == 404
    close_survey_via(hr_client)
    for path in ("results", "export.csv", "export.xlsx", "comments.csv", "invitations"):
        assert hr_client.get(f"/admin/surveys/acme/{path}").status_code == 200, path
    rows = trail(app)
    text = repr(rows)
    for secret in [RESPONDENT_EMAIL, COMMENT, "not-a-real-token", *links]:
        assert secret not in text
    # Respondents' requests leave no entry at all: every actor is an account, a token or the command line.
    assert {row["actor"] for row in rows} <= {HR_EMAIL, FAC_EMAIL, "command line"}


def close_survey_via(hr_client) -> None:
    token = csrf_token(hr_client.get("/admin/surveys/acme").get_data(as_text=True))
    assert (
        hr_client.post("/admin/surveys/acme/status", data={"status": "closed", "csrf_token": token}).status_code == 302
    )


def test_the_trail_is_append_only(app, hr_client, db):
    assert db["audit_log"].count > 0
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.DatabaseError, match="one row"):
        db.execute("INSERT INTO audit_gate (purging) VALUES (1)")
    db.conn.rollback()
    assert db["audit_log"].count > 0


def test_audit_entries_expire_only_through_the_retention_purge(app, runner, db):
    db.execute("INSERT INTO audit_log (at, actor, action) VALUES ('2001-01-01T00:00:00Z', 'old', 'signed-in')")
    db.conn.commit()
    runner.invoke(args=["purge"])
    assert db["audit_log"].count_where("actor = 'old'") == 1  # kept: no audit retention by default
    app.config["AUDIT_RETENTION_DAYS"] = 365
    result = runner.invoke(args=["purge"])
    assert "1 audit entries" in result.output
    assert db["audit_log"].count_where("actor = 'old'") == 0
    (purge,) = db.query("SELECT actor, detail FROM audit_log WHERE action = 'retention-purge'")
    assert purge["actor"] == "command line" and "audit entries=1" in purge["detail"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # the gate is closed again
        db.execute("DELETE FROM audit_log")


def test_hr_sees_and_downloads_the_trail_and_facilitators_get_403(app, hr_client, fac_client):
    page = hr_client.get("/admin/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "signed in" in html and HR_EMAIL in html
    assert "survey created" in hr_client.get("/admin/audit?action=survey-created").get_data(as_text=True)
    download = hr_client.get("/admin/audit.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["id", "at", "actor", "action", "target", "detail"]
    assert any(row[2:4] == [HR_EMAIL, "signed-in"] for row in rows[1:])
    assert actions(app)[-1] == (HR_EMAIL, "audit-exported", None)
    assert fac_client.get("/admin/audit").status_code == 403
    assert fac_client.get("/admin/audit.csv").status_code == 403
    assert app.test_client().get("/admin/audit").status_code == 302  # not signed in: to the login page


def test_a_user_typed_into_a_record_cannot_inject_a_formula_into_the_csv(app, hr_client):
    with app.app_context():
        audit.record(get_db(), "signed-in", actor='=HYPERLINK("http://evil")')
    text = hr_client.get("/admin/audit.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
