"""Retention and erasure: delete a survey and everything derived from it; erase e-mails and comments when due.

"Automatically" without a process left running: the purge runs at start-up, then lazily at
most once per PURGE_EVERY seconds on requests, and from cron with `flask --app app purge`.
What is erased is overwritten in the file (secure_delete), the file is rebuilt (VACUUM), and
every worker process empties its memory caches when it sees the erasure epoch change.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlite_utils import Database

from . import audit, report, results
from .db import get_db, write_transaction
from .surveys import Survey, departments, rebuild

PURGE_EVERY = 3600
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Loss:
    """What deleting a survey erases, as the confirmation names it."""

    responses: int
    comments: int
    invitations: int
    emails: int
    departments: int
    report_files: int


def report_files(survey: Survey, db: Database) -> list[Path]:
    """Return the PDF reports of this survey that the `report` command wrote to REPORTS_DIR."""
    folder = Path(current_app.config["REPORTS_DIR"])
    if not folder.is_dir():
        return []
    codes = "|".join(re.escape(d.code.lower()) for d in departments(db, survey))
    units = f"(-(?:{codes}))?" if codes else ""
    pattern = re.compile(rf"report-{re.escape(survey.slug)}{units}-(nb|nn|en)-\d{{4}}-\d{{2}}-\d{{2}}\.pdf")
    others = [row[0] for row in db.execute("SELECT slug FROM surveys WHERE id != ?", [survey.id])]
    found = []
    for path in folder.iterdir():
        if not pattern.fullmatch(path.name):
            continue
        # "report-acme-2-en-..." may be survey acme-2's, not department 2 of acme: leave it to its own survey.
        if any(path.name.startswith(f"report-{slug}-") and len(slug) > len(survey.slug) for slug in others):
            continue
        found.append(path)
    return found


def loss(db: Database, survey: Survey) -> Loss:
    """Count what deleting the survey erases."""
    row = db.execute(
        """SELECT (SELECT COUNT(*) FROM responses WHERE survey_id = :s),
                  (SELECT COUNT(*) FROM responses WHERE survey_id = :s AND comment IS NOT NULL AND comment != ''),
                  (SELECT COUNT(*) FROM invitations WHERE survey_id = :s),
                  (SELECT COUNT(email) FROM invitations WHERE survey_id = :s),
                  (SELECT COUNT(*) FROM departments WHERE survey_id = :s)""",
        {"s": survey.id},
    ).fetchone()
    return Loss(*row, report_files=len(report_files(survey, db)))


def bump_epoch(db: Database) -> None:
    """Tell every worker process that something was erased (call inside the erasing transaction)."""
    db.execute("UPDATE erasure_epoch SET epoch = epoch + 1")


def forget_in_memory(app: Flask) -> None:
    """Empty this process's caches that may hold what was erased: results, rendered forms, chart images."""
    results.CACHE.clear()
    for name in ("form_pages", "first_visits"):  # rendered forms (respond/__init__.py, respond/first_visit.py)
        pages = app.extensions.get(name)
        if pages is not None:
            pages.clear()
    report.EXPORTER.memory.clear()


def follow_epoch(db: Database, app: Flask) -> None:
    """Empty this process's caches when another process (or this one) erased something since the last look."""
    epoch = db.execute("SELECT epoch FROM erasure_epoch").fetchone()[0]
    seen = app.extensions.get("erasure_epoch_seen")
    if seen is not None and seen != epoch:
        forget_in_memory(app)
    app.extensions["erasure_epoch_seen"] = epoch


def delete_survey(db: Database, survey: Survey) -> Loss:
    """Delete a survey and everything derived from it, irrevocably; return what was erased.

    Its rows (departments, items, responses and answers, invitations and their links, mailings
    and their logs) are deleted in one transaction and overwritten with zeros (secure_delete);
    the file is then rebuilt (VACUUM), this process's caches are emptied (other workers follow
    the erasure epoch), and the PDF reports the `report` command wrote for it are deleted. The
    audit trail keeps that the survey (by its address) was deleted, by whom and when.
    """
    lost = loss(db, survey)
    files = report_files(survey, db)
    with write_transaction(db):
        db.execute(
            "DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE survey_id = ?)", [survey.id]
        )
        db.execute("DELETE FROM responses WHERE survey_id = ?", [survey.id])
        db.execute(
            "DELETE FROM mail_log WHERE mailing_id IN (SELECT id FROM mailings WHERE survey_id = ?)", [survey.id]
        )
        db.execute("DELETE FROM mailings WHERE survey_id = ?", [survey.id])
        db.execute(
            "DELETE FROM invitation_links WHERE invitation_id IN (SELECT id FROM invitations WHERE survey_id = ?)",
            [survey.id],
        )
        db.execute("DELETE FROM invitations WHERE survey_id = ?", [survey.id])
        # Whatever else hangs on the survey (tables of other features) goes by ON DELETE CASCADE.
        db.execute("DELETE FROM surveys WHERE id = ?", [survey.id])
        bump_epoch(db)
        audit.record(
            db,
            "survey-deleted",
            survey.slug,
            f"responses={lost.responses}, comments={lost.comments}, invitations={lost.invitations}",
        )
    for path in files:
        path.unlink(missing_ok=True)
    rebuild(db)
    forget_in_memory(current_app._get_current_object())
    return lost


