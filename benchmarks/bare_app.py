"""The baseline for benchmarks/load.py: a bare Flask app that only stores a request body in SQLite.

It answers the same two addresses as the survey app, under the same gunicorn settings:
- POST /api/v1/surveys/<slug>/responses inserts the raw body (same size as the app's
  submission) as one row, in a BEGIN IMMEDIATE transaction, on a connection opened per
  request with the app's storage pragmas (survey.db.STORAGE_PRAGMAS: rollback journal cut at
  every commit, synchronous FULL, secure_delete) and the same busy timeout; with BARE_WAL=1,
  with SQLite's fast settings instead (WAL, synchronous NORMAL), to show what those cost;
- GET /s/<slug> answers a plain "hello" page.

    BARE_DATABASE=/tmp/bare.sqlite gunicorn --config gunicorn.conf.py benchmarks.bare_app:app
"""

from __future__ import annotations

import os
import sqlite3

from flask import Flask, jsonify, request

from survey.config import DEFAULTS
from survey.db import STORAGE_PRAGMAS

DATABASE = os.environ.get("BARE_DATABASE", "bare.sqlite")
BUSY_TIMEOUT_MS = int(DEFAULTS["DB_BUSY_TIMEOUT_MS"])
FAST = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")
PRAGMAS = FAST if os.environ.get("BARE_WAL") == "1" else STORAGE_PRAGMAS

app = Flask(__name__)


def connect() -> sqlite3.Connection:
    """Open the file with the same settings as survey.db.connect (one connection per request, like the app)."""
    conn = sqlite3.connect(DATABASE, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def init_db() -> None:
    """Create the one table the baseline writes to."""
    conn = connect()
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS submissions (id INTEGER PRIMARY KEY, slug TEXT NOT NULL, body BLOB)")
    finally:
        conn.close()


@app.post("/api/v1/surveys/<slug>/responses")
def submit(slug: str):
    """Store the body as one row and acknowledge it like the app does."""
    body = request.get_data()
    conn = connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO submissions (slug, body) VALUES (?, ?)", [slug, body])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
    return jsonify({"status": "stored"}), 201


@app.get("/s/<slug>")
def hello(slug: str):
    """Answer the smallest possible page."""
    return "hello"


init_db()
