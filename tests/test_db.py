"""Storage: migrations, pragmas, atomic writes."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from survey import surveys
from survey.db import connect, form_version, get_db, migrate, migrations
from survey.responses import Submission, save_response


def test_migrations_are_idempotent(app, db):
    before = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    migrate(db)
    migrate(db)
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert {"surveys", "departments", "responses", "answers", "invitations", "users", "api_tokens"} <= set(
        db.table_names()
    )


def test_connection_settings(app, db):
    # A rollback journal cut to nothing at each commit, zeroed free pages, no temporary files.
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    path = Path(app.config["DATABASE"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(app.instance_path).stat().st_mode) == 0o700


def test_an_older_database_is_migrated_with_its_data(tmp_path):
    """A database of the previous schema (WAL, 'anonymous', nb/en only) keeps every row after the upgrade."""
    path = str(tmp_path / "old.sqlite")
    old = connect(path)
    old.execute("PRAGMA journal_mode = WAL")
    migrations.apply(old, stop_before="m004_life_cycle_and_collection")
    old.execute(
        "INSERT INTO surveys (id, slug, title, language, status, instrument, created_on, anonymous) "
        "VALUES (1, 's', 'S', 'nb', 'closed', '{}', '2025-01-01', 1)"
    )
    old.execute("INSERT INTO departments (id, survey_id, code, name) VALUES (1, 1, 'A', 'Same'), (2, 1, 'B', 'same')")
    old.execute("INSERT INTO responses (id, survey_id, department_id, submitted_on) VALUES (77, 1, 1, '2025-01-02')")
    old.execute("INSERT INTO answers (response_id, item, value) VALUES (77, 0, 4)")
    old.execute(
        "INSERT INTO invitations (survey_id, department_id, token_hash, used, created_on, language) "
        "VALUES (1, 1, 'h', 1, '2025-01-01', 'en')"
    )
    old.execute(
        "INSERT INTO mailings (survey_id, kind, channel, started_on) VALUES (1, 'reminder', 'smtp', '2025-01-03')"
    )
    old.conn.commit()
    old.close()
    db = connect(path)
    migrate(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
    survey = db.execute("SELECT slug, status, collection, language FROM surveys").fetchone()
    assert survey == ("s", "closed", "open", "nb")
    # Two units with one name got told apart by their codes; the unique index holds from now on.
    assert [r[0] for r in db.execute("SELECT name FROM departments ORDER BY id")] == ["Same", "same (B)"]
    assert db["responses"].count == 1 and db["answers"].count == 1
    assert db.execute("SELECT used, language FROM invitations").fetchone() == (1, "en")
    assert db["mailings"].count == 1
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO departments (survey_id, code, name) VALUES (1, 'C', 'SAME')")
    db.close()


def test_invitations_have_no_link_to_responses(db):
    invitation_cols = set(db["invitations"].columns_dict)
    response_cols = set(db["responses"].columns_dict)
    assert not any("response" in c for c in invitation_cols)
    assert not any("invitation" in c for c in response_cols)
    assert "submitted_on" in response_cols and not any("time" in c or "_at" in c for c in response_cols)


def test_response_and_answers_are_written_together_or_not_at_all(app, db):
    """A failure on the last answer rolls back the response and every earlier answer."""
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        dept = surveys.department_by_code(get_db(), survey, "A")
        bad = Submission(dept.id, {"obs1": 4, "obs2": 3, "obs3": 9}, None, None)  # 9 breaks the CHECK
        with pytest.raises(sqlite3.IntegrityError):
            save_response(get_db(), survey, bad)
        assert db["responses"].count == 0 and db["answers"].count == 0
        save_response(get_db(), survey, Submission(dept.id, {"obs1": 4}, 7, None))
    assert db["responses"].count == 1 and db["answers"].count == 1


def test_deleting_a_survey_removes_its_data(app, db, instrument):
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        dept = surveys.department_by_code(get_db(), survey, "A")
        save_response(get_db(), survey, Submission(dept.id, {"obs1": 4}, None, None))
    db.execute("DELETE FROM surveys WHERE slug = 'acme'")
    db.conn.commit()
    for table in ("departments", "responses", "answers", "survey_items"):
        assert db[table].count == 0, table


def test_the_form_version_counts_changes_to_what_the_form_shows_and_nothing_else(app, db):
    """Surveys, departments and actions bump it, whoever writes; answers, invitations and tokens do not."""
    version = form_version(db)
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        dept = surveys.department_by_code(get_db(), survey, "A")
        save_response(get_db(), survey, Submission(dept.id, {"obs1": 4}, None, None))
        get_db().conn.commit()
    db.execute("INSERT INTO form_keys (key_hash, expires) VALUES ('x', 1)")
    db.conn.commit()
    assert form_version(db) == version
    statements = [
        "UPDATE departments SET name = 'Renamed' WHERE code = 'B'",
        "UPDATE surveys SET title = 'New title' WHERE slug = 'acme'",
        "INSERT INTO actions (survey_id, level, theme, title, status, created_on, updated_on) "
        "SELECT id, 'owning', 'roles', 'Weekly stand-up', 'planned', '2026-11-27', '2026-11-27' FROM surveys",
        "UPDATE actions SET status = 'done'",
        "DELETE FROM actions",
        "DELETE FROM surveys WHERE slug = 'acme'",  # its departments go with it (cascade)
    ]
    for statement in statements:
        db.execute(statement)
        db.conn.commit()
        assert form_version(db) > version, statement
        version = form_version(db)


def test_connect_creates_file(tmp_path):
    db = connect(str(tmp_path / "new.sqlite"))
    migrate(db)
    assert "surveys" in db.table_names()
    db.close()


def test_the_writer_survives_a_database_it_cannot_open(tmp_path):
    """Jobs fail with a clear 503 instead of waiting forever, and the writer works once the file can be opened."""
    from survey.writer import Writer, WriterUnavailable

    attempts = []

    def opener():
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")
        return connect(str(tmp_path / "w.sqlite"))

    writer = Writer(opener)
    with pytest.raises(WriterUnavailable) as caught:
        writer.run(lambda db: db.execute("CREATE TABLE t (x)"))
    assert caught.value.status == 503 and "could not be opened" in caught.value.error
    writer.run(lambda db: db.execute("CREATE TABLE t (x)"))
    assert writer.run(lambda db: db.execute("SELECT COUNT(*) FROM t").fetchone()[0]) == 0
