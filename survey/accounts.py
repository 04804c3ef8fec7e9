"""HR and facilitator accounts, and API tokens; passwords and tokens are stored hashed."""

from __future__ import annotations

import re
import secrets

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, passwords, sessions
from .db import today, write_transaction
from .questionnaire import LANGUAGES
from .responses import hash_token

ROLES = ("hr", "facilitator")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = passwords.MIN_LENGTH
# Accounts that sign in only through single sign-on have no password: this value matches none.
NO_PASSWORD = "!"  # noqa: S105 (not a password: a hash value no password has)
# Checked against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """Invalid account data; the message says what to fix."""


def _check_password(password: str, email: str) -> str:
    try:
        return passwords.check(password, email)
    except passwords.PasswordRefused as exc:
        raise AccountError(str(exc)) from exc


def create_user(db: Database, email: str, password: str, role: str) -> int:
    """Create a user with a hashed password and return its id."""
    email = email.strip()
    if not EMAIL_RE.match(email):
        raise AccountError(f"'{email}' is not an e-mail address.")
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'; use one of {', '.join(ROLES)}.")
    password = _check_password(password, email)
    if db["users"].count_where("email = ? COLLATE NOCASE", [email]):
        raise AccountError(f"A user with e-mail '{email}' already exists.")
    with write_transaction(db):
        user_id = (
            db["users"]
            .insert(
                {"email": email, "password_hash": generate_password_hash(password), "role": role, "created_on": today()}
            )
            .last_pk
        )
        audit.record(db, "user-created", email, f"role={role}")
    return user_id


def _user_by_email(db: Database, email: str) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE email = ? COLLATE NOCASE", [email.strip()]))
    return rows[0] if rows else None


def user_by_email(db: Database, email: str) -> dict | None:
    """Return the user (id, email, role, disabled_on) with this e-mail, or None."""
    row = _user_by_email(db, email)
    return {k: row[k] for k in ("id", "email", "role", "disabled_on")} if row else None


def authenticate(db: Database, email: str, password: str) -> dict | None:
    """Return the user (id, email, role) when the password matches an enabled account, else None."""
    user = _user_by_email(db, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    normalised = passwords.normalise(password)
    matches = check_password_hash(user["password_hash"], normalised)
    if not matches and normalised != password:
        # A password set before normalisation was introduced was hashed as typed.
        matches = check_password_hash(user["password_hash"], password)
    if not matches or user["disabled_on"]:
        return None
    return {"id": user["id"], "email": user["email"], "role": user["role"]}


def set_password(db: Database, email: str, password: str) -> None:
    """Give an account a new password (checked by the rules) and end all its sessions."""
    user = _user_by_email(db, email)
    if user is None:
        raise AccountError(f"There is no user '{email}'.")
    password = _check_password(password, user["email"])
    with write_transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [generate_password_hash(password), user["id"]])
        sessions.end_all(db, user["id"])
        audit.record(db, "password-changed", user["email"])


def disable_user(db: Database, email: str) -> dict:
    """Disable an account at once: no more sign-in, every session ended, every token it owns revoked.

    Return counts {sessions, tokens} of what was ended.
    """
    user = _user_by_email(db, email)
    if user is None:
        raise AccountError(f"There is no user '{email}'.")
    with write_transaction(db):
        db.execute("UPDATE users SET disabled_on = COALESCE(disabled_on, ?) WHERE id = ?", [today(), user["id"]])
        ended = sessions.end_all(db, user["id"])
        revoked = db.execute(
            "UPDATE api_tokens SET revoked_on = ? WHERE user_id = ? AND revoked_on IS NULL", [today(), user["id"]]
        ).rowcount
        audit.record(db, "user-disabled", user["email"], f"sessions ended={ended}, tokens revoked={revoked}")
    return {"sessions": ended, "tokens": revoked}


def enable_user(db: Database, email: str) -> None:
    """Let a disabled account sign in again (its revoked tokens stay revoked)."""
    user = _user_by_email(db, email)
    if user is None:
        raise AccountError(f"There is no user '{email}'.")
    with write_transaction(db):
        db.execute("UPDATE users SET disabled_on = NULL WHERE id = ?", [user["id"]])
        audit.record(db, "user-enabled", user["email"])


def get_user(db: Database, user_id: int) -> dict | None:
    """Return the enabled user (id, email, role, language) with this id, or None."""
    rows = list(db.query("SELECT id, email, role, language FROM users WHERE id = ? AND disabled_on IS NULL", [user_id]))
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


def list_users(db: Database) -> list[dict]:
    """Return every account (id, email, role, created_on, disabled_on, single sign-on or not)."""
    return list(
        db.query(
            """SELECT id, email, role, created_on, disabled_on, oidc_subject IS NOT NULL AS sso
               FROM users ORDER BY email"""
        )
    )


