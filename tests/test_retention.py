"""Retention and erasure: a deleted survey leaves nothing in the database file, the caches or the reports folder;
invitation e-mails and comments are erased when their time is up, without a process left running."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, add_responses, close_survey, csrf_token, import_csv, login

from survey import report, responses, results, surveys
from survey.db import get_db

COMMENT = "Zebrafink-7731 says the night shift is unbearable"
EMAIL = "quokka.unique.4412@example.org"
TITLE = "Acme 2026"


def file_bytes(app) -> bytes:
    """Return the bytes of the database file and of its journal, as someone with a copy of the folder reads them."""
    path = Path(app.config["DATABASE"])
    journal = Path(str(path) + "-journal")
    return path.read_bytes() + (journal.read_bytes() if journal.exists() else b"")


@pytest.fixture
def filled(app, client, hr_client):
    """Survey 'acme' with answers, a dozen comments, invitations with e-mails, read results and cached pages."""
    import_csv(app, f"{EMAIL},A\nother.person@example.org,B\n")
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        dept = surveys.department_by_code(db, survey, "A")
        for n in range(12):
            responses.save_response(db, survey, responses.Submission(dept.id, {"obs1": 4}, 7, f"{COMMENT} #{n}"))
    add_responses(app, "B", 6)
    assert client.get("/s/acme").status_code == 200  # the form page cache now holds the survey
    close_survey(app)
    assert hr_client.get("/admin/surveys/acme/results").status_code == 200  # results cached
    report.EXPORTER.memory.put("chart-of-acme", b"<svg>Acme</svg>")
    folder = Path(app.config["REPORTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report-acme-en-2026-03-01.pdf").write_bytes(b"%PDF acme")
    (folder / "report-acme-a-nb-2026-03-01.pdf").write_bytes(b"%PDF acme A")
    (folder / "report-acme-2-en-2026-03-01.pdf").write_bytes(b"%PDF another survey")
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Acme round 2", language="en", slug="acme-2",
            departments=[{"code": "A", "name": "Alpha"}],
        )  # fmt: skip
    assert COMMENT.encode() in file_bytes(app) and EMAIL.encode() in file_bytes(app)
    return app


def assert_nothing_left(app) -> None:
    """Nothing of survey 'acme' in the file, the caches or the reports folder (the other survey untouched)."""
    data = file_bytes(app)
    for secret in (COMMENT, EMAIL, "other.person@example.org", "Alpha & <Omega>", TITLE):
        assert secret.encode() not in data, secret
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        for table in ("responses", "answers", "invitations", "invitation_links", "departments", "survey_items"):
            count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == (1 if table == "departments" else 0) or table == "survey_items", table
        assert conn.execute("SELECT slug FROM surveys").fetchall() == [("acme-2",)]
    finally:
        conn.close()
    assert len(results.CACHE) == 0 and len(report.EXPORTER.memory) == 0
    assert len(app.extensions["form_pages"]) == 0
    left = sorted(p.name for p in Path(app.config["REPORTS_DIR"]).iterdir())
    assert left == ["report-acme-2-en-2026-03-01.pdf"]


def test_delete_on_the_command_line_erases_everything(filled, runner):
    app = filled
    refused = runner.invoke(args=["delete", "acme"])
    assert refused.exit_code == 1
    assert "18 responses, 12 comments, 2 invitations (2 with an e-mail address), 3 departments" in refused.output
    assert "2 report file(s)" in refused.output and "--yes" in refused.output
    result = runner.invoke(args=["delete", "acme", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted 'acme': 18 responses, 12 comments, 2 invitations, 2 report file(s)" in result.output
    assert_nothing_left(app)
    assert app.test_client().get("/s/acme").status_code == 404
    assert runner.invoke(args=["delete", "acme", "--yes"]).exit_code == 1  # no such survey any more


def test_delete_from_the_hr_page_after_a_confirmation_naming_the_loss(filled, hr_client):
    app = filled
    page = hr_client.get("/admin/surveys/acme/delete")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for line in ("18 responses and their answers", "12 comments", "2 invitations (2 with an e-mail address)"):
        assert line in html, line
    assert 'id="delete-survey"' in hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    wrong = hr_client.post("/admin/surveys/acme/delete", data={"confirm": "acme-2", "csrf_token": csrf_token(html)})
    assert wrong.status_code == 400 and "Type the address exactly: acme" in wrong.get_data(as_text=True)
    assert COMMENT.encode() in file_bytes(app)
    done = hr_client.post(
        "/admin/surveys/acme/delete", data={"confirm": "acme", "csrf_token": csrf_token(html)}, follow_redirects=True
    )
    assert done.status_code == 200 and "is deleted with its 18 responses, 12 comments" in done.get_data(as_text=True)
    assert_nothing_left(app)


def test_facilitators_cannot_delete(filled):
    client = filled.test_client()
    assert login(client, FAC_EMAIL, FAC_PASSWORD).status_code == 302
    assert client.get("/admin/surveys/acme/delete").status_code == 403
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/surveys/acme/delete", data={"confirm": "acme", "csrf_token": token}).status_code == 403
    assert COMMENT.encode() in file_bytes(filled)


def test_another_worker_forgets_its_cached_pages_of_a_deleted_survey(app, make_app, runner):
    second = make_app(DATABASE=app.config["DATABASE"])  # a second gunicorn worker on the same file
    other = second.test_client()
    assert other.get("/s/acme").status_code == 200
    assert len(second.extensions["form_pages"]) == 1
    assert runner.invoke(args=["delete", "acme", "--yes"]).exit_code == 0
    # Its next request, whatever it is, sees the erasure and empties the caches first.
    assert other.get("/admin/login").status_code == 200
    assert len(second.extensions["form_pages"]) == 0


def closed_days_ago(app, days: int, slug: str = "acme") -> None:
    """Pretend the survey closed `days` days ago."""
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute("UPDATE surveys SET closed_on = ? WHERE slug = ?", [day, slug])
    conn.commit()
    conn.close()


def emails(app) -> list:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return [row[0] for row in conn.execute("SELECT email FROM invitations ORDER BY id")]
    finally:
        conn.close()


def test_invitation_emails_are_erased_30_days_after_closing_by_the_purge_command(filled, runner):
    app = filled
    closed_days_ago(app, 29)
    assert "Erased 0 invitation e-mail" in runner.invoke(args=["purge"]).output
    assert emails(app) == [EMAIL, "other.person@example.org"]
    closed_days_ago(app, 30)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "Erased 2 invitation e-mail address(es) (kept 30 days" in result.output
    assert emails(app) == [None, None]
    assert EMAIL.encode() not in file_bytes(app)
    assert COMMENT.encode() in file_bytes(app)  # comments are kept unless a retention is set
    # The invitations themselves stay (response rates count them), without anyone's address.
    assert app.test_client().get("/s/acme").status_code == 200


def test_erasure_happens_at_start_up_and_lazily_on_requests(filled, make_app):
    app = filled
    closed_days_ago(app, 31)
    make_app(DATABASE=app.config["DATABASE"])  # a worker starting erases what is due
    assert emails(app) == [None, None]
    worker = make_app(DATABASE=app.config["DATABASE"], COMMENT_RETENTION_DAYS=90)
    closed_days_ago(app, 90)  # the comments fall due while the worker runs
    assert worker.test_client().get("/admin/login").status_code == 200
    assert COMMENT.encode() in file_bytes(app)  # it purged at start-up, less than an hour ago
    worker.extensions["purged_at"] -= 3601
    assert worker.test_client().get("/admin/login").status_code == 200
    assert COMMENT.encode() not in file_bytes(app)


def test_comments_are_erased_after_their_retention_when_set(filled, runner):
    app = filled
    app.config["COMMENT_RETENTION_DAYS"] = 90
    closed_days_ago(app, 89)
    runner.invoke(args=["purge"])
    assert COMMENT.encode() in file_bytes(app)
    closed_days_ago(app, 90)
    result = runner.invoke(args=["purge"])
    assert "12 comment(s)" in result.output
    assert COMMENT.encode() not in file_bytes(app)
    conn = sqlite3.connect(app.config["DATABASE"])
    assert conn.execute("SELECT COUNT(*) FROM responses WHERE comment IS NOT NULL").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 18  # the answers stay
    conn.close()


def test_a_retention_of_zero_days_erases_e_mails_when_the_survey_closes(make_app):
    app = make_app(INVITATION_RETENTION_DAYS=0)
    with app.app_context():
        survey = surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Z", language="en", slug="z",
            departments=[{"code": "A", "name": "Alpha"}],
        )  # fmt: skip
    import_csv(app, f"{EMAIL},A\n", slug="z")
    close_survey(app, "z")
    assert emails(app) == [None]
    assert survey.slug == "z"
