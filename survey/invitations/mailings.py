"""Resumable mailings: each invitation and reminder is sent once, even when a batch is run again.

A batch (a row of `mailings`) claims one recipient at a time in the mail log ('sending'),
sends, then records 'sent'. A second run of an unfinished batch skips everyone in its
log, so an interrupted batch can simply be run again. A message whose connection broke
while it was being handed over stays 'sending' (unconfirmed) and is not sent again unless
asked, so nobody gets it twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _
from sqlite_utils import Database

from .. import audit, i18n, links, privacy
from ..db import today, write_transaction
from ..surveys import Survey
from . import smtp, tokens

KINDS = ("invitation", "reminder", "nudge")
# Only these can be downloaded as a file of links: a list of those who have not answered
# would tell everyone else that they have.
EXPORTABLE = ("invitation", "reminder")

_RECIPIENT = """SELECT i.id, i.email, i.language, d.code AS department_code, d.name AS department
FROM invitations i JOIN departments d ON d.id = i.department_id
WHERE i.survey_id = :survey AND i.email IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM mail_log l WHERE l.mailing_id = :mailing AND l.invitation_id = i.id)"""

# Who a batch (:mailing; 0 for a new one) still has to reach, among people with an e-mail who
# are not in the batch's log yet. Invitations go to those never sent one (and not left
# unconfirmed by an earlier batch); reminders to everyone sent an invitation before today and
# not reminded today, answered or not, so that a reminder says nothing about who answered;
# nudges (sent by the app only, never exported) to unused invitations, at most once a day.
RECIPIENTS = {
    "invitation": _RECIPIENT  # noqa: S608 (constant text only)
    + """
  AND i.used = 0 AND i.sent_on IS NULL AND NOT EXISTS (
      SELECT 1 FROM mail_log l JOIN mailings m ON m.id = l.mailing_id
      WHERE l.invitation_id = i.id AND m.kind = 'invitation' AND l.status = 'sending')
ORDER BY i.id LIMIT :limit""",
    "reminder": _RECIPIENT
    + """
  AND i.sent_on < :today AND (i.reminded_on IS NULL OR i.reminded_on < :today)
ORDER BY i.id LIMIT :limit""",
    "nudge": _RECIPIENT  # noqa: S608 (constant text only)
    + """
  AND i.used = 0 AND i.sent_on < :today AND NOT EXISTS (
      SELECT 1 FROM mailings m WHERE m.survey_id = :survey AND m.kind = 'nudge' AND m.id != :mailing
      AND m.started_on = :today)
