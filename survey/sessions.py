"""Server-side login sessions: the cookie carries a random id, the database its hash; deleting the row logs out.

Flask's own session is a signed cookie that stays valid until it expires, whatever the server
does: a copy saved before logging out would keep working. So a login creates a row in
login_sessions holding the SHA-256 of a random id, and the signed cookie carries only that id.
Every request looks the row up; logging out, disabling the account or changing its password
deletes the rows, and the saved cookie is then worth nothing. Only the hash is stored, so a
copy of the database cannot be turned into a working cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app, session
from sqlite_utils import Database

from .db import write_transaction

SESSION_KEY = "sid"
# The last-seen time is written at most this often, not at every request (a write per page view).
SEEN_EVERY = 300


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config["LOGIN_IDLE_SECONDS"]), int(config["LOGIN_MAX_SECONDS"])


def begin(db: Database, user_id: int) -> None:
    """Start a fresh session for this user in this browser (a new id: no session fixation)."""
    now = int(time.time())
    idle, longest = _limits()
    sid = secrets.token_urlsafe(32)
    with write_transaction(db):
        # Expired rows are dropped here, so the table never holds more than the live sessions.
        db.execute("DELETE FROM login_sessions WHERE seen_at < ? OR created_at < ?", [now - idle, now - longest])
        db.execute(
            "INSERT INTO login_sessions (id_hash, user_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
            [_hash(sid), user_id, now, now],
        )
    lang = session.get("lang")
    session.clear()
    session[SESSION_KEY] = sid
    if lang:
        session["lang"] = lang


def current_user_id(db: Database) -> int | None:
    """Return the user id of this browser's live session, or None (no session, ended, expired or disabled)."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not sid or len(sid) > 100:
        return None
    now = int(time.time())
    idle, longest = _limits()
    rows = db.execute(
        """SELECT s.user_id, s.created_at, s.seen_at FROM login_sessions s JOIN users u ON u.id = s.user_id
           WHERE s.id_hash = ? AND u.disabled_on IS NULL""",
        [_hash(sid)],
    ).fetchall()
    if not rows:
        return None
    user_id, created_at, seen_at = rows[0]
    if seen_at < now - idle or created_at < now - longest:
        end(db)
        return None
    if now - seen_at >= SEEN_EVERY:
        with write_transaction(db):
            db.execute("UPDATE login_sessions SET seen_at = ? WHERE id_hash = ?", [now, _hash(sid)])
    return user_id


def end(db: Database) -> None:
    """End this browser's session on the server and forget it in the cookie."""
    sid = session.get(SESSION_KEY)
    if isinstance(sid, str) and sid:
        with write_transaction(db):
            db.execute("DELETE FROM login_sessions WHERE id_hash = ?", [_hash(sid)])
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def end_all(db: Database, user_id: int) -> int:
    """End every session of an account (call inside a write transaction); return how many were live."""
    return db.execute("DELETE FROM login_sessions WHERE user_id = ?", [user_id]).rowcount


def count_live(db: Database, user_id: int) -> int:
    """Return the number of stored sessions of an account."""
    return db.execute("SELECT COUNT(*) FROM login_sessions WHERE user_id = ?", [user_id]).fetchone()[0]
