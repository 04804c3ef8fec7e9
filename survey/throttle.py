"""Throttling of logins, invitation tokens and open-link answers, exact under concurrency.

The counters live in SQLite, keyed by a keyed hash of the client's address, so every gunicorn
worker sees the same count and no address is stored in clear. Every attempt is counted in one
write transaction *before* the password or token is checked, and given back when it was right:
then no number of parallel requests can together get more checks than the limit.

- Logins: LOGIN_LIMIT attempts per client and account within LOGIN_WINDOW (fixed slots, see take).
- Invitation tokens: a token bucket per client. It holds TOKEN_GUESS_LIMIT (200) attempts and
  refills completely in TOKEN_GUESS_WINDOW (2,000 s): one attempt every 10 s, 360 an hour. A right
  token gives its attempt back, so only wrong ones use it up. An office of 500 behind one address
  where every single person mistypes a link once in the first hour uses 500 of the 560 it has then
  (200 in the bucket, 360 refilled); a whole day of one typo every 15 s (1,900 of them; a real
  office makes a few dozen, since links are clicked, not typed) never empties it. A scan of random
  tokens empties it in seconds and is then held to one guess per 10 s, 8,640 a day: against 192
  random bits that is nothing. While the bucket is empty even a right token waits, or the answer
  would tell a scanner which guess was right. There is no global budget on purpose: the tokens'
  length is what makes guessing hopeless, and a budget shared by all would only let anyone with a
  few addresses lock every invitee out.
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


def take_from_bucket(
    db: Database, client: str, size: float, refill_seconds: float, now: float | None = None
) -> int | None:
    """Take one attempt from a client's token bucket; else return the seconds until one is back.

    Call it inside a write transaction: the check and the take are then one atomic step.
    """
    now = time.time() if now is None else now
    rate = size / refill_seconds
    row = db.execute("SELECT level, updated FROM token_buckets WHERE client = ?", [client]).fetchone()
    level = size if row is None else min(size, row[0] + (now - row[1]) * rate)
    if level < 1:
        return max(1, math.ceil((1 - level) / rate))
    db.execute(
        """INSERT INTO token_buckets (client, level, updated) VALUES (?, ?, ?)
           ON CONFLICT (client) DO UPDATE SET level = excluded.level, updated = excluded.updated""",
        [client, level - 1, now],
    )
    # A bucket untouched for refill_seconds is full again: it needs no row.
    db.execute("DELETE FROM token_buckets WHERE updated < ?", [now - refill_seconds])
    return None


def give_back_to_bucket(db: Database, client: str, size: float) -> None:
    """Return an attempt that turned out right (call inside a write transaction).

    A bucket full again is deleted: a respondent with a right token leaves no row (and no time) behind.
    """
    db.execute("UPDATE token_buckets SET level = MIN(?, level + 1) WHERE client = ?", [size, client])
    db.execute("DELETE FROM token_buckets WHERE client = ? AND level >= ?", [client, size])


def _token_bucket() -> tuple[float, float]:
    config = current_app.config
    return float(config["TOKEN_GUESS_LIMIT"]), float(config["TOKEN_GUESS_WINDOW"])


def take_token_attempt() -> int | None:
    """Count one invitation-token attempt of this client before the token is looked up; return a wait or None."""
    db = get_db()
    size, refill = _token_bucket()
    with write_transaction(db):
        return take_from_bucket(db, _this_client(), size, refill)


def right_token() -> None:
    """The token was a real invitation: give this client's attempt back (only wrong tokens use the bucket up)."""
    db = get_db()
    with write_transaction(db):
        give_back_to_bucket(db, _this_client(), _token_bucket()[0])


def _login_client(email: str) -> str:
    # Per address and account: one client cannot try many passwords for one account, and a
    # shared office address does not lock everybody out because of one person's typos.
    address = client_key(request.remote_addr, current_app.config["SECRET_KEY"])
    return hmac.new(address.encode(), f"login:{email.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def take_login_attempt(email: str, now: float | None = None) -> int | None:
    """Count one login attempt for this client and account *before* the password is checked.

    Return the seconds to wait when LOGIN_LIMIT attempts were counted already in the window
    (then the password must not be checked at all), else None.
    """
    config = current_app.config
    db = get_db()
    with write_transaction(db):
        return take(db, _login_client(email), int(config["LOGIN_LIMIT"]), int(config["LOGIN_WINDOW"]), now)


def login_succeeded(email: str, now: float | None = None) -> None:
    """A right password does not count against the account: give its attempt back."""
    now = time.time() if now is None else now
    slot = int(now // int(current_app.config["LOGIN_WINDOW"]))
    db = get_db()
    with write_transaction(db):
        db.execute(
            """UPDATE token_attempts SET failures = failures - 1
               WHERE client = ? AND slot IN (?, ?) AND failures > 0
               AND slot = (SELECT MAX(slot) FROM token_attempts WHERE client = ? AND failures > 0)""",
            [_login_client(email), slot, slot - 1, _login_client(email)],
        )
        db.execute("DELETE FROM token_attempts WHERE client = ? AND failures <= 0", [_login_client(email)])
