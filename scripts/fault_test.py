"""Fault test: kill -9 gunicorn workers in the middle of a load run, then audit the database.

Starts the app under gunicorn (gunicorn.conf.py, 2 workers) on a free 127.0.0.1 port with a
fresh temporary database, sends N valid submissions (24 answers, a unique comment
"load-<n>") at C concurrent connections, and kills the oldest live worker with SIGKILL K
times, evenly spread over the run; gunicorn starts a new worker each time. Afterwards:
- every acknowledged (2xx) submission is stored, with exactly the answers that were sent;
- a submission that got no answer (its worker died) is stored in full or not at all;
- nothing else is stored, no answer lacks its response, PRAGMA integrity_check is ok;
- every kill happened, gunicorn is back to its number of workers, and the app answers;
- no request got a 5xx.
Prints a summary and exits 1 on any failure.

    .venv/bin/python scripts/fault_test.py [--requests 3000] [--kills 5] [--concurrency 64] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import (  # noqa: E402  (the repository root must be on sys.path first)
    SLUG,
    Run,
    Server,
    audit,
    create_database,
    drive,
    payloads,
    print_audit,
    serving,
    verdict,
    worker_pids,
)

RECOVERY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: the worker's pid, after how many completed requests, and when."""

    pid: int
    completed: int
    at: float


class Killer:
    """Kill the oldest live worker each time the number of completed requests passes a threshold."""

    def __init__(self, server: Server, requests: int, kills: int):
        self.server = server
        self.thresholds = [requests * (i + 1) // (kills + 1) for i in range(kills)]
        self.kills: list[Kill] = []
        self.start = time.monotonic()

    async def progress(self, completed: int) -> None:
        """Called after every completed request; kills a worker when the next threshold is reached."""
        while self.thresholds and completed >= self.thresholds[0]:
            self.thresholds.pop(0)
            workers = worker_pids(self.server.pid)
            if not workers:
                continue  # all workers are being replaced right now; the next threshold will find one
            # The oldest worker has booted and is serving requests (a fresh one may still be importing).
            pid = workers[0]
            os.kill(pid, signal.SIGKILL)
            self.kills.append(Kill(pid, completed, time.monotonic() - self.start))


async def recovered(server: Server, workers: int, killed: set[int]) -> tuple[bool, str]:
    """Wait until gunicorn runs `workers` workers again, none of them killed, and the app answers."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    detail = ""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while time.monotonic() < deadline:
            live = worker_pids(server.pid)
            if len(live) == workers and not killed & set(live):
                try:
                    async with session.get(f"{server.url}/api/v1/surveys/{SLUG}") as response:
                        if response.status == 200:
                            return True, f"{len(live)} workers {live}, GET /api/v1/surveys/{SLUG} -> 200"
                        detail = f"GET answered {response.status}"
                except aiohttp.ClientError as exc:
                    detail = f"GET failed: {type(exc).__name__}"
            else:
                detail = f"live workers {live}"
            await asyncio.sleep(0.2)
    return False, detail


async def fault_test(args: argparse.Namespace, workdir: Path) -> int:
    """Run the load with kills, audit the database and print the checks; return the exit code."""
    secret = secrets.token_hex(16)
    db_path = workdir / "survey.sqlite"
    info = create_database(db_path, secret, workdir)
    sent, bodies = payloads(args.requests, info, args.seed)
    print(
        f"gunicorn --config gunicorn.conf.py: {args.workers} workers, 127.0.0.1 only; {args.requests} submissions "
        f"at {args.concurrency} connections; {args.kills} x kill -9 of the oldest worker"
    )
    # All requests come from one address: lift the per-client limit on open-link answers.
    env = {"FLASK_DATABASE": str(db_path), "FLASK_SECRET_KEY": secret, "FLASK_OPEN_SUBMIT_LIMIT": "1000000000"}
    run = Run("app POST responses under kill -9")
    with serving("app:app", env, workdir, args.workers, "app") as server:
        killer = Killer(server, args.requests, args.kills)
        await drive(
            run,
            "POST",
            f"{server.url}/api/v1/surveys/{SLUG}/responses",
            bodies,
            range(args.requests),
            args.concurrency,
            progress=killer.progress,
        )
        back, recovery = await recovered(server, args.workers, {k.pid for k in killer.kills})
        restarts = server.log.read_text(errors="replace").count("Booting worker") - args.workers

    print()
    for number, kill in enumerate(killer.kills, start=1):
        print(f"kill {number}: worker {kill.pid} at {kill.at:.2f} s, after {kill.completed} completed requests")
    print(f"gunicorn booted {restarts} replacement workers; after the run: {recovery}")
    statuses = Counter(str(r.status) if r.status is not None else f"no answer ({r.error})" for r in run.results)
    print(f"{len(run.results)} requests in {run.seconds:.2f} s: " + ", ".join(f"{k}: {v}" for k, v in statuses.items()))
    print()
    print("What the database holds:")
    result = audit(db_path, sent, {r.n for r in run.ok}, strict_unacked=False)
    print_audit(result)
    print()

    checks = [
        (f"{args.kills} workers killed ({len(killer.kills)})", len(killer.kills) == args.kills),
        (f"gunicorn replaced them and the app answers ({recovery})", back),
        (f"every acknowledged submission stored ({len(result.lost)} lost)", not result.lost),
        (
            f"no partial response: every stored one has exactly the answers sent ({len(result.incomplete)} differ)",
            not result.incomplete,
        ),
        (
            f"nothing stored that was not sent, nor twice ({len(result.unexpected)}); "
            f"no answer without its response ({result.orphans})",
            not result.unexpected and not result.orphans,
        ),
        (f"PRAGMA integrity_check: {result.integrity}", result.integrity == "ok"),
        (f"no 5xx ({run.server_errors})", run.server_errors == 0),
    ]
    for label, ok in checks:
        print(f"{verdict(ok)}  {label}")
    failed = sum(1 for _, ok in checks if not ok)
    print()
    print("fault test: " + ("all checks passed" if not failed else f"{failed} check(s) FAILED"))
    return 0 if not failed else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the fault test in a temporary folder and clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="submissions to send (default 3000)")
    parser.add_argument("--kills", type=int, default=5, help="workers to kill with SIGKILL (default 5)")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency, args.workers) < 1 or args.kills < 0 or args.kills >= args.requests:
        parser.error("--requests, --concurrency and --workers must be >= 1, and 0 <= --kills < --requests")
    workdir = Path(tempfile.mkdtemp(prefix="survey-fault-"))
    try:
        return asyncio.run(fault_test(args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
