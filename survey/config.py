"""Defaults and environment variables (FLASK_*), read once by create_app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "http://127.0.0.1:5000"

DEFAULTS = {
    "QUESTIONS": str(ROOT / "questions.yaml"),
    "REPORTS_DIR": str(ROOT / "reports"),
    # The public address that every link, e-mail and QR code is built from (never the
    # request's Host header, which a client chooses); empty means DEFAULT_BASE_URL.
    "BASE_URL": "",
    # Mail (FLASK_SMTP_*): without SMTP_HOST, HR downloads the links as CSV instead.
    "SMTP_HOST": "",
    "SMTP_PORT": None,  # default: 465 with ssl, 587 with starttls, 25 without TLS
    "SMTP_TLS": "starttls",  # none | starttls | ssl
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_SENDER": "",
    "SMTP_TIMEOUT": 30,
    # A web request sends mail for at most this long; the rest is sent by pressing again.
    "MAIL_BATCH_SECONDS": 20,
    # Wrong invitation tokens allowed per client within TOKEN_GUESS_WINDOW seconds, before 429.
    "TOKEN_GUESS_LIMIT": 10,
    "TOKEN_GUESS_WINDOW": 600,
    # Answers through the open link per client (address) within OPEN_SUBMIT_WINDOW seconds: enough
    # for a whole office behind one address, few enough to stop a script filling the survey.
    "OPEN_SUBMIT_LIMIT": 200,
    "OPEN_SUBMIT_WINDOW": 3600,
    # Failed logins allowed per client and account within LOGIN_WINDOW seconds, before 429.
    "LOGIN_LIMIT": 5,
    "LOGIN_WINDOW": 900,
    # FLASK_PRODUCTION=1 (set by gunicorn.conf.py): require FLASK_SECRET_KEY, Secure cookies.
    "PRODUCTION": False,
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none).
    "PROXY_COUNT": 0,
    # Whole request bodies above 1 MB are refused with 413 before any parsing.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # A survey form can stay open a long time; an expired token re-renders the form
    # with the answers kept, so a generous limit only saves people a second click.
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_COMMENT_LENGTH": 5000,
    "DEFAULT_MIN_GROUP_SIZE": 5,
    "DEFAULT_COMMENT_MIN_GROUP_SIZE": 10,
    "DB_BUSY_TIMEOUT_MS": 10_000,
    # The time zone whose days a survey's schedule counts in: a survey opens at the start of its
    # opening day and closes at the end of its last day for answers, in this zone.
    "TIMEZONE": "Europe/Oslo",
}


def instance_secret_key(instance_path: str) -> str:
    """Return the instance folder's random secret key, creating it on first use."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write with owner-only permissions: the key signs sessions and CSRF tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


MIN_SECRET_LENGTH = 32


def check_production(config: dict) -> None:
    """Refuse to run in production without a real secret key; make cookies Secure there."""
    if not config.get("PRODUCTION"):
        return
    key = config.get("SECRET_KEY") or ""
    if len(str(key)) < MIN_SECRET_LENGTH or len(set(str(key))) < 10:
        raise RuntimeError(
            "Production needs a real secret key: set FLASK_SECRET_KEY to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, e.g. the output of: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    # Behind HTTPS only: the browser then never sends the session cookie over plain HTTP.
    config["SESSION_COOKIE_SECURE"] = True
