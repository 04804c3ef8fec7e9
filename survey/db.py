"""Storage: a sqlite-utils Database per request, the schema as Migrations, named data functions."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("survey")


@migrations()
def m001_initial(db: Database) -> None:
    """Create the first schema: surveys, departments, responses, answers, invitations, users, tokens."""
    # Raw DDL: sqlite-utils' create() cannot express CHECK constraints or ON DELETE CASCADE.
    for statement in SCHEMA_001.split(";\n"):
        if statement.strip():
            db.execute(statement)


SCHEMA_001 = """
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('nb', 'en')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    min_group_size INTEGER NOT NULL DEFAULT 5 CHECK (min_group_size >= 3),
    comment_min_group_size INTEGER NOT NULL DEFAULT 10,
    anonymous INTEGER NOT NULL DEFAULT 1,
    instrument TEXT NOT NULL,
    created_on TEXT NOT NULL,
    closed_on TEXT
);
CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    headcount INTEGER CHECK (headcount IS NULL OR headcount >= 0),
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (survey_id, code)
);
CREATE TABLE survey_items (
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    level TEXT NOT NULL,
    reverse INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (survey_id, position),
    UNIQUE (survey_id, item_id)
);
CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    submitted_on TEXT NOT NULL,
    enps INTEGER CHECK (enps IS NULL OR enps BETWEEN 0 AND 10),
    comment TEXT
);
CREATE INDEX responses_survey ON responses (survey_id, department_id);
CREATE TABLE answers (
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    -- the item's position in the survey's frozen instrument (survey_items.position):
    -- small integers keep the table compact and let SQLite pack a response's answers
    item INTEGER NOT NULL CHECK (typeof(item) = 'integer' AND item >= 0),
    value INTEGER NOT NULL CHECK (typeof(value) = 'integer' AND value BETWEEN 1 AND 5),
    PRIMARY KEY (response_id, item)
) WITHOUT ROWID;
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT,
    used INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('hr', 'facilitator')),
    created_on TEXT NOT NULL
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('hr', 'facilitator')),
    label TEXT,
    created_on TEXT NOT NULL
)
"""


class InvitationUsed(Exception):
    """The personal invitation has already been used to answer."""


def connect(path: str, busy_timeout_ms: int = 10_000) -> Database:
    """Open the SQLite file with WAL, a busy timeout and foreign keys on."""
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL lets the results pages read while respondents write.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return Database(conn)


def get_db() -> Database:
    """Return this request's Database, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], current_app.config["DB_BUSY_TIMEOUT_MS"])
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Close this request's database connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def migrate(db: Database) -> None:
    """Create or migrate the schema; applying it twice changes nothing."""
    migrations.apply(db)


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run a block in one IMMEDIATE transaction: all of it is written, or none of it."""
    # IMMEDIATE takes the write lock up front, so concurrent writers queue on the busy
    # timeout instead of failing with "database is locked" when upgrading a read lock.
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def today() -> str:
    """Return today's date (UTC) as YYYY-MM-DD; responses store a date, never a time."""
    return dt.datetime.now(dt.UTC).date().isoformat()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or migrate the database (safe to run again)."""
    db = get_db()
    migrate(db)
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Register teardown and the init-db command, and migrate at start-up."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    db = connect(app.config["DATABASE"], app.config["DB_BUSY_TIMEOUT_MS"])
    try:
        migrate(db)
    finally:
        db.close()
