"""Invitations and reminders by e-mail, through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import re

import pytest
from helpers import BASE_URL, SENDER, backdate, csrf_token, free_port, import_csv

from survey import invitations, surveys
from survey.db import get_db
from survey.invitations import mailings
from survey.invitations import smtp as mailer

LINK_RE = re.compile(re.escape(BASE_URL) + r"/i/([A-Za-z0-9_-]+)")


PEOPLE = "ann@example.org,A,nb\nbob@example.org,B,en\ncid@example.org,C\n"


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def token_in(message) -> str:
    (token,) = LINK_RE.findall(body_of(message))
    return token


def send(runner, *args: str):
    return runner.invoke(args=["invitations", *args])


def test_invitations_in_norwegian_and_english(mail_app, runner, inbox, db):
    import_csv(mail_app, PEOPLE)
    result = send(runner, "send", "acme")
    assert result.exit_code == 0, result.output
    assert "Sent 3 invitation(s); 0 refused; 0 still to send." in result.output
    assert inbox.recipients() == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert all(env == ("hr@example.org", [m["To"]]) for env, m in zip(inbox.envelopes, inbox.messages, strict=True))
    (ann,) = inbox.to("ann@example.org")
    assert ann["Subject"] == "Invitasjon: Acme 2026"
    assert ann["From"] == SENDER and ann["Message-ID"] and ann["Date"]
    text = body_of(ann)
    assert "Du er invitert til å svare på undersøkelsen «Acme 2026» for avdelingen Alpha & <Omega>." in text
    assert "minst 5 svar" in text
    (bob,) = inbox.to("bob@example.org")
    assert bob["Subject"] == "Your invitation: Acme 2026"
    assert "for the department Beta" in body_of(bob) and "at least 5 answers" in body_of(bob)
    (cid,) = inbox.to("cid@example.org")
    assert cid["Subject"] == "Your invitation: Acme 2026"  # no language given: the survey's (en)
    # Every link works, leads to its own invitation and department, and is stored only hashed.
    with mail_app.app_context():
        found = {m["To"]: invitations.find_invitation(get_db(), token_in(m)) for m in inbox.messages}
    codes = {r["id"]: r["code"] for r in db.query("SELECT id, code FROM departments")}
    assert {to: codes[inv["department_id"]] for to, inv in found.items()} == {
        "ann@example.org": "A",
        "bob@example.org": "B",
        "cid@example.org": "C",
    }
    assert all(row["sent_on"] for row in db.query("SELECT sent_on FROM invitations"))
    # Sending again mails nobody twice.
    result = send(runner, "send", "acme")
    assert result.exit_code == 0 and "Sent 0 invitation(s)" in result.output
    assert len(inbox.messages) == 3


def test_reminders_go_to_everyone_invited_worded_for_both(mail_app, runner, client, inbox, db, instrument):
    """A reminder that only non-responders got would tell HR (and the mail log) who has answered."""
    import_csv(mail_app, PEOPLE)
    assert send(runner, "send", "acme").exit_code == 0
    (bob,) = inbox.to("bob@example.org")
    body = {"invitation": token_in(bob), "answers": {"obs1": 4}}
    assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    result = send(runner, "remind", "acme")
    assert "Sent 0 reminder(s)" in result.output  # not on the day of the invitations
    backdate(db)
    result = send(runner, "remind", "acme")
    assert result.exit_code == 0 and "Sent 3 reminder(s)" in result.output
    reminders = inbox.messages[3:]
    assert sorted(m["To"] for m in reminders) == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert {m["To"]: m["Subject"] for m in reminders}["bob@example.org"] == "Reminder: Acme 2026"
    # Bob (who answered) and Cid (who did not) get the same words.
    texts = {m["To"]: re.sub(r"/i/\S+|department \w+", "X", body_of(m)) for m in reminders}
    assert texts["bob@example.org"] == texts["cid@example.org"]
    assert "If you have already answered" in texts["cid@example.org"]
    (bob_invite, bob_reminder) = inbox.to("bob@example.org")
    assert token_in(bob_reminder) != token_in(bob_invite)  # a fresh link; the first still works
    # A second press on the same day sends nothing more.
    assert "Sent 0 reminder(s)" in send(runner, "remind", "acme").output
    assert len(inbox.messages) == 6
    # Norwegian reminder text.
    import_csv(mail_app, "dag@example.org,A,nb\n")
    send(runner, "send", "acme")
    backdate(db)
    db.execute("UPDATE invitations SET reminded_on = NULL")
    db.conn.commit()
    send(runner, "remind", "acme")
    (dag_reminder,) = inbox.to("dag@example.org")[1:]
    assert dag_reminder["Subject"] == "Påminnelse: Acme 2026"
    assert "Har du allerede svart" in body_of(dag_reminder)


def test_a_reminder_only_to_those_who_have_not_answered_leaves_no_list(mail_app, runner, client, inbox, db, hr_client):
    """Sent by the app itself (never exported); once the batch is done its log of recipients is erased."""
    import_csv(mail_app, PEOPLE)
    assert send(runner, "send", "acme").exit_code == 0
    (ann,) = inbox.to("ann@example.org")
    assert (
        client.post(
            "/api/v1/surveys/acme/responses", json={"invitation": token_in(ann), "answers": {"obs1": 4}}
        ).status_code
        == 201
    )
    backdate(db)
    result = send(runner, "remind", "acme", "--unanswered")
    assert result.exit_code == 0 and "Sent 2 reminder(s) to those not answered yet" in result.output
    assert sorted(m["To"] for m in inbox.messages[3:]) == ["bob@example.org", "cid@example.org"]
    # Nothing in the database says who got it: no per-person mark, no log rows; only how many.
    assert db.execute("SELECT COUNT(*) FROM invitations WHERE reminded_on IS NOT NULL").fetchone()[0] == 0
    batch = db.execute("SELECT id, sent_count, finished_on FROM mailings WHERE kind = 'nudge'").fetchone()
    assert batch[1] == 2 and batch[2] is not None
    assert db.execute("SELECT COUNT(*) FROM mail_log WHERE mailing_id = ?", [batch[0]]).fetchone()[0] == 0
    # Once a day at most.
    assert "Sent 0 reminder(s) to those not answered yet" in send(runner, "remind", "acme", "--unanswered").output
    # Never as a file: the download refuses it, whatever the form says.
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    assert "log will still show who got one" in page
    resp = hr_client.post(
        "/admin/surveys/acme/invitations/links.csv", data={"csrf_token": csrf_token(page), "kind": "nudge"}
    )
    assert resp.status_code == 409 and "would tell who has" in resp.get_data(as_text=True)


def test_an_interrupted_batch_resumes_without_duplicates(mail_app, runner, inbox, db):
    import_csv(mail_app, "".join(f"p{n}@example.org,A\n" for n in range(6)))
    inbox.fail_after = 2  # the server starts refusing for now (4xx) after two messages
    result = send(runner, "send", "acme")
    assert result.exit_code == 1 and "Stopped" in result.output and "Try again later" in result.output
    assert "Sent 2 invitation(s); 0 refused; 4 still to send." in result.output
    assert len(inbox.messages) == 2
    inbox.fail_after = None
    result = send(runner, "send", "acme")
    assert result.exit_code == 0 and "Sent 4 invitation(s)" in result.output
    assert inbox.recipients() == [f"p{n}@example.org" for n in range(6)]  # each exactly once
    # One batch, finished; the failed attempt left no stray link behind.
    (batch,) = db.query("SELECT * FROM mailings")
    assert batch["finished_on"] and batch["channel"] == "smtp"
    assert db["invitation_links"].count == 6


def test_a_message_interrupted_while_handed_over_is_not_sent_twice(mail_app, runner, inbox, db, monkeypatch):
    import_csv(mail_app, "".join(f"p{n}@example.org,A\n" for n in range(4)))
    real_send = mailer.Mailer.send
    calls = []

    def flaky_send(self, msg):
        calls.append(msg["To"])
        real_send(self, msg)  # the server has it...
        if len(calls) == 2:
            raise mailer.Unconfirmed("connection reset")  # ...but the answer never came back

    monkeypatch.setattr(mailer.Mailer, "send", flaky_send)
    result = send(runner, "send", "acme")
    assert result.exit_code == 1 and "connection reset" in result.output
    monkeypatch.setattr(mailer.Mailer, "send", real_send)
    result = send(runner, "send", "acme")
    assert result.exit_code == 0 and "Sent 2 invitation(s)" in result.output
    assert "1 message(s) broke off" in result.output
    assert inbox.recipients() == [f"p{n}@example.org" for n in range(4)]
    # Resending it is HR's explicit choice.
    result = send(runner, "send", "acme", "--retry-unconfirmed")
    assert "Sent 1 invitation(s)" in result.output
    assert inbox.recipients().count("p1@example.org") == 2


def test_a_crash_after_handing_over_leaves_the_message_unconfirmed(mail_app, inbox, db, monkeypatch):
    import_csv(mail_app, "ann@example.org,A\nbob@example.org,A\n")
    real_send = mailer.Mailer.send

    def crash(self, msg):
        real_send(self, msg)
        raise KeyboardInterrupt  # the process is stopped right after the server accepted

    monkeypatch.setattr(mailer.Mailer, "send", crash)
    with mail_app.app_context(), pytest.raises(KeyboardInterrupt):
        survey = surveys.get_survey(get_db(), "acme")
        mailings.send_batch(get_db(), survey, "invitation", mailings.smtp_settings())
    monkeypatch.setattr(mailer.Mailer, "send", real_send)
    with mail_app.app_context():
        report = mailings.send_batch(
            get_db(), surveys.get_survey(get_db(), "acme"), "invitation", mailings.smtp_settings()
        )
    assert report.sent == 1 and report.unconfirmed == 1 and report.finished
    assert inbox.recipients() == ["ann@example.org", "bob@example.org"]


def test_a_refused_address_does_not_stop_the_batch(mail_app, hr_client, inbox, db):
    import_csv(mail_app, PEOPLE)
    inbox.refuse = {"bob@example.org"}
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    assert "Send invitations (3)" in page
    resp = hr_client.post(
        "/admin/surveys/acme/invitations/send", data={"csrf_token": csrf_token(page), "kind": "invitation"}
    )
    assert resp.status_code == 303
    page = hr_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Sent 2 invitations." in page
    assert "Not delivered to bob@example.org" in page and "550" in page
    assert inbox.recipients() == ["ann@example.org", "cid@example.org"]
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="mailings"')[1]))
    assert "invitations e-mail" in history and " 2 1 0 " in history


def test_sending_from_the_hr_page_needs_csrf_and_hr(mail_app, hr_client, fac_client, inbox):
    import_csv(mail_app, PEOPLE)
    data = {"kind": "invitation"}
    assert hr_client.post("/admin/surveys/acme/invitations/send", data=data).status_code == 400
    fac_token = csrf_token(fac_client.get("/admin/").get_data(as_text=True))
    resp = fac_client.post("/admin/surveys/acme/invitations/send", data={**data, "csrf_token": fac_token})
    assert resp.status_code == 403
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    bad_kind = {"csrf_token": csrf_token(page), "kind": "spam"}
    assert hr_client.post("/admin/surveys/acme/invitations/send", data=bad_kind).status_code == 400
    assert inbox.messages == []


def test_nothing_is_sent_for_a_closed_survey(mail_app, hr_client, runner, inbox):
    import_csv(mail_app, PEOPLE)
    with mail_app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    result = send(runner, "send", "acme")
    assert result.exit_code == 1 and "The survey is closed" in result.output
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    resp = hr_client.post(
        "/admin/surveys/acme/invitations/send", data={"csrf_token": csrf_token(page), "kind": "invitation"}
    )
    assert resp.status_code == 409 and "The survey is closed" in resp.get_data(as_text=True)
    assert inbox.messages == []


def test_an_unreachable_server_is_a_clear_error(app, hr_client, runner):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TLS="none", SMTP_SENDER=SENDER)
    import_csv(app, PEOPLE)
    result = send(runner, "send", "acme")
    assert result.exit_code == 1 and "Could not connect to 127.0.0.1" in result.output
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    resp = hr_client.post(
        "/admin/surveys/acme/invitations/send", data={"csrf_token": csrf_token(page), "kind": "invitation"}
    )
    assert resp.status_code == 409 and "Could not connect" in resp.get_data(as_text=True)


def test_without_smtp_hr_downloads_the_links(app, hr_client, client, db):
    import_csv(app, PEOPLE)
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    assert "E-mail is not set up" in page and "FLASK_SMTP_HOST" in page
    token = csrf_token(page)
    resp = hr_client.post("/admin/surveys/acme/invitations/send", data={"csrf_token": token, "kind": "invitation"})
    assert resp.status_code == 409 and "download the links instead" in resp.get_data(as_text=True)
    resp = hr_client.post("/admin/surveys/acme/invitations/links.csv", data={"csrf_token": token, "kind": "invitation"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="acme-invitations-\d{4}-\d{2}-\d{2}\.csv"', resp.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["email"], r["department"], r["language"]) for r in rows] == [
        ("ann@example.org", "A", "nb"),
        ("bob@example.org", "B", "en"),
        ("cid@example.org", "C", "en"),
    ]
    assert all(LINK_RE.fullmatch(r["link"]) for r in rows)
    assert client.get(rows[0]["link"].removeprefix(BASE_URL)).status_code == 303
    # Downloading counts as sending: a second download has nobody left.
    resp = hr_client.post("/admin/surveys/acme/invitations/links.csv", data={"csrf_token": token, "kind": "invitation"})
    assert resp.status_code == 303
    assert "Nobody is due for invitations" in hr_client.get(resp.headers["Location"]).get_data(as_text=True)
    # Reminder links: for everyone invited, so the file tells nothing about who has answered.
    answer = {"invitation": LINK_RE.fullmatch(rows[1]["link"]).group(1), "answers": {"obs1": 2}}
    assert client.post("/api/v1/surveys/acme/responses", json=answer).status_code == 201
    backdate(db)
    resp = hr_client.post("/admin/surveys/acme/invitations/links.csv", data={"csrf_token": token, "kind": "reminder"})
    reminders = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["email"] for r in reminders] == ["ann@example.org", "bob@example.org", "cid@example.org"]


def test_export_command(app, runner, db, tmp_path):
    import_csv(app, PEOPLE)
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["invitations", "export", "acme", "-o", str(out)])
    assert result.exit_code == 0 and "Wrote 3 link(s)" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["email"] for r in rows] == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert runner.invoke(args=["invitations", "export", "acme", "-o", str(out), "--reminders"]).exit_code == 0
    assert out.read_text(encoding="utf-8") == "email,department,language,link\n"  # nobody due on the first day
    result = runner.invoke(args=["invitations", "send", "acme"])
    assert result.exit_code == 1 and "E-mail is not set up" in result.output and "invitations export" in result.output


def test_rate_command(app, runner):
    import_csv(app, PEOPLE)
    result = runner.invoke(args=["invitations", "rate", "acme"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["A", "1", "20", "<", "5", "–"]  # the headcount of 20 is more than 1 invited
    assert lines[-1].split() == ["all", "3", "29", "<", "5", "–"]  # 20 + 8 + 1 (C: one invited); nobody answered


def test_subject_stays_on_one_line(mail_app, runner, inbox):
    with mail_app.app_context():
        surveys.create_survey(
            get_db(),
            mail_app.extensions["instrument"],
            "Pulse\nBcc: x@evil.example",
            "en",
            [{"code": "A", "name": "A"}],
            "pulse",
        )
    with mail_app.app_context():
        invitations.import_invitations(get_db(), surveys.get_survey(get_db(), "pulse"), "ann@example.org,A\n")
    assert send(runner, "send", "pulse").exit_code == 0
    (msg,) = inbox.messages
    assert msg["Subject"] == "Your invitation: Pulse Bcc: x@evil.example" and msg["Bcc"] is None
    assert inbox.envelopes[0][1] == ["ann@example.org"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SMTP_HOST": "mail.example", "SMTP_TLS": "yes"}, "FLASK_SMTP_TLS must be none, starttls or ssl"),
        ({"SMTP_HOST": "mail.example", "SMTP_PORT": "x"}, "FLASK_SMTP_PORT must be a port number"),
        ({"SMTP_HOST": "mail.example", "SMTP_PORT": 70000}, "FLASK_SMTP_PORT must be a port number"),
        ({"SMTP_HOST": "mail.example"}, "Set FLASK_SMTP_SENDER"),
        ({"SMTP_HOST": "mail.example", "SMTP_SENDER": "hr"}, "Set FLASK_SMTP_SENDER"),
        ({"SMTP_HOST": "m.example", "SMTP_SENDER": "a@b.no", "SMTP_PASSWORD": "pw"}, "FLASK_SMTP_USER is not"),
    ],
)
def test_wrong_smtp_settings_are_named(config, message):
    with pytest.raises(mailer.MailConfigError, match=message):
        mailer.smtp_settings(config)


def test_smtp_settings_defaults():
    assert mailer.smtp_settings({}) is None
    settings = mailer.smtp_settings(
        {"SMTP_HOST": "mail.example", "SMTP_SENDER": "a@b.no", "SMTP_USER": "u", "SMTP_PASSWORD": 1234}
    )
    assert (settings.port, settings.tls, settings.password) == (587, "starttls", "1234")
    assert mailer.smtp_settings({"SMTP_HOST": "m", "SMTP_SENDER": "a@b.no", "SMTP_TLS": "ssl"}).port == 465
    assert "1234" not in repr(settings)


def test_the_hr_page_sends_in_steps_within_its_time_limit(mail_app, hr_client, inbox, db):
    mail_app.config["MAIL_BATCH_SECONDS"] = 0  # every press sends one message, then stops
    import_csv(mail_app, PEOPLE)
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "kind": "invitation"}
    page = hr_client.post("/admin/surveys/acme/invitations/send", data=data, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Sent 1 invitation." in page and "The time limit of 0 s was reached. 2 still to send" in page
    assert "Continue: Send invitations (2)" in page
    for _ in range(2):
        page = hr_client.post("/admin/surveys/acme/invitations/send", data=data, follow_redirects=True).get_data(
            as_text=True
        )
    assert "All invitations of this batch are sent." in page and "Send invitations (0)" in page
    assert inbox.recipients() == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert db["mailings"].count == 1
