"""Personal invitations: single-use links that record only that they were used."""

from __future__ import annotations

import secrets

from sqlite_utils import Database

from .. import audit
from ..db import today, write_transaction
from ..responses import hash_token
from ..surveys import Department, Survey, departments
from . import csv_import

# 24 random bytes from `secrets` are 192 bits: far beyond guessing, short enough for a link.
TOKEN_BYTES = 24


def new_token() -> str:
    """Return a fresh invitation token (URL-safe, 192 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def create_invitations(db: Database, survey: Survey, department: Department, count: int) -> list[str]:
    """Create `count` invitations for a department and return their tokens (shown once, stored hashed)."""
    if not 1 <= count <= 5000:
        raise ValueError("Create between 1 and 5,000 invitations at a time.")
    tokens = [new_token() for _n in range(count)]
    with write_transaction(db):
        db["invitations"].insert_all(
            {
                "survey_id": survey.id,
                "department_id": department.id,
                "token_hash": hash_token(t),
                "used": 0,
                "created_on": today(),
            }
            for t in tokens
        )
        audit.record(db, "invitation-links-created", survey.slug, f"department={department.code}, links={count}")
    return tokens


def import_invitations(db: Database, survey: Survey, data: bytes | str, dry_run: bool = False) -> csv_import.CsvReport:
    """Check an invitation file and, when no row is bad, store its new invitees; return the CsvReport.

    Nothing is stored when any row is bad, so a file is never half imported. Each invitee
    gets a random token of which only the SHA-256 is kept; the links people receive are
    issued when the invitations are sent or exported (see issue_token).
    """
    depts = departments(db, survey)
    with write_transaction(db):
        # Reading and writing under one write lock: two imports of one file cannot double anyone.
        existing = {
            r["email"]: r["department_id"]
            for r in db.query(
                "SELECT email, department_id FROM invitations WHERE survey_id = ? AND email IS NOT NULL", [survey.id]
            )
        }
        report = csv_import.parse(data, depts, existing)
        if report.ok and not dry_run:
            db.conn.executemany(
                "INSERT INTO invitations (survey_id, department_id, token_hash, email, language, used, created_on)"
                " VALUES (?, ?, ?, ?, ?, 0, ?)",
                [
                    (survey.id, row.department_id, hash_token(new_token()), row.email, row.language, today())
                    for row in report.rows
                ],
            )
            # How many, never who: the addresses stay out of the trail.
            audit.record(db, "invitations-imported", survey.slug, f"invitations={len(report.rows)}")
    return report


def issue_token(db: Database, invitation_id: int) -> str:
    """Issue a new link token for an invitation and return it; call inside the caller's transaction."""
    # Only hashes are kept, so a reminder cannot repeat the first link: it carries a new
    # one, and the earlier links keep working until the invitation is used once.
    token = new_token()
    db.execute(
        "INSERT INTO invitation_links (token_hash, invitation_id) VALUES (?, ?)", [hash_token(token), invitation_id]
    )
    return token


def withdraw_token(db: Database, token: str) -> None:
    """Forget a token that never reached anyone (its message failed); call inside a transaction."""
    db.execute("DELETE FROM invitation_links WHERE token_hash = ?", [hash_token(token)])


_FIND_BY_HASH = """SELECT i.id, i.survey_id, i.department_id, i.used, i.language, s.slug
FROM invitations i JOIN surveys s ON s.id = i.survey_id
WHERE i.id = COALESCE((SELECT id FROM invitations WHERE token_hash = :h),
                      (SELECT invitation_id FROM invitation_links WHERE token_hash = :h))"""
_BY_ID = """SELECT i.id, i.survey_id, i.department_id, i.used, i.language, s.slug
FROM invitations i JOIN surveys s ON s.id = i.survey_id WHERE i.id = :id"""


def find_invitation(db: Database, token: str) -> dict | None:
    """Return the invitation (id, survey slug, department id, used, language) for any of its tokens, or None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    rows = list(db.query(_FIND_BY_HASH, {"h": hash_token(token)}))
    return rows[0] if rows else None


def get_invitation(db: Database, invitation_id: int) -> dict | None:
    """Return the invitation with this id (same fields as find_invitation), or None."""
    rows = list(db.query(_BY_ID, {"id": invitation_id}))
    return rows[0] if rows else None


def invitation_counts(db: Database, survey: Survey) -> dict[str, int]:
    """Return how many invitations exist, were used, have an e-mail, and were sent or exported."""
    row = next(
        db.query(
            """SELECT COUNT(*) AS created, COALESCE(SUM(used), 0) AS used, COUNT(email) AS with_email,
                      COUNT(sent_on) AS delivered,
                      COALESCE(SUM(email IS NOT NULL AND sent_on IS NOT NULL AND used = 0), 0) AS unanswered
               FROM invitations WHERE survey_id = ?""",
            [survey.id],
        )
    )
    return dict(row)


def invited_by_department(db: Database, survey: Survey) -> dict[int, int]:
    """Return the number of invitations per department id (departments without any are left out)."""
    return {
        r["department_id"]: r["n"]
        for r in db.query(
            "SELECT department_id, COUNT(*) AS n FROM invitations WHERE survey_id = ? GROUP BY department_id",
            [survey.id],
        )
    }
