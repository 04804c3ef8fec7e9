"""Storage: a sqlite-utils Database per request, the schema as Migrations, named data functions."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator

from flask import Flask, current_app, g
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


@migrations()
def m002_invitation_delivery(db: Database) -> None:
    """Add invitation delivery: e-mail and language, extra links, resumable mailings, token-guess counters."""
    for statement in SCHEMA_002.split(";\n"):
        if statement.strip():
            db.execute(statement)


SCHEMA_002 = """
ALTER TABLE invitations ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('nb', 'en'));
ALTER TABLE invitations ADD COLUMN sent_on TEXT;
ALTER TABLE invitations ADD COLUMN reminded_on TEXT;
CREATE UNIQUE INDEX invitations_email ON invitations (survey_id, email) WHERE email IS NOT NULL;
CREATE INDEX invitations_department ON invitations (survey_id, department_id);
-- Only hashes are stored, so every delivery (e-mail, reminder, CSV export) issues a fresh
-- link; the earlier links of the same invitation keep working until it is used once.
CREATE TABLE invitation_links (
    token_hash TEXT PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX invitation_links_invitation ON invitation_links (invitation_id);
CREATE TABLE mailings (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder')),
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'csv')),
    started_on TEXT NOT NULL,
    finished_on TEXT
);
-- At most one unfinished batch per survey and kind: a second run resumes it.
CREATE UNIQUE INDEX mailings_unfinished ON mailings (survey_id, kind, channel) WHERE finished_on IS NULL;
CREATE TABLE mail_log (
    mailing_id INTEGER NOT NULL REFERENCES mailings(id) ON DELETE CASCADE,
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error TEXT,
    PRIMARY KEY (mailing_id, invitation_id)
) WITHOUT ROWID;
-- Wrong invitation tokens per client (a keyed hash of its address) and time slot, shared
-- by every worker process through the database.
CREATE TABLE token_attempts (
    client TEXT NOT NULL,
    slot INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (client, slot)
) WITHOUT ROWID
"""


@migrations()
def m003_rounds_and_export(db: Database) -> None:
    """Link a survey to its previous round, and say how the export treats small departments."""
    db.execute("ALTER TABLE surveys ADD COLUMN previous_id INTEGER REFERENCES surveys(id) ON DELETE SET NULL")
    db.execute(
        "ALTER TABLE surveys ADD COLUMN small_groups TEXT NOT NULL DEFAULT 'merge' "
        "CHECK (small_groups IN ('merge', 'omit'))"
    )


@migrations()
def m004_life_cycle_and_collection(db: Database) -> None:
    """Surveys gain nynorsk, drafts, a collection mode, dates and the results-read mark; unique unit names."""
    # SQLite cannot change a CHECK constraint in place: the two tables are rebuilt (migrate()
    # runs with foreign keys off, so nothing cascades, and checks them afterwards).
    for statement in SCHEMA_004.split(";\n"):
        if statement.strip():
            db.execute(statement)
    # Two units of one survey with the same name would let HR build a "department" of one person.
    for row in list(
        db.query(
            """SELECT id, code, name FROM departments d WHERE EXISTS (
               SELECT 1 FROM departments o WHERE o.survey_id = d.survey_id AND o.id < d.id
               AND o.name = d.name COLLATE NOCASE)"""
        )
    ):
        db.execute("UPDATE departments SET name = ? WHERE id = ?", [f"{row['name']} ({row['code']})", row["id"]])
    db.execute("CREATE UNIQUE INDEX departments_name ON departments (survey_id, name COLLATE NOCASE)")


SCHEMA_004 = """
CREATE TABLE surveys_new (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('nb', 'nn', 'en')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('draft', 'open', 'closed')),
    collection TEXT NOT NULL DEFAULT 'open' CHECK (collection IN ('open', 'invitations')),
    kind TEXT NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'short')),
    min_group_size INTEGER NOT NULL DEFAULT 5 CHECK (min_group_size >= 3),
    comment_min_group_size INTEGER NOT NULL DEFAULT 10,
    instrument TEXT NOT NULL,
    created_on TEXT NOT NULL,
    opens_at TEXT,
    closes_at TEXT,
    closed_on TEXT,
    results_read_on TEXT,
    archived_on TEXT,
    previous_id INTEGER REFERENCES surveys(id) ON DELETE SET NULL,
    small_groups TEXT NOT NULL DEFAULT 'merge' CHECK (small_groups IN ('merge', 'omit'))
);
INSERT INTO surveys_new (id, slug, title, language, status, min_group_size, comment_min_group_size, instrument,
                         created_on, closed_on, previous_id, small_groups)
    SELECT id, slug, title, language, status, min_group_size, comment_min_group_size, instrument,
           created_on, closed_on, previous_id, small_groups FROM surveys;
