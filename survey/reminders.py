"""Reminders to the owners of actions due within a week or overdue: one e-mail per owner and day, resumable.

Each run looks at today's date. An owner is claimed by writing a row per action and day into
`action_reminders` ('sending') before the message goes out, then 'sent' (or 'failed' when the
server refuses the address for good). A second run on the same day skips every owner who has
a row for the day, so the command can run from cron as often as one likes, and an interrupted
run resumes with the owners it had not reached. A message whose connection broke while it was
handed over stays 'sending' and is not sent again that day, so nobody gets it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from flask_babel import force_locale
from sqlite_utils import Database

from . import actions, links
from .db import today, write_transaction
from .invitations import smtp

LANGS = ("nb", "nn", "en")


@dataclass
class ReminderReport:
    """What one run did."""

    sent: int = 0
    actions: int = 0
    skipped: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None


def _owners(db: Database, day: str) -> list[tuple[str, list[dict]]]:
    """Return (e-mail, due actions) per owner, by lowercased e-mail."""
    due = sorted(actions.due_soon(db, day), key=lambda a: (a["owner_email"].lower(), a["due"], a["id"]))
    return [(email, list(group)) for email, group in groupby(due, key=lambda a: a["owner_email"].lower())]


def _claim(db: Database, email: str, due: list[dict], day: str) -> bool:
    """Claim an owner for today; False when a reminder went (or is going) to them today already."""
    with write_transaction(db):
        seen = db.execute(
            "SELECT 1 FROM action_reminders WHERE day = ? AND lower(email) = ? LIMIT 1", [day, email]
        ).fetchone()
        if seen:
            return False
        db.conn.executemany(
            "INSERT INTO action_reminders (action_id, day, email, status) VALUES (?, ?, ?, 'sending')",
            [(action["id"], day, email) for action in due],
        )
    return True


def _settle(db: Database, email: str, day: str, outcome: str, error: str = "") -> None:
    with write_transaction(db):
        if outcome == "release":
            db.execute("DELETE FROM action_reminders WHERE day = ? AND email = ? AND status = 'sending'", [day, email])
        else:
            db.execute(
                "UPDATE action_reminders SET status = ?, error = ? WHERE day = ? AND email = ? AND status = 'sending'",
                [outcome, error[:500] or None, day, email],
            )


def compose(settings: smtp.SmtpSettings, email: str, due: list[dict], day: str):
    """Render one owner's reminder in the language of the (first) survey."""
    lang = due[0]["language"] if due[0]["language"] in LANGS else "en"
    items = [
        {
            **action,
            "overdue": action["due"] < day,
            "link": links.public_url("admin.actions_page", slug=action["slug"]),
        }
        for action in due
    ]
    with force_locale(lang):
        return smtp.render_message(settings, email, "mail/action_reminder.txt", actions=items, day=day)


def send_reminders(db: Database, settings: smtp.SmtpSettings, day: str | None = None) -> ReminderReport:
    """E-mail every owner with actions due within a week or overdue, at most once a day; stop on a server failure."""
    day = day or today()
    report = ReminderReport()
    owners = _owners(db, day)
    if not owners:
        return report
    with smtp.Mailer(settings) as server:
        for email, due in owners:
            if not _claim(db, email, due, day):
                report.skipped += 1
                continue
            try:
                message = compose(settings, due[0]["owner_email"], due, day)
            except BaseException:
                _settle(db, email, day, "release")
                raise
            try:
                server.send(message)
            except smtp.RecipientRefused as exc:
                _settle(db, email, day, "failed", str(exc))
                report.refused.append((due[0]["owner_email"], str(exc)))
                continue
            except (smtp.TemporaryMailError, smtp.MailConfigError) as exc:
                _settle(db, email, day, "release")  # nothing went out: due again in the next run
                report.stopped = str(exc)
                break
            except smtp.Unconfirmed as exc:
                report.stopped = str(exc)  # left 'sending': never sent twice on one day
                break
            _settle(db, email, day, "sent")
            report.sent += 1
            report.actions += len(due)
    return report


def log(db: Database, action_id: int) -> list[dict]:
    """Return the reminders recorded for an action, newest first."""
    return list(
        db.query(
            "SELECT day, email, status, error FROM action_reminders WHERE action_id = ? ORDER BY day DESC", [action_id]
        )
    )
