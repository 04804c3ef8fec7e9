"""Commands: init-db, users create, tokens create, demo."""

from __future__ import annotations

import numpy as np

from survey import accounts
from survey.db import get_db


def test_init_db_is_idempotent(runner, db):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0 and "Database ready" in result.output
    assert db["surveys"].count == 1


def test_users_create_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "create", "new@example.org", "--role", "facilitator", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = accounts.authenticate(get_db(), "new@example.org", "a long enough password")
    assert user["role"] == "facilitator"


def test_users_create_errors(runner):
    result = runner.invoke(
        args=["users", "create", "x@example.org", "--role", "hr", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1 and "at least 15 characters" in result.output
    result = runner.invoke(args=["users", "create", "x@example.org", "--role", "boss", "--password-stdin"], input="x\n")
    assert result.exit_code == 2 and "boss" in result.output
    result = runner.invoke(
        args=["users", "create", "hr@example.org", "--role", "hr", "--password-stdin"], input="long enough password\n"
    )
    assert result.exit_code == 1 and "already exists" in result.output


def test_tokens_create_prints_token_last(app, runner, client, db):
    result = runner.invoke(args=["tokens", "create", "--role", "hr"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert db.execute("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", [token]).fetchone()[0] == 0
    resp = client.post(
        "/api/v1/surveys",
        json={"title": "Via token", "departments": [{"code": "A", "name": "A"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201


def test_demo_creates_realistic_data(runner, db, instrument):
    result = runner.invoke(args=["demo", "--responses", "2000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    survey = next(db.query("SELECT id, min_group_size FROM surveys WHERE slug = 'demo'"))
    per_dept = [
        r["n"]
        for r in db.query(
            "SELECT COUNT(r.id) AS n FROM departments d LEFT JOIN responses r ON r.department_id = d.id "
            "WHERE d.survey_id = ? GROUP BY d.id",
            [survey["id"]],
        )
    ]
    assert len(per_dept) == 12 and sum(per_dept) == 2000
    assert sum(1 for n in per_dept if n < survey["min_group_size"]) == 1  # exactly one below the threshold
    assert len(set(per_dept)) > 6  # departments of different sizes
    answers = db.execute(
        "SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.survey_id = ?", [survey["id"]]
    ).fetchone()[0]
    assert 0.9 * 2000 * len(instrument.items) < answers < 2000 * len(instrument.items)  # some items skipped
    values = [r[0] for r in db.execute("SELECT value FROM answers")]
    counts = np.bincount(values, minlength=6)[1:]
    assert all(c > 0 for c in counts)  # the whole scale is used
    # Higher levels are harder: the mean falls from the base of the pyramid to the top.
    means = [
        db.execute(
            "SELECT AVG(a.value) FROM answers a JOIN survey_items i ON i.position = a.item AND i.survey_id = ? "
            "WHERE i.level = ?",
            [survey["id"], level.id],
        ).fetchone()[0]
        for level in instrument.levels
    ]
    assert means == sorted(means, reverse=True)


def test_demo_refuses_to_overwrite_and_is_repeatable(runner, db):
    assert runner.invoke(args=["demo", "--responses", "50", "--seed", "3"]).exit_code == 0
    first = db.execute("SELECT GROUP_CONCAT(value) FROM answers").fetchone()[0]
    result = runner.invoke(args=["demo", "--responses", "50"])
    assert result.exit_code == 1 and "--replace" in result.output
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0
    assert runner.invoke(args=["demo", "--responses", "50", "--seed", "3", "--replace"]).exit_code == 0
    assert db.execute("SELECT GROUP_CONCAT(value) FROM answers").fetchone()[0] == first
    assert db["responses"].count == 50
