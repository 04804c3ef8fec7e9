"""Personal invitations: single-use links that record only that they were used."""

from __future__ import annotations

import secrets

from sqlite_utils import Database

from .db import today, write_transaction
from .responses import hash_token
from .surveys import Department, Survey


def create_invitations(db: Database, survey: Survey, department: Department, count: int) -> list[str]:
    """Create `count` invitations for a department and return their tokens (shown once, stored hashed)."""
    if not 1 <= count <= 5000:
        raise ValueError("Create between 1 and 5,000 invitations at a time.")
    tokens = [secrets.token_urlsafe(24) for _ in range(count)]
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
    return tokens


def find_invitation(db: Database, token: str) -> dict | None:
    """Return the invitation (id, survey slug, department id, used) for a token, or None."""
    if not token or len(token) > 200:
        return None
    rows = list(
        db.query(
            """SELECT i.id, i.department_id, i.used, s.slug FROM invitations i
               JOIN surveys s ON s.id = i.survey_id WHERE i.token_hash = ?""",
            [hash_token(token)],
        )
    )
    return rows[0] if rows else None


def invitation_counts(db: Database, survey: Survey) -> dict[str, int]:
    """Return how many invitations exist and how many were used."""
    row = next(
        db.query(
            "SELECT COUNT(*) AS sent, COALESCE(SUM(used), 0) AS used FROM invitations WHERE survey_id = ?",
            [survey.id],
        )
    )
    return {"sent": row["sent"], "used": row["used"]}
