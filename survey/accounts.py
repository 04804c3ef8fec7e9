"""HR and facilitator accounts, and API tokens; passwords and tokens are stored hashed."""

from __future__ import annotations

import re
import secrets

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from .db import today, write_transaction
from .questionnaire import LANGUAGES
from .responses import hash_token

ROLES = ("hr", "facilitator")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 10
# Checked against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """Invalid account data; the message says what to fix."""


def create_user(db: Database, email: str, password: str, role: str) -> int:
    """Create a user with a hashed password and return its id."""
    email = email.strip()
    if not EMAIL_RE.match(email):
        raise AccountError(f"'{email}' is not an e-mail address.")
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'; use one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD} characters.")
    if db["users"].count_where("email = ? COLLATE NOCASE", [email]):
        raise AccountError(f"A user with e-mail '{email}' already exists.")
    with write_transaction(db):
        return (
            db["users"]
            .insert(
                {"email": email, "password_hash": generate_password_hash(password), "role": role, "created_on": today()}
            )
            .last_pk
        )


def authenticate(db: Database, email: str, password: str) -> dict | None:
    """Return the user (id, email, role) when the password matches, else None."""
    rows = list(db.query("SELECT id, email, role, password_hash FROM users WHERE email = ? COLLATE NOCASE", [email]))
    if not rows:
        check_password_hash(_DUMMY_HASH, password)
        return None
    user = rows[0]
    if not check_password_hash(user["password_hash"], password):
        return None
    return {"id": user["id"], "email": user["email"], "role": user["role"]}


def get_user(db: Database, user_id: int) -> dict | None:
    """Return the user (id, email, role, language) with this id, or None."""
    rows = list(db.query("SELECT id, email, role, language FROM users WHERE id = ?", [user_id]))
    return rows[0] if rows else None


def set_language(db: Database, user_id: int, language: str | None) -> None:
    """Remember the language of a user's pages (None: the browser's, else the survey's)."""
    if language is not None and language not in LANGUAGES:
        raise AccountError(f"Unknown language '{language}'; use one of {', '.join(LANGUAGES)}.")
    with write_transaction(db):
        db.execute("UPDATE users SET language = ? WHERE id = ?", [language, user_id])


def count_users(db: Database) -> int:
    """Return the number of accounts."""
    return db["users"].count


def create_token(db: Database, role: str, label: str | None = None) -> str:
    """Create an API token for a role; return it (it is stored only as a hash)."""
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'; use one of {', '.join(ROLES)}.")
    token = "eps_" + secrets.token_urlsafe(32)
    with write_transaction(db):
        db["api_tokens"].insert({"token_hash": hash_token(token), "role": role, "label": label, "created_on": today()})
    return token


def role_for_token(db: Database, token: str) -> str | None:
    """Return the role of a valid API token, or None."""
    if not token or len(token) > 200:
        return None
    rows = list(db.query("SELECT role FROM api_tokens WHERE token_hash = ?", [hash_token(token)]))
    return rows[0]["role"] if rows else None