DROP TABLE surveys;
ALTER TABLE surveys_new RENAME TO surveys;
CREATE TABLE invitations_new (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT,
    used INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    language TEXT CHECK (language IS NULL OR language IN ('nb', 'nn', 'en')),
    sent_on TEXT,
    reminded_on TEXT
);
INSERT INTO invitations_new SELECT id, survey_id, department_id, token_hash, email, used, created_on, language,
    sent_on, reminded_on FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE UNIQUE INDEX invitations_email ON invitations (survey_id, email) WHERE email IS NOT NULL;
CREATE INDEX invitations_department ON invitations (survey_id, department_id);
CREATE TABLE mailings_new (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    -- reminder: everyone invited (worded for both); nudge: only unused invitations, sent by the app itself
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder', 'nudge')),
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'csv')),
    started_on TEXT NOT NULL,
    finished_on TEXT,
    sent_count INTEGER
);
INSERT INTO mailings_new (id, survey_id, kind, channel, started_on, finished_on)
    SELECT id, survey_id, kind, channel, started_on, finished_on FROM mailings;
DROP TABLE mailings;
ALTER TABLE mailings_new RENAME TO mailings;
CREATE UNIQUE INDEX mailings_unfinished ON mailings (survey_id, kind, channel) WHERE finished_on IS NULL;
-- One rendered form gives at most one response: the hash of each form's single-use key, kept
-- until the form would have expired anyway. Nothing in it points to a response.
CREATE TABLE form_keys (
    key_hash TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID
"""


@migrations()
def m005i_user_language(db: Database) -> None:
    """Users gain the language of their HR and facilitator pages (NULL: the browser's, else the survey's)."""
    db.execute("ALTER TABLE users ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('nb', 'nn', 'en'))")


@migrations()
def m005_sessions_audit_retention(db: Database) -> None:
    """Server-side login sessions, disabled and single sign-on accounts, token use, token buckets, the audit trail."""
    for statement in SCHEMA_005:
        db.execute(statement)


SCHEMA_005 = [
    "ALTER TABLE users ADD COLUMN disabled_on TEXT",
    # Single sign-on: an account is found by its provider's (issuer, subject), never by a changeable e-mail alone.
    "ALTER TABLE users ADD COLUMN oidc_issuer TEXT",
    "ALTER TABLE users ADD COLUMN oidc_subject TEXT",
    "CREATE UNIQUE INDEX users_oidc ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL",
    # A token may belong to an account: disabling the account revokes it. Revoked tokens stay listed.
    "ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE SET NULL",
    "ALTER TABLE api_tokens ADD COLUMN last_used_on TEXT",
    "ALTER TABLE api_tokens ADD COLUMN revoked_on TEXT",
    # One row per signed-in browser: the cookie carries a random id, the table only its SHA-256, so a
    # copy of the database cannot be turned into a working cookie. Deleting the row ends the session.
    """CREATE TABLE login_sessions (
        id_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        seen_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX login_sessions_user ON login_sessions (user_id)",
    # Token buckets for wrong invitation tokens (per client, a keyed hash of its address).
    """CREATE TABLE token_buckets (
        client TEXT PRIMARY KEY,
        level REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID""",
    # Who did what and when: accounts and their actions only, never anything about respondents.
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT
    )""",
    # Append-only: rows can be neither changed nor deleted, except by the retention purge, which
    # opens this gate inside its own transaction (FLASK_AUDIT_RETENTION_DAYS, off by default).
    "CREATE TABLE audit_gate (purging INTEGER NOT NULL CHECK (purging IN (0, 1)))",
    "INSERT INTO audit_gate (purging) VALUES (0)",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       WHEN (SELECT purging FROM audit_gate) != 1
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_gate_one_row BEFORE INSERT ON audit_gate
       BEGIN SELECT RAISE(ABORT, 'the audit gate has one row'); END""",
    # Bumped by every deletion and retention purge: each worker process then empties its memory caches.
    "CREATE TABLE erasure_epoch (epoch INTEGER NOT NULL)",
    "INSERT INTO erasure_epoch (epoch) VALUES (0)",
]


@migrations()
def m007_unit_hierarchy(db: Database) -> None:
    """Units within units: a department may belong to another department of the same survey."""
    # A unit's parent is a row of the same survey (create_survey checks that, and that there are
    # no cycles); deleting a survey deletes its units, children and parents alike.
    db.execute("ALTER TABLE departments ADD COLUMN parent_id INTEGER REFERENCES departments(id) ON DELETE CASCADE")
    db.execute("CREATE INDEX departments_parent ON departments (parent_id)")


