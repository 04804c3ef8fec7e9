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
    # Wrong invitation tokens per client (address): a token bucket of TOKEN_GUESS_LIMIT that refills
    # completely in TOKEN_GUESS_WINDOW seconds (200 in 2,000 s: one every 10 s, 360 an hour). An office
    # of hundreds behind one address, typing links wrong now and then, never empties it; a scan of
    # random tokens empties it within seconds and then gets one guess per 10 s (see throttle.py).
    "TOKEN_GUESS_LIMIT": 200,
    "TOKEN_GUESS_WINDOW": 2000,
    # Answers through the open link per client (address) within OPEN_SUBMIT_WINDOW seconds: enough
    # for a whole office behind one address, few enough to stop a script filling the survey.
    "OPEN_SUBMIT_LIMIT": 200,
    "OPEN_SUBMIT_WINDOW": 3600,
    # Self-assessments (/self and its API) per client within SELF_ASSESSMENT_WINDOW seconds: plenty for
    # a person or a workshop behind one address, too few to use the app as free computing.
    "SELF_ASSESSMENT_LIMIT": 30,
    "SELF_ASSESSMENT_WINDOW": 600,
    # Failed logins allowed per client and account within LOGIN_WINDOW seconds, before 429.
    "LOGIN_LIMIT": 5,
    "LOGIN_WINDOW": 900,
    # A login session ends after this long without a request, and after LOGIN_MAX_SECONDS in any case
    # (the server forgets it; a saved cookie is then worthless). A working day, idle for two hours at most.
    "LOGIN_IDLE_SECONDS": 2 * 3600,
    "LOGIN_MAX_SECONDS": 12 * 3600,
    # Single sign-on with OpenID Connect (FLASK_OIDC_*): on when OIDC_ISSUER and OIDC_CLIENT_ID are set.
    "OIDC_ISSUER": "",  # e.g. https://login.example.org/realms/staff (discovery at /.well-known/...)
    "OIDC_DISCOVERY_URL": "",  # only when the discovery document is not under the issuer
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_SCOPES": "openid email profile",
    "OIDC_NAME": "single sign-on",  # shown as "Sign in with <name>"
    # The claim that carries roles or groups, and its values that give each role (comma-separated).
    "OIDC_ROLE_CLAIM": "groups",
    "OIDC_HR_VALUES": "",
    "OIDC_FACILITATOR_VALUES": "",
    # Retention: invitation e-mail addresses are erased this many days after a survey closes;
    # comments too when COMMENT_RETENTION_DAYS is set; audit entries when AUDIT_RETENTION_DAYS is set.
    "INVITATION_RETENTION_DAYS": 30,
    "COMMENT_RETENTION_DAYS": None,
    "AUDIT_RETENTION_DAYS": None,
    # The PDF shows at most this many characters of a comment and this many comments; the export has all.
    "PDF_COMMENT_CHARS": 1000,
    "PDF_MAX_COMMENTS": 300,
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
