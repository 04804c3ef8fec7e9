"""`flask --app app actions remind`: owners of due actions get one e-mail a day, through a real SMTP server."""

from __future__ import annotations

from survey import actions, reminders, surveys
from survey.db import get_db
from survey.schemas import ActionIn

TODAY = "2026-03-10"


def plan(app, *rows: dict) -> list[int]:
    """Add actions to survey 'acme'; return their ids."""
    ids = []
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        for row in rows:
            body = ActionIn.model_validate({"level": "owning", "theme": "roles", **row}, context={})
            ids.append(actions.create_action(db, survey, body, "test")["id"])
    return ids


def remind(app, day: str = TODAY):
    return app.test_cli_runner().invoke(args=["actions", "remind", "--today", day])


def test_owners_of_due_and_overdue_actions_get_one_mail_a_day(mail_app, inbox, db):
    plan(
        mail_app,
        {"title": "Due in three days", "owner_email": "ann@example.org", "due": "2026-03-13"},
        {"title": "Overdue", "owner_email": "ANN@example.org", "due": "2026-02-01", "status": "in_progress"},
        {"title": "Due in a week", "owner_email": "bob@example.org", "due": "2026-03-17"},
        {"title": "Due in eight days", "owner_email": "carl@example.org", "due": "2026-03-18"},
        {"title": "Done already", "owner_email": "dina@example.org", "due": "2026-03-11", "status": "done"},
        {"title": "Dropped", "owner_email": "dina@example.org", "due": "2026-03-11", "status": "dropped"},
        {"title": "No e-mail", "owner": "Eve", "due": "2026-03-11"},
        {"title": "No due date", "owner_email": "fay@example.org"},
    )
    result = remind(mail_app)
    assert result.exit_code == 0, result.output
    assert "Sent 2 reminder(s) about 3 action(s)" in result.output
    # One mail per owner, whatever the case of the address: Ann's two actions come together.
    assert sorted(m["To"].lower() for m in inbox.messages) == ["ann@example.org", "bob@example.org"]
    ann = next(m for m in inbox.messages if m["To"].lower() == "ann@example.org").get_content()
    assert "Due in three days" in ann and "Overdue since 2026-02-01" in ann and "Due 2026-03-13" in ann
    assert "https://survey.example.org/admin/surveys/acme/actions" in ann
    assert "Acme 2026" in ann
    # Run again the same day (cron every hour): nobody is mailed twice.
    again = remind(mail_app)
    assert (
        again.exit_code == 0
        and "Sent 0 reminder(s)" in again.output
        and "2 owner(s) already reminded today" in again.output
    )
    assert len(inbox.messages) == 2
    # The next day the overdue and still-due actions are reminded again, and Carl's is now within a week.
    assert "Sent 3 reminder(s) about 4 action(s)" in remind(mail_app, "2026-03-11").output
    assert len(inbox.messages) == 5 and len(inbox.to("carl@example.org")) == 1
    logged = db.execute(
        "SELECT day, status, COUNT(*) FROM action_reminders GROUP BY day, status ORDER BY day"
    ).fetchall()
    assert logged == [(TODAY, "sent", 3), ("2026-03-11", "sent", 4)]


def test_an_interrupted_run_resumes_without_sending_twice(mail_app, inbox, db):
    plan(
        mail_app,
        *({"title": f"Action {n}", "owner_email": f"owner{n}@example.org", "due": "2026-03-12"} for n in range(4)),
    )
    inbox.fail_after = 2
    first = remind(mail_app)
    assert first.exit_code == 1 and "Run the command again to continue" in first.output
    assert len(inbox.messages) == 2
    inbox.fail_after = None
    second = remind(mail_app)
    assert second.exit_code == 0 and "Sent 2 reminder(s)" in second.output
    assert sorted(m["To"] for m in inbox.messages) == [f"owner{n}@example.org" for n in range(4)]
    assert "Sent 0 reminder(s)" in remind(mail_app).output


def test_a_refused_address_is_recorded_and_not_retried_that_day(mail_app, inbox, db):
    (action_id,) = plan(mail_app, {"title": "Typo in address", "owner_email": "gone@example.org", "due": "2026-03-10"})
    inbox.refuse.add("gone@example.org")
    result = remind(mail_app)
    assert result.exit_code == 0 and "not delivered to gone@example.org" in result.output
    with mail_app.app_context():
        log = reminders.log(get_db(), action_id)
    assert log[0]["status"] == "failed" and "550" in log[0]["error"]
    assert "Sent 0 reminder(s)" in remind(mail_app).output


def test_without_mail_settings_the_command_says_what_to_set(app):
    result = remind(app)
    assert result.exit_code == 1 and "FLASK_SMTP_HOST" in result.output
    bad = app.test_cli_runner().invoke(args=["actions", "remind", "--today", "2026-02-30"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_the_reminder_speaks_the_surveys_language(mail_app, inbox):
    with mail_app.app_context():
        db = get_db()
        db.execute("UPDATE surveys SET language = 'nb' WHERE slug = 'acme'")
        db.conn.commit()
    plan(mail_app, {"title": "Månedlig nyhetsbrev", "owner_email": "kari@example.org", "due": "2026-03-12"})
    assert remind(mail_app).exit_code == 0
    body = inbox.to("kari@example.org")[0].get_content()
    assert "Månedlig nyhetsbrev" in body and "2026-03-12" in body