class InvitationUsed(Exception):
    """The personal invitation has already been used to answer."""


# How the file is written: the settings that leave no trail of who answered what, or when
# (benchmarks/bare_app.py opens its baseline with the same ones).
STORAGE_PRAGMAS = (
    # A rollback journal holds only the pages as they were *before* a transaction and is cut
    # to zero bytes at every commit. A write-ahead log would keep the new pages of each commit,
    # in order, until a checkpoint: an invitation turning "used" next to its response.
    "PRAGMA journal_mode = TRUNCATE",
    "PRAGMA synchronous = FULL",
    # Deleted rows are overwritten with zeros, not left in free pages.
    "PRAGMA secure_delete = ON",
    # VACUUM builds its copy in memory, never in a temporary file outside the data folder.
    "PRAGMA temp_store = MEMORY",
)


def connect(path: str, busy_timeout_ms: int = 10_000, foreign_keys: bool = True) -> Database:
    """Open the SQLite file (owner-only) with the settings that leave no trail of who answered what, or when."""
    owner_only(path)
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    for pragma in STORAGE_PRAGMAS:
        conn.execute(pragma)
    return Database(conn)


def owner_only(path: str) -> None:
    """Create the database file readable and writable by its owner only, or make it so."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # sqlite3 reports the real problem (a missing folder, no permission)
    os.close(fd)
    # SQLite gives its journal the database file's permissions.
    os.chmod(path, 0o600)


def get_db() -> Database:
    """Return this request's Database: its thread's connection to the app's database."""
    if "db" not in g:
        g.db = thread_db(current_app)
    return g.db


def thread_db(app: Flask) -> Database:
    """Return this thread's connection to the app's database, opening it on first use and reusing it after."""
    # One connection per worker thread, kept between requests: opening and closing a SQLite
    # connection (and setting its pragmas) cost more than a whole submission.
    local = app.extensions["db_local"]
    db = getattr(local, "db", None)
    if db is None or getattr(local, "pid", None) != os.getpid():
        # A connection must never cross a fork (gunicorn workers): open a fresh one.
        db = connect(app.config["DATABASE"], app.config["DB_BUSY_TIMEOUT_MS"])
        local.db, local.pid = db, os.getpid()
    return db


def form_version(db: Database) -> int:
    """Return the count of changes to what a respondent's form shows (surveys, departments, actions)."""
    return db.conn.execute("SELECT version FROM form_version").fetchone()[0]


def get_writer():
    """Return this process's writer for the app's database (submissions are batched through it)."""
    from .writer import writer_for

    path, busy = current_app.config["DATABASE"], current_app.config["DB_BUSY_TIMEOUT_MS"]
    return writer_for(path, lambda: connect(path, busy))


def close_db(exc: BaseException | None = None) -> None:
    """End this request's use of the connection: roll back anything left open, keep it for the next."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        # A request that failed half-way must not leave its transaction (or a lock) behind.
        db.conn.execute("ROLLBACK")


def migrate(db: Database) -> None:
    """Create or migrate the schema; applying it twice changes nothing."""
    # Rebuilding a table (to change a CHECK) must not cascade deletes: foreign keys are off
    # while migrating (a PRAGMA that only works outside a transaction) and checked afterwards.
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        migrations.apply(db)
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"The migrated database breaks foreign keys: {problems[:5]}")
    finally:
        db.execute("PRAGMA foreign_keys = ON")


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


def init_app(app: Flask) -> None:
    """Close each request's use of the database, and migrate at start-up."""
    app.extensions["db_local"] = threading.local()  # each thread's connection (thread_db)
    app.teardown_appcontext(close_db)
    db = connect(app.config["DATABASE"], app.config["DB_BUSY_TIMEOUT_MS"])
    try:
        migrate(db)
    finally:
        db.close()


@migrations()
def m006_actions_followup_polls(db: Database) -> None:
    """Add action plans with progress notes and reminders, the follow-up statement, and live polls."""
    for statement in SCHEMA_006.split(";\n"):
        if statement.strip():
            db.execute(statement)


