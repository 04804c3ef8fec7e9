"""Storage: migrations, pragmas, atomic writes."""

from __future__ import annotations

import sqlite3

import pytest

from survey import surveys
from survey.db import connect, get_db, migrate
from survey.responses import Submission, save_response


def test_migrations_are_idempotent(app, db):
    before = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    migrate(db)
    migrate(db)
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert {"surveys", "departments", "responses", "answers", "invitations", "users", "api_tokens"} <= set(
        db.table_names()
    )


def test_connection_settings(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


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


def test_connect_creates_file(tmp_path):
    db = connect(str(tmp_path / "new.sqlite"))
    migrate(db)
    assert "surveys" in db.table_names()
    db.close()
