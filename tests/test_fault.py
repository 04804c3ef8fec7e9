"""Workers killed with SIGKILL under load lose no acknowledged response and leave none half-stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_kill_9_workers_under_load():
    """scripts/fault_test.py with 400 submissions and 2 kills passes every check."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fault_test.py"), "--requests", "400", "--kills", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # the script bounds itself; this only stops a hung run
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fault test: all checks passed" in result.stdout