def _cutoff(days: object) -> str | None:
    if days is None or str(days).strip() == "":
        return None
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=int(days))).isoformat()


def purge(db: Database, app: Flask | None = None, actor: str | None = None) -> dict[str, int]:
    """Erase what is past its retention period; return how many of each were erased.

    - invitation e-mail addresses (and their delivery log) INVITATION_RETENTION_DAYS after the survey closed;
    - comments COMMENT_RETENTION_DAYS after the survey closed, when set;
    - audit entries older than AUDIT_RETENTION_DAYS, when set.
    """
    app = app or current_app._get_current_object()
    config = app.config
    done = {"emails": 0, "comments": 0, "audit": 0}
    emails_before = _cutoff(config.get("INVITATION_RETENTION_DAYS"))
    comments_before = _cutoff(config.get("COMMENT_RETENTION_DAYS"))
    audit_before = _cutoff(config.get("AUDIT_RETENTION_DAYS"))
    with write_transaction(db):
        if emails_before is not None:
            # The delivery log may quote an address in a mail server's refusal: it goes with the addresses.
            db.execute(ERASE_MAIL_LOG, [emails_before])
            done["emails"] = db.execute(ERASE_EMAILS, [emails_before]).rowcount
        if comments_before is not None:
            done["comments"] = db.execute(ERASE_COMMENTS, [comments_before]).rowcount
        if audit_before is not None:
            db.execute("UPDATE audit_gate SET purging = 1")
            done["audit"] = db.execute("DELETE FROM audit_log WHERE at < ?", [audit_before]).rowcount
            db.execute("UPDATE audit_gate SET purging = 0")
        if any(done.values()):
            bump_epoch(db)
            audit.record(
                db,
                "retention-purge",
                None,
                f"e-mail addresses={done['emails']}, comments={done['comments']}, audit entries={done['audit']}",
                actor=actor or audit.AUTOMATIC,
            )
    if done["emails"] or done["comments"]:
        rebuild(db)
        forget_in_memory(app)
    return done


# Written out in full (no string building): the surveys closed on or before the cut-off day.
ERASE_MAIL_LOG = """DELETE FROM mail_log WHERE invitation_id IN (SELECT id FROM invitations WHERE email IS NOT NULL
    AND survey_id IN (SELECT id FROM surveys WHERE status = 'closed' AND closed_on IS NOT NULL AND closed_on <= ?))"""
ERASE_EMAILS = """UPDATE invitations SET email = NULL WHERE email IS NOT NULL
    AND survey_id IN (SELECT id FROM surveys WHERE status = 'closed' AND closed_on IS NOT NULL AND closed_on <= ?)"""
ERASE_COMMENTS = """UPDATE responses SET comment = NULL WHERE comment IS NOT NULL
    AND survey_id IN (SELECT id FROM surveys WHERE status = 'closed' AND closed_on IS NOT NULL AND closed_on <= ?)"""


def purge_when_due(app: Flask) -> None:
    """Run the purge if it has not run in this process for PURGE_EVERY seconds (cheap to call on every request)."""
    last = app.extensions.get("purged_at", 0.0)
    if time.monotonic() - last < PURGE_EVERY:
        return
    with _LOCK:
        if time.monotonic() - app.extensions.get("purged_at", 0.0) < PURGE_EVERY:
            return
        app.extensions["purged_at"] = time.monotonic()
    purge(get_db(), app)


def init_app(app: Flask) -> None:
    """Purge at start-up, follow other workers' erasures and purge lazily on requests."""
    from .db import connect

    db = connect(app.config["DATABASE"], app.config["DB_BUSY_TIMEOUT_MS"])
    try:
        purge(db, app)
        app.extensions["purged_at"] = time.monotonic()
    finally:
        db.close()

    @app.before_request
    def _retention() -> None:
        db = get_db()
        follow_epoch(db, app)
        purge_when_due(app)
