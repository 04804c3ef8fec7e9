"""Token-guess throttling: after a few wrong invitation tokens a client must wait.

The counters live in SQLite, keyed by a keyed hash of the client's address and a time
slot, so every gunicorn worker sees the same count and no address is stored in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time

from flask import current_app, request
from sqlite_utils import Database

from .db import get_db, write_transaction


def client_key(address: str | None, secret: str) -> str:
    """Return a keyed hash of a client's address; IPv6 clients count per /64 network."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        network = address or "unknown"
    else:
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        # One IPv6 subscriber usually holds a whole /64: counting single addresses would
        # give a guesser 2**64 fresh starts.
        network = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    return hmac.new(secret.encode("utf-8"), network.encode("utf-8"), hashlib.sha256).hexdigest()


def retry_after(db: Database, client: str, limit: int, window: int, now: float | None = None) -> int | None:
    """Return the seconds a client must wait before trying a token again, or None when it may try now."""
    now = time.time() if now is None else now
    slot = int(now // window)
    failures = dict(
        db.execute(
            "SELECT slot, failures FROM token_attempts WHERE client = ? AND slot >= ?", [client, slot - 1]
        ).fetchall()
    )
    current, previous = failures.get(slot, 0), failures.get(slot - 1, 0)
    # The count covers the current and the previous slot, so a burst at the end of one
    # slot is not forgotten at the start of the next.
    if current + previous < limit:
        return None
    until = (slot + 1) * window + (window if current >= limit else 0)
    return max(1, math.ceil(until - now))


def record_failure(db: Database, client: str, window: int, now: float | None = None) -> None:
    """Count one wrong token for a client in the current time slot."""
    now = time.time() if now is None else now
    slot = int(now // window)
    with write_transaction(db):
        db.execute(
            """INSERT INTO token_attempts (client, slot, failures) VALUES (?, ?, 1)
               ON CONFLICT (client, slot) DO UPDATE SET failures = failures + 1""",
            [client, slot],
        )
        # Older slots no longer count; dropping them keeps the table to the last few minutes.
        db.execute("DELETE FROM token_attempts WHERE slot < ?", [slot - 1])


def take(db: Database, client: str, limit: int, window: int, now: float | None = None) -> int | None:
    """Count one attempt of a client if it is within the limit; else return the seconds to wait.

    Call it inside a write transaction: the check and the count are then one atomic step,
    so parallel requests (in any worker) can never together get past the limit.
    """
    now = time.time() if now is None else now
    wait = retry_after(db, client, limit, window, now)
    if wait is not None:
        return wait
    slot = int(now // window)
    db.execute(
        """INSERT INTO token_attempts (client, slot, failures) VALUES (?, ?, 1)
           ON CONFLICT (client, slot) DO UPDATE SET failures = failures + 1""",
        [client, slot],
    )
    db.execute("DELETE FROM token_attempts WHERE slot < ? AND client = ?", [slot - 1, client])
    return None


def submission_client() -> str:
    """Return the key under which this request's client's open-link submissions are counted."""
    return "submit:" + _this_client()


def self_assessment_wait() -> int | None:
    """Count one self-assessment of this request's client; return the seconds to wait instead when over the limit."""
    config = current_app.config
    db = get_db()
    # One transaction: parallel requests in any worker cannot together get past the limit.
    with write_transaction(db):
        return take(
            db,
            "self:" + _this_client(),
            int(config["SELF_ASSESSMENT_LIMIT"]),
            int(config["SELF_ASSESSMENT_WINDOW"]),
        )


def _this_client() -> str:
    return client_key(request.remote_addr, current_app.config["SECRET_KEY"])


def wait_seconds() -> int | None:
    """Return how long this request's client must wait before trying an invitation token, or None."""
    config = current_app.config
    return retry_after(get_db(), _this_client(), int(config["TOKEN_GUESS_LIMIT"]), int(config["TOKEN_GUESS_WINDOW"]))


def note_wrong_token() -> None:
    """Count a wrong invitation token from this request's client."""
    record_failure(get_db(), _this_client(), int(current_app.config["TOKEN_GUESS_WINDOW"]))


def _login_client(email: str) -> str:
    # Per address and account: one client cannot try many passwords for one account, and a
    # shared office address does not lock everybody out because of one person's typos.
    address = client_key(request.remote_addr, current_app.config["SECRET_KEY"])
    return hmac.new(address.encode(), f"login:{email.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def login_wait_seconds(email: str) -> int | None:
    """Return how long this client must wait before trying to log in to this account again, or None."""
    config = current_app.config
    return retry_after(get_db(), _login_client(email), int(config["LOGIN_LIMIT"]), int(config["LOGIN_WINDOW"]))


def note_failed_login(email: str) -> None:
    """Count one failed login for this client and account."""
    record_failure(get_db(), _login_client(email), int(current_app.config["LOGIN_WINDOW"]))