def sso_user(db: Database, issuer: str, subject: str, email: str | None, email_verified: bool, role: str) -> dict:
    """Return the account of a single sign-on identity, creating or linking it; its role follows the provider.

    Found by (issuer, subject). Otherwise an existing account with the same e-mail is linked, but
    only when the provider says it verified that address (else anyone who could set that e-mail at
    the provider would take the account over); otherwise a new account without a password is made.
    Raise AccountError for a disabled account or an e-mail that is taken and not verified.
    """
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'.")
    with write_transaction(db):
        rows = list(db.query("SELECT * FROM users WHERE oidc_issuer = ? AND oidc_subject = ?", [issuer, subject]))
        user = rows[0] if rows else None
        if user is None and email:
            existing = _user_by_email(db, email)
            if existing is not None:
                if not email_verified:
                    raise AccountError(
                        f"An account with the e-mail '{email}' exists, but the identity provider has not verified "
                        "that address, so the two are not linked. Ask an administrator."
                    )
                if existing["oidc_subject"] is not None:
                    raise AccountError(f"The account '{email}' is linked to another single sign-on identity.")
                db.execute(
                    "UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?", [issuer, subject, existing["id"]]
                )
                user = {**existing, "oidc_issuer": issuer, "oidc_subject": subject}
        if user is None:
            address = email if email and EMAIL_RE.match(email) else f"{subject}@{issuer.split('//')[-1].split('/')[0]}"
            if _user_by_email(db, address) is not None:
                raise AccountError(f"The e-mail '{address}' belongs to another account. Ask an administrator.")
            user_id = (
                db["users"]
                .insert(
                    {
                        "email": address,
                        "password_hash": NO_PASSWORD,
                        "role": role,
                        "created_on": today(),
                        "oidc_issuer": issuer,
                        "oidc_subject": subject,
                    }
                )
                .last_pk
            )
            audit.record(db, "user-created", address, f"role={role}, single sign-on", actor=address)
            user = {"id": user_id, "email": address, "role": role, "disabled_on": None}
        if user["disabled_on"]:
            raise AccountError(f"The account '{user['email']}' is disabled.")
        if user["role"] != role:
            db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user["id"]])
    return {"id": user["id"], "email": user["email"], "role": role}


def create_token(db: Database, role: str, label: str | None = None, owner: str | None = None) -> str:
    """Create an API token for a role (owned by an account when given); return it (stored only as a hash)."""
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'; use one of {', '.join(ROLES)}.")
    user_id = None
    if owner:
        user = _user_by_email(db, owner)
        if user is None:
            raise AccountError(f"There is no user '{owner}'.")
        if user["disabled_on"]:
            raise AccountError(f"The account '{owner}' is disabled.")
        if role == "hr" and user["role"] != "hr":
            raise AccountError(f"'{owner}' is a {user['role']}: their token cannot have the role hr.")
        user_id = user["id"]
    token = "eps_" + secrets.token_urlsafe(32)
    with write_transaction(db):
        token_id = (
            db["api_tokens"]
            .insert(
                {
                    "token_hash": hash_token(token),
                    "role": role,
                    "label": label,
                    "created_on": today(),
                    "user_id": user_id,
                }
            )
            .last_pk
        )
        audit.record(db, "token-created", f"token #{token_id}", f"role={role}")
    return token


def token_for(db: Database, token: str) -> dict | None:
    """Return the valid (not revoked) API token's id and role, noting the day it was used; or None."""
    if not token or len(token) > 200:
        return None
    rows = list(
        db.query(
            """SELECT t.id, t.role, t.last_used_on FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
               WHERE t.token_hash = ? AND t.revoked_on IS NULL AND u.disabled_on IS NULL""",
            [hash_token(token)],
        )
    )
    if not rows:
        return None
    found = rows[0]
    if found["last_used_on"] != today():
        # The day only, written once a day: enough to see unused tokens, no write per request.
        with write_transaction(db):
            db.execute("UPDATE api_tokens SET last_used_on = ? WHERE id = ?", [today(), found["id"]])
    return {"id": found["id"], "role": found["role"]}


def role_for_token(db: Database, token: str) -> str | None:
    """Return the role of a valid API token, or None."""
    found = token_for(db, token)
    return found["role"] if found else None


def list_tokens(db: Database, include_revoked: bool = False) -> list[dict]:
    """Return the API tokens (never the token itself): id, role, label, owner, created, last used, revoked."""
    where = "" if include_revoked else "WHERE t.revoked_on IS NULL"
    return list(
        db.query(
            f"""SELECT t.id, t.role, t.label, u.email AS owner, t.created_on, t.last_used_on, t.revoked_on
                FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id {where} ORDER BY t.id"""  # noqa: S608
        )
    )


def revoke_token(db: Database, token_id: int) -> bool:
    """Revoke an API token by its number; return False when there is no such live token."""
    with write_transaction(db):
        changed = db.execute(
            "UPDATE api_tokens SET revoked_on = ? WHERE id = ? AND revoked_on IS NULL", [today(), token_id]
        ).rowcount
        if changed:
            audit.record(db, "token-revoked", f"token #{token_id}")
    return bool(changed)