ORDER BY i.id LIMIT :limit""",
}


class MailingError(ValueError):
    """A batch cannot be sent now; the message says why and what to do."""


@dataclass
class MailingReport:
    """What one run of a batch did."""

    kind: str
    sent: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    remaining: int = 0
    unconfirmed: int = 0
    stopped: str | None = None
    finished: bool = False


def check_deliverable(survey: Survey) -> None:
    """Raise MailingError when links cannot be delivered: survey closed or no public address."""
    if survey.is_draft:
        raise MailingError(_("The survey is a draft; open it before sending invitations or reminders."))
    if not survey.is_open:
        raise MailingError(_("The survey is closed; reopen it before sending invitations or reminders."))
    if not links.base_url_configured():
        raise MailingError(
            _(
                "Set FLASK_BASE_URL to the public address of this app first: the links would point to %(url)s.",
                url=links.base_url(),
            )
        )


def recipients(db: Database, survey: Survey, kind: str, mailing_id: int = 0) -> list[dict]:
    """Return who a batch of this kind still has to reach (mailing_id 0: a new batch)."""
    params = {"survey": survey.id, "mailing": mailing_id, "today": today(), "limit": -1}
    return list(db.query(RECIPIENTS[kind], params))


def open_mailing(db: Database, survey: Survey, kind: str) -> int:
    """Return the unfinished e-mail batch of this kind, starting one when there is none."""
    with write_transaction(db):
        row = db.execute(
            "SELECT id FROM mailings WHERE survey_id = ? AND kind = ? AND channel = 'smtp' AND finished_on IS NULL",
            [survey.id, kind],
        ).fetchone()
        if row:
            return row[0]
        return db.execute(
            "INSERT INTO mailings (survey_id, kind, channel, started_on) VALUES (?, ?, 'smtp', ?)",
            [survey.id, kind, today()],
        ).lastrowid


def _mark_delivered(db: Database, invitation_id: int, kind: str) -> None:
    if kind == "nudge":
        return  # a mark per person would record who had not answered
    column = "sent_on" if kind == "invitation" else "reminded_on"
    db.execute(f"UPDATE invitations SET {column} = ? WHERE id = ?", [today(), invitation_id])  # noqa: S608


def _claim(db: Database, survey: Survey, kind: str, mailing_id: int) -> tuple[dict, str] | None:
    """Claim the next recipient of a batch and issue its link, or return None when all are reached."""
    with write_transaction(db):
        params = {"survey": survey.id, "mailing": mailing_id, "today": today(), "limit": 1}
        rows = list(db.query(RECIPIENTS[kind], params))
        if not rows:
            return None
        db.execute(
            "INSERT INTO mail_log (mailing_id, invitation_id, status) VALUES (?, ?, 'sending')",
            [mailing_id, rows[0]["id"]],
        )
        return rows[0], tokens.issue_token(db, rows[0]["id"])


def _settle(
    db: Database, mailing_id: int, recipient: dict, token: str, kind: str, outcome: str, error: str = ""
) -> None:
    """Record what became of a claimed message: sent, refused for good, or released for a later run."""
    with write_transaction(db):
        where = [mailing_id, recipient["id"]]
        if outcome == "sent":
            db.execute("UPDATE mail_log SET status = 'sent' WHERE mailing_id = ? AND invitation_id = ?", where)
            _mark_delivered(db, recipient["id"], kind)
            return
        # The link never reached anyone: forget it.
        tokens.withdraw_token(db, token)
        if outcome == "failed":
            db.execute(
                "UPDATE mail_log SET status = 'failed', error = ? WHERE mailing_id = ? AND invitation_id = ?",
                [error[:500], *where],
            )
        else:
            db.execute("DELETE FROM mail_log WHERE mailing_id = ? AND invitation_id = ?", where)


def compose(settings: smtp.SmtpSettings, survey: Survey, kind: str, recipient: dict, token: str) -> EmailMessage:
    """Render the invitation or reminder for one recipient, in their language (else the survey's)."""
    with i18n.language(recipient["language"] or survey.language):
        return smtp.render_message(
            settings,
            recipient["email"],
            f"mail/{kind}.txt",
            survey=survey,
            department=recipient["department"],
            link=links.invitation_link(token),
            k=privacy.effective_k(survey.min_group_size),
        )


def release_unconfirmed(db: Database, survey: Survey, kind: str) -> int:
    """Make unconfirmed messages of this kind due again (they may arrive twice); return how many."""
    with write_transaction(db):
        return db.execute(
            """DELETE FROM mail_log WHERE status = 'sending' AND mailing_id IN
               (SELECT id FROM mailings WHERE survey_id = ? AND kind = ?)""",
            [survey.id, kind],
        ).rowcount


def unconfirmed(db: Database, survey: Survey, kind: str) -> int:
    """Return how many messages of this kind broke off while being handed over."""
    return db.execute(
        """SELECT COUNT(*) FROM mail_log l JOIN mailings m ON m.id = l.mailing_id
           WHERE m.survey_id = ? AND m.kind = ? AND l.status = 'sending'""",
        [survey.id, kind],
    ).fetchone()[0]


def send_batch(
    db: Database,
    survey: Survey,
    kind: str,
    settings: smtp.SmtpSettings,
    max_seconds: float | None = None,
    retry_unconfirmed: bool = False,
) -> MailingReport:
    """Send (or resume) the batch of invitations or reminders; stop early on a server failure or the time limit."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    check_deliverable(survey)
    if retry_unconfirmed:
        release_unconfirmed(db, survey, kind)
    mailing_id = open_mailing(db, survey, kind)
    report = MailingReport(kind)
    started = time.monotonic()
    attempted = 0
    out_of_time = False
    with smtp.Mailer(settings) as server:
        while True:
            # At least one message per run, so that even a tiny time limit makes progress.
            if max_seconds is not None and attempted and time.monotonic() - started >= max_seconds:
                out_of_time = True
                break
            attempted += 1
            claim = _claim(db, survey, kind, mailing_id)
            if claim is None:
                break
            recipient, token = claim
            try:
                message = compose(settings, survey, kind, recipient, token)
            except BaseException:
                _settle(db, mailing_id, recipient, token, kind, "release")
                raise
            # Any other exception (an interrupt) leaves the claim 'sending': unconfirmed, never sent twice.
            try:
                server.send(message)
            except smtp.RecipientRefused as exc:
                _settle(db, mailing_id, recipient, token, kind, "failed", str(exc))
                report.refused.append((recipient["email"], str(exc)))
                continue
            except (smtp.TemporaryMailError, smtp.MailConfigError) as exc:
                # Nothing was handed over: the recipient is due again in the next run.
                _settle(db, mailing_id, recipient, token, kind, "release")
                report.stopped = str(exc)
                break
            except smtp.Unconfirmed as exc:
                report.stopped = str(exc)
                break
            _settle(db, mailing_id, recipient, token, kind, "sent")
            report.sent += 1
    if report.sent or report.refused:
        detail = f"kind={kind}, sent={report.sent}, refused={len(report.refused)}"
        audit.record(db, "invitations-sent", survey.slug, detail)
    report.remaining = len(recipients(db, survey, kind, mailing_id))
    if out_of_time and report.remaining:
        seconds = i18n.number(max_seconds, 0 if float(max_seconds).is_integer() else 1)
        report.stopped = _("The time limit of %(seconds)s s was reached.", seconds=seconds)
    if report.remaining == 0:
        finish(db, mailing_id, kind)
        report.finished = True
    report.unconfirmed = unconfirmed(db, survey, kind)
    return report


def finish(db: Database, mailing_id: int, kind: str) -> None:
    """Mark a batch finished; a nudge then forgets who it reached and keeps only how many."""
    with write_transaction(db):
        sent = db.execute(
            "SELECT COUNT(*) FROM mail_log WHERE mailing_id = ? AND status = 'sent'", [mailing_id]
        ).fetchone()[0]
        db.execute("UPDATE mailings SET finished_on = ?, sent_count = ? WHERE id = ?", [today(), sent, mailing_id])
        if kind == "nudge":
            # The log of a nudge is a list of who had not answered: once nothing is left to
            # resume, it is erased (secure_delete overwrites it).
            db.execute("DELETE FROM mail_log WHERE mailing_id = ?", [mailing_id])


def export_links(db: Database, survey: Survey, kind: str) -> list[dict]:
    """Issue fresh links for everyone a batch of this kind would reach, mark them delivered, and return the rows.

    For HR's own mail tool: the links exist only in the returned rows (and the file made of them).
    Reminders go to everyone invited, so the file says nothing about who has answered.
    """
    if kind not in EXPORTABLE:
        raise MailingError(
            _(
                "Only invitations and reminders to everyone can be downloaded; a list of those who have "
                "not answered would tell who has. Send that reminder by e-mail from this app."
            )
        )
    check_deliverable(survey)
    out = []
    with write_transaction(db):
        due = recipients(db, survey, kind)
        if not due:
            return []
        mailing_id = db.execute(
            "INSERT INTO mailings (survey_id, kind, channel, started_on, finished_on) VALUES (?, ?, 'csv', ?, ?)",
            [survey.id, kind, today(), today()],
        ).lastrowid
        for recipient in due:
            token = tokens.issue_token(db, recipient["id"])
            db.execute(
                "INSERT INTO mail_log (mailing_id, invitation_id, status) VALUES (?, ?, 'sent')",
                [mailing_id, recipient["id"]],
            )
            _mark_delivered(db, recipient["id"], kind)
            out.append(
                {
                    "email": recipient["email"],
                    "department": recipient["department_code"],
                    "language": recipient["language"] or survey.language,
                    "link": links.invitation_link(token),
                }
            )
        audit.record(db, "invitation-links-exported", survey.slug, f"kind={kind}, links={len(out)}")
    return out


def status(db: Database, survey: Survey) -> dict:
    """Return, per kind, who is due and the unfinished batch; and every batch so far, newest first."""
    out: dict = {"history": []}
    for kind in KINDS:
        row = db.execute(
            "SELECT id, started_on FROM mailings WHERE survey_id = ? AND kind = ? AND channel = 'smtp'"
            " AND finished_on IS NULL",
            [survey.id, kind],
        ).fetchone()
        out[kind] = {
            "due": len(recipients(db, survey, kind, row[0] if row else 0)),
            "resuming": {"id": row[0], "started_on": row[1]} if row else None,
            "unconfirmed": unconfirmed(db, survey, kind),
        }
    out["history"] = list(
        db.query(
            """SELECT m.id, m.kind, m.channel, m.started_on, m.finished_on,
                      COALESCE(m.sent_count, SUM(l.status = 'sent'), 0) AS sent,
                      COALESCE(SUM(l.status = 'failed'), 0) AS failed,
                      COALESCE(SUM(l.status = 'sending'), 0) AS unconfirmed
               FROM mailings m LEFT JOIN mail_log l ON l.mailing_id = m.id
               WHERE m.survey_id = ? GROUP BY m.id ORDER BY m.id DESC""",
            [survey.id],
        )
    )
    return out


def smtp_settings():
    """Return this app's SMTP settings, or None when mail is not configured (raises MailConfigError if wrong)."""
    return smtp.smtp_settings(current_app.config)