# New tables only (no column added to an existing table), so that a later rebuild of surveys,
# departments or responses by another migration cannot drop what this one adds.
SCHEMA_006 = """
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    -- NULL: an action of the whole organisation
    department_id INTEGER REFERENCES departments(id) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('observing', 'following', 'endorsing', 'contributing', 'owning', 'leading')),
    theme TEXT NOT NULL CHECK (theme IN ('goals', 'roles', 'means', 'follow_up', 'anchoring', 'freedom')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    owner TEXT CHECK (owner IS NULL OR length(owner) <= 120),
    owner_email TEXT CHECK (owner_email IS NULL OR length(owner_email) <= 254),
    due TEXT CHECK (due IS NULL OR due GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);
CREATE INDEX actions_survey ON actions (survey_id, status);
CREATE INDEX actions_department ON actions (department_id);
-- The history of an action: progress notes and status changes, oldest first.
CREATE TABLE action_notes (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    written_on TEXT NOT NULL,
    author TEXT,
    status TEXT CHECK (status IS NULL OR status IN ('planned', 'in_progress', 'done', 'dropped')),
    text TEXT CHECK (text IS NULL OR length(text) <= 2000)
);
CREATE INDEX action_notes_action ON action_notes (action_id);
-- What the reminder command sent, per action and day: at most one reminder a day each, and an
-- interrupted run resumes without sending twice ('sending': handed over unconfirmed).
CREATE TABLE action_reminders (
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error TEXT,
    PRIMARY KEY (action_id, day)
) WITHOUT ROWID;
-- The optional follow-up statement of a survey ("I have seen changes since the last survey"):
-- its texts per language as JSON. It is no item of the instrument, never part of a level or the index.
CREATE TABLE survey_followup (
    survey_id INTEGER PRIMARY KEY REFERENCES surveys(id) ON DELETE CASCADE,
    statement TEXT NOT NULL
);
-- A respondent's answer to it (1..5), kept apart from the answers to the instrument.
CREATE TABLE followup_answers (
    response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
    value INTEGER NOT NULL CHECK (typeof(value) = 'integer' AND value BETWEEN 1 AND 5)
) WITHOUT ROWID;
-- A live poll is a short survey answered in the room through a short code (/p/<code>).
CREATE TABLE polls (
    survey_id INTEGER PRIMARY KEY REFERENCES surveys(id) ON DELETE CASCADE,
    code TEXT NOT NULL UNIQUE,
    linked_id INTEGER REFERENCES surveys(id) ON DELETE SET NULL
);
CREATE INDEX polls_linked ON polls (linked_id)
"""


NOT_APPLICABLE = 6  # answers.value of a statement answered "not applicable" (1..5 are the scale)


@migrations()
def m008_not_applicable(db: Database) -> None:
    """Store "not applicable" as an answer of its own (value 6), told apart from a statement left blank."""
    # SQLite cannot change a CHECK constraint in place: the table is rebuilt (foreign keys are off
    # while migrating, see migrate()).
    for statement in SCHEMA_008.split(";\n"):
        if statement.strip():
            db.execute(statement)


SCHEMA_008 = """
CREATE TABLE answers_new (
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    item INTEGER NOT NULL CHECK (typeof(item) = 'integer' AND item >= 0),
    -- 1..5: the answer on the scale; 6: "not applicable" (missing for every figure, like a blank,
    -- but kept so that the export can tell the two apart). A statement left blank has no row.
    value INTEGER NOT NULL CHECK (typeof(value) = 'integer' AND value BETWEEN 1 AND 6),
    PRIMARY KEY (response_id, item)
) WITHOUT ROWID;
INSERT INTO answers_new (response_id, item, value) SELECT response_id, item, value FROM answers;
DROP TABLE answers;
ALTER TABLE answers_new RENAME TO answers
"""


@migrations()
def m009_form_version(db: Database) -> None:
    """Count every change to what a respondent's form shows, so that a form kept in memory knows when it is stale."""
    for statement in SCHEMA_009.split(";\n"):
        if statement.strip():
            db.execute(statement)


# Triggers, not the code that writes: every writer (pages, API, commands, the lazy schedule, the
# purge, a hand-made UPDATE) bumps the count. Responses, invitations and the like do not: a
# stream of answers leaves the kept forms valid. A migration that rebuilds one of these tables
# must create its triggers again.
SCHEMA_009 = """
CREATE TABLE form_version (version INTEGER NOT NULL);
INSERT INTO form_version (version) VALUES (0);
CREATE TRIGGER form_version_surveys_insert AFTER INSERT ON surveys
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_surveys_update AFTER UPDATE ON surveys
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_surveys_delete AFTER DELETE ON surveys
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_departments_insert AFTER INSERT ON departments
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_departments_update AFTER UPDATE ON departments
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_departments_delete AFTER DELETE ON departments
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_actions_insert AFTER INSERT ON actions
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_actions_update AFTER UPDATE ON actions
    BEGIN UPDATE form_version SET version = version + 1; END;
CREATE TRIGGER form_version_actions_delete AFTER DELETE ON actions
    BEGIN UPDATE form_version SET version = version + 1; END
"""
