"""Backups: a consistent online copy while the app is serving, restorable with every response."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.request

from helpers import answers_for

from survey import surveys
from survey.db import get_db


def test_backup_while_serving_and_restore(app, make_app, runner, live_server, instrument, tmp_path):
    stop = threading.Event()
    acknowledged = []

    def submit_forever():
        n = 0
        while not stop.is_set() and n < 400:
            body = json.dumps({"department": "A", "answers": answers_for(instrument, 1 + n % 5)}).encode()
            req = urllib.request.Request(
                f"{live_server}/api/v1/surveys/acme/responses",
                data=body,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert resp.status == 201
            acknowledged.append(n)
            n += 1

    writer = threading.Thread(target=submit_forever)
    writer.start()
    while len(acknowledged) < 20 and writer.is_alive():
        stop.wait(0.01)
    target = tmp_path / "backup.sqlite"
    acknowledged_at_start = len(acknowledged)
    result = runner.invoke(args=["backup", str(target)])
    stop.set()
    writer.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert "Integrity check: ok" in result.output
    # Restore: the copy is a working database with every response acknowledged before the
    # backup started, each complete.
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = copy.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    assert acknowledged_at_start <= stored <= len(acknowledged) + 1  # +1: one request in flight
    per_response = copy.execute("SELECT COUNT(*) FROM answers GROUP BY response_id").fetchall()
    assert len(per_response) == stored and {n for (n,) in per_response} == {len(instrument.items)}
    copy.close()
    # The copy works as the app's database.
    restored = make_app(DATABASE=str(target))
    with restored.app_context():
        assert get_db()["responses"].count == stored
        assert surveys.get_survey(get_db(), "acme") is not None


def test_backup_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "b.sqlite"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and "--force" in result.output
    assert target.read_text() == "keep me"
