"""Load benchmark: the survey app under gunicorn against a bare Flask + SQLite baseline.

Starts the app with gunicorn.conf.py (2 workers) on a free 127.0.0.1 port and a fresh
temporary database holding one open survey, and the baseline (benchmarks/bare_app.py)
under the same gunicorn settings beside it. One client drives both at 64 concurrent
connections, in rounds alternating between app and baseline (each idle while the other
runs), so that other load on the machine weighs on both alike:
- POST /api/v1/surveys/<slug>/responses: valid submissions with 24 answers, an eNPS and a
  unique comment "load-<n>" (the baseline stores the same bytes as one row, with the app's
  storage settings; --bare-wal gives it SQLite's fast ones instead, to show what they cost);
- GET /s/<slug>: the respondent's form (open link) against a bare "hello" page, first as a first
  visit (no cookie: answered from memory, survey/respond/first_visit.py), then with a cookie (a
  returning visitor: through Flask's whole pipeline), each against the same bare page.

The client is wrk (Debian package `wrk`) when it is installed: written in C, it leaves the
CPU to the servers. Its Lua script (written by this file) builds each submission from its
number, so that every stored one can be checked. Without wrk the Python client (aiohttp)
drives the load, and then it measures itself about as much as the servers.

Prints requests/s and their ratios, p50/p99 latency, non-2xx and 5xx counts, the servers'
CPU time per request and the load client's CPU share. Then checks what the app stored:
the Python client sends --check-requests numbered submissions (with wrk; without it, the
load's own) and each acknowledged one must be stored once with all its answers; wrk's
must all be known, complete, unique, and at least as many as it saw acknowledged.
Exits 1 when a target fails: app submissions/s >= 0.5 x bare, zero lost, zero 5xx; reports
whether the survey page reaches its goal of 0.6 x the hello page. Bounded in count and time;
cleans up after itself.

    .venv/bin/python benchmarks/load.py [--client auto|wrk|aiohttp] [--seconds 4] [--rounds 3]
                                        [--concurrency 64] [--workers 2] [--requests 3000] [--bare-wal]

--app MODULE:NAME measures another WSGI app (e.g. a patched copy) against the same baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
# Any cookie makes a visit a returning one (Flask answers it); this one is not a session, so the app
# starts one and signs its cookie, as for a first visit that Flask answers.
RETURNING_COOKIE = "returning=1"
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # never any other address: this is a load generator
SLUG = "load"
GUNICORN = Path(sys.executable).with_name("gunicorn")
REQUEST_TIMEOUT_S = 60.0  # per request; a run therefore always ends
WRK_FIRST = 1_000_000  # wrk numbers its submissions from here, the Python client from 0
START_TIMEOUT_S = 60.0


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn master: its process, base URL and log file."""

    proc: subprocess.Popen
    url: str
    log: Path

    @property
    def pid(self) -> int:
        """Return the master's process id."""
        return self.proc.pid

    def cpu(self) -> float:
        """Return the CPU seconds used so far by the master and its current workers."""
        return sum(process_cpu(pid) for pid in [self.pid, *worker_pids(self.pid)])


def process_cpu(pid: int) -> float:
    """Return a process's user + system CPU seconds so far (0 when it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    """Return the pids of the master's live children (the gunicorn workers), oldest first."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # Fields after the command name (which may contain spaces): state ppid ... starttime (22nd).
        rest = stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == master and rest[0] != "Z":
            children.append((int(rest[19]), int(entry.name)))
    return [pid for _, pid in sorted(children)]


def start_gunicorn(module: str, env: dict[str, str], workdir: Path, workers: int, name: str) -> Server:
    """Start gunicorn with gunicorn.conf.py on a free loopback port; wait until it answers."""
    port = free_port()
    log = workdir / f"{name}-gunicorn.log"
    full_env = {**os.environ, **env, "WORKERS": str(workers)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "--config", "gunicorn.conf.py", "--bind", f"{HOST}:{port}", module],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, f"http://{HOST}:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: gunicorn exited with {proc.returncode}:\n{tail(log)}")
        # Ready when every worker has booted (gunicorn logs one line each) and the port answers.
        booted = log.read_text(errors="replace").count("Booting worker")
        if booted >= workers and len(worker_pids(proc.pid)) >= workers and port_open(port):
            return server
        time.sleep(0.1)
    stop_gunicorn(server)
    raise RuntimeError(f"{name}: gunicorn did not start within {START_TIMEOUT_S:.0f} s:\n{tail(log)}")


def port_open(port: int) -> bool:
    """Return True when something accepts connections on the loopback port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_gunicorn(server: Server) -> None:
    """Stop the master (it stops its workers); kill master and leftover workers by pid if it hangs."""
    workers = worker_pids(server.pid)
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=35)  # gunicorn's graceful_timeout is 30 s
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)
    for pid in workers:
        if is_gunicorn_leftover(pid, server.pid):
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile, as it should
                os.kill(pid, signal.SIGKILL)


def is_gunicorn_leftover(pid: int, master: int) -> bool:
    """Return True when pid is still one of this master's gunicorn workers (or orphaned by it), not a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return ppid in (master, 1) and b"gunicorn" in cmdline


@contextlib.contextmanager
def serving(module: str, env: dict[str, str], workdir: Path, workers: int, name: str) -> Iterator[Server]:
    """Run a gunicorn server for the duration of a with-block."""
    server = start_gunicorn(module, env, workdir, workers, name)
    try:
        yield server
    finally:
        stop_gunicorn(server)


# --- the survey database -------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyInfo:
    """What the client needs to send valid submissions."""

    departments: list[str]
    items: list[str]


def create_database(path: Path, secret: str, workdir: Path) -> SurveyInfo:
    """Create a fresh database with one open survey (8 departments) and return its codes and item ids."""
    from survey import create_app, surveys
    from survey.db import get_db

    app = create_app({"DATABASE": str(path), "SECRET_KEY": secret, "REPORTS_DIR": str(workdir / "reports")})
    departments = [{"code": f"D{n:02d}", "name": f"Department {n}", "headcount": 1000} for n in range(1, 9)]
    with app.app_context():
        surveys.create_survey(
            get_db(), app.extensions["instrument"], title="Load test", language="en", departments=departments, slug=SLUG
        )
    items = [item.id for item in app.extensions["instrument"].items]
    return SurveyInfo([d["code"] for d in departments], items)


def submission(n: int, info: SurveyInfo, rng: random.Random) -> dict:
    """Return the n-th valid submission: every item answered, an eNPS and the unique comment load-<n>."""
    return {
        "department": info.departments[n % len(info.departments)],
        "answers": {item: rng.randint(1, 5) for item in info.items},
        "enps": rng.randint(0, 10),
        "comment": f"load-{n}",
    }


# --- the Python client (fallback, and the checker of what was stored) ----------------------


@dataclass
class Result:
    """One request's outcome: HTTP status (None after a connection error), latency and error."""

    n: int
    status: int | None
    latency: float
    error: str = ""


@dataclass
class Run:
    """All outcomes of one phase driven by the Python client, its wall time and the CPU times."""

    name: str
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    round_rates: list[float] = field(default_factory=list)  # requests/s of each round

    @property
    def requests(self) -> int:
        """Return the number of requests that ended (with an answer or a connection error)."""
        return len(self.results)

    @property
    def cpu_ms(self) -> float:
        """Return the server's CPU milliseconds per request (all worker processes together)."""
        return 1000 * self.server_cpu / len(self.results) if self.results else float("nan")

    @property
    def ok(self) -> list[Result]:
        """Return the results with a 2xx status."""
        return [r for r in self.results if r.status is not None and 200 <= r.status < 300]

    @property
    def rate(self) -> float:
        """Return completed requests per second."""
        return len(self.results) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Return the q-th percentile of latency in milliseconds (nearest rank)."""
        latencies = sorted(r.latency for r in self.results)
        if not latencies:
            return float("nan")
        index = min(len(latencies) - 1, max(0, round(q / 100 * len(latencies) + 0.5) - 1))
        return latencies[index] * 1000

    @property
    def non_2xx(self) -> int:
        """Return the number of requests without a 2xx answer (connection errors included)."""
        return len(self.results) - len(self.ok)

    @property
    def server_errors(self) -> int:
        """Return the number of 5xx answers."""
        return sum(1 for r in self.results if r.status is not None and r.status >= 500)

    @property
    def connection_errors(self) -> int:
        """Return the number of requests that got no HTTP answer at all."""
        return sum(1 for r in self.results if r.status is None)


async def drive(
    run: Run,
    method: str,
    url: str,
    bodies: list[bytes] | None,
    numbers: range,
    concurrency: int,
    progress: Callable[[int], Awaitable[None]] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Run:
    """Send the requests numbered `numbers` with `concurrency` connections, adding to `run`.

    bodies[n] is the n-th request's body; the wall time is added to run.seconds.
    """
    next_n = iter(numbers)
    headers = {"Content-Type": "application/json"} if bodies is not None else {}
    headers.update(extra_headers or {})
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in next_n:
            data = bodies[n] if bodies is not None else None
            start = time.perf_counter()
            try:
                async with session.request(method, url, data=data, headers=headers) as response:
                    await response.read()
                    result = Result(n, response.status, time.perf_counter() - start)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # No HTTP answer: the submission is not acknowledged (it may or may not be stored).
                result = Result(n, None, time.perf_counter() - start, type(exc).__name__)
            run.results.append(result)
            if progress is not None:
                await progress(len(run.results))

    cpu = cpu_seconds()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        run.seconds += time.perf_counter() - start
    run.client_cpu += cpu_seconds() - cpu
    return run


def cpu_seconds() -> float:
    """Return the CPU time used by this process (the Python load client) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- wrk -----------------------------------------------------------------------------------


def wrk_submission(n: int, info: SurveyInfo) -> dict:
    """Return the n-th submission as wrk's Lua script builds it (same formula on both sides)."""
    return {
        "department": info.departments[n % len(info.departments)],
        "answers": {item: (n + 3 * i) % 5 + 1 for i, item in enumerate(info.items)},
        "enps": n % 11,
        "comment": f"load-{n}",
    }


# Counts every answer's status per thread (wrk's own summary counts only >= 400 as errors),
# and prints the summary as @-lines that wrk_round() reads.
WRK_COMMON = """
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  first = tonumber(args[1]) or 0
  step = tonumber(args[2]) or 1
  sent = 0
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "@summary requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99))))
  for _, thread in ipairs(threads) do
    io.write(string.format("@thread id=%d sent=%d\\n", thread:get("id"), thread:get("sent") or 0))
    for status, count in pairs(thread:get("statuses") or {}) do
      io.write(string.format("@status %d %d\\n", status, count))
    end
  end
end
"""

# Submission n (thread id + first + k x threads) is built from its number, as wrk_submission does.
WRK_POST = """
local items = {%(items)s}
local departments = {%(departments)s}
local headers = {["Content-Type"] = "application/json"}

function request()
  local n = first + id + sent * step
  sent = sent + 1
  local answers = {}
  for i, item in ipairs(items) do
    answers[i] = string.format('"%%s":%%d', item, (n + 3 * (i - 1)) %% 5 + 1)
  end
  local body = string.format('{"department":"%%s","answers":{%%s},"enps":%%d,"comment":"load-%%d"}',
    departments[n %% #departments + 1], table.concat(answers, ","), n %% 11, n)
  return wrk.format("POST", nil, headers, body)
end
"""


def lua_strings(values: list[str]) -> str:
    """Return a Lua table body of string literals (the values are plain codes and item ids)."""
    return ", ".join(json.dumps(v) for v in values)


def write_wrk_scripts(workdir: Path, info: SurveyInfo) -> dict[str, Path]:
    """Write the GET and POST Lua scripts; return their paths by method."""
    scripts = {"GET": workdir / "get.lua", "GET_COOKIE": workdir / "get-cookie.lua", "POST": workdir / "post.lua"}
    scripts["GET"].write_text(WRK_COMMON)
    scripts["GET_COOKIE"].write_text(WRK_COMMON + f'wrk.headers["Cookie"] = "{RETURNING_COOKIE}"\n')
    post = WRK_POST % {"items": lua_strings(info.items), "departments": lua_strings(info.departments)}
    scripts["POST"].write_text(WRK_COMMON + post)
    return scripts


@dataclass
class WrkRun:
    """The rounds of one phase driven by wrk: counts by status, latency per round, CPU times."""

    name: str
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    rounds: list[tuple[int, float, float]] = field(default_factory=list)  # (requests, p50 ms, p99 ms)
    sent: list[int] = field(default_factory=list)  # POST: the numbers of the submissions sent
    round_rates: list[float] = field(default_factory=list)  # answers/s of each round

    @property
    def requests(self) -> int:
        """Return the number of answers received."""
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        """Return answers per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Return the server's CPU milliseconds per request (all worker processes together)."""
        return 1000 * self.server_cpu / self.requests if self.requests else float("nan")

    @property
    def acknowledged(self) -> int:
        """Return the number of 2xx answers."""
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    @property
    def non_2xx(self) -> int:
        """Return the answers without a 2xx status plus the socket errors."""
        return self.requests - self.acknowledged + self.socket_errors

    @property
    def server_errors(self) -> int:
        """Return the number of 5xx answers."""
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        """Return p50 as the rounds' mean weighted by requests, p99 as the worst round's (wrk reports per run)."""
        rounds = [r for r in self.rounds if r[0]]
        if not rounds:
            return float("nan")
        if q == 50:
            return sum(n * p50 for n, p50, _ in rounds) / sum(n for n, _, _ in rounds)
        return max(p99 for _, _, p99 in rounds)


def children_cpu() -> float:
    """Return the CPU time of this process's ended and reaped children (the wrk runs; servers end later)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_round(
    run: WrkRun, wrk: str, script: Path, url: str, seconds: float, concurrency: int, threads: int, first: int
) -> int:
    """Run wrk once for `seconds` and add its figures to `run`; return the next free submission number."""
    threads = max(1, min(threads, concurrency))
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={concurrency}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={REQUEST_TIMEOUT_S:.0f}s",
        f"--script={script}",
        url,
        "--",
        str(first),
        str(threads),
    ]
    cpu = children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + REQUEST_TIMEOUT_S + 30)
    run.client_cpu += children_cpu() - cpu
    if done.returncode != 0 or "@summary" not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    next_first = first
    for line in done.stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "@summary":
            values = {k: int(v) for k, v in (pair.split("=") for pair in rest.split())}
            run.seconds += values["duration_us"] / 1e6
            run.socket_errors += sum(values[k] for k in ("connect", "read", "write", "timeout"))
            run.rounds.append((values["requests"], values["p50_us"] / 1000, values["p99_us"] / 1000))
        elif kind == "@thread":
            values = {k: int(v) for k, v in (pair.split("=") for pair in rest.split())}
            numbers = range(first + values["id"], first + values["id"] + values["sent"] * threads, threads)
            run.sent.extend(numbers)
            next_first = max(next_first, numbers.stop)
        elif kind == "@status":
            status, count = map(int, rest.split())
            run.statuses[status] = run.statuses.get(status, 0) + count
    return next_first


# --- checking what was stored --------------------------------------------------------------


@dataclass
class Audit:
    """What the database holds compared with what was sent and acknowledged."""

    acknowledged: int
    stored: int
    lost: list[int]  # acknowledged but not stored
    unexpected: list[str]  # stored but never sent, or stored twice
    incomplete: list[int]  # stored with answers, eNPS or department other than sent
    unacked_stored: int  # sent, not acknowledged (connection error, 5xx), stored in full
    unacked_absent: int  # sent, not acknowledged, not stored
    integrity: str
    orphans: int  # answers without their response
    unconfirmed_stored: int = 0  # sent by wrk (which cannot tell which one was acknowledged) and stored

    @property
    def exact(self) -> bool:
        """Return True when no acknowledged submission is lost and nothing is partial or unknown."""
        return not (self.lost or self.unexpected or self.incomplete or self.orphans) and self.integrity == "ok"


def audit(
    db_path: Path,
    sent: dict[int, dict],
    acked: set[int],
    strict_unacked: bool,
    unconfirmed: set[int] | frozenset[int] = frozenset(),
) -> Audit:
    """Compare the stored responses of the survey with the submissions sent and acknowledged.

    With strict_unacked, a stored submission that was not acknowledged counts as unexpected
    (no request should fail in a plain load run); otherwise it only has to be complete.
    Submissions in `unconfirmed` (sent by wrk) are only counted when stored, never lost or unexpected.
    """
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        survey_id = conn.execute("SELECT id FROM surveys WHERE slug = ?", [SLUG]).fetchone()[0]
        responses = conn.execute(
            "SELECT r.id, r.comment, r.enps, d.code FROM responses r JOIN departments d ON d.id = r.department_id"
            " WHERE r.survey_id = ?",
            [survey_id],
        ).fetchall()
        answers: dict[int, dict[str, int]] = {}
        for response_id, item_id, value in conn.execute(
            """SELECT a.response_id, i.item_id, a.value FROM answers a
               JOIN responses r ON r.id = a.response_id
               JOIN survey_items i ON i.survey_id = r.survey_id AND i.position = a.item
               WHERE r.survey_id = ?""",
            [survey_id],
        ):
            answers.setdefault(response_id, {})[item_id] = value
        integrity = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        orphans = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE response_id NOT IN (SELECT id FROM responses)"
        ).fetchone()[0]
    finally:
        conn.close()

    seen: set[int] = set()
    unexpected: list[str] = []
    incomplete: list[int] = []
    for response_id, comment, enps, code in responses:
        n = int(comment[5:]) if isinstance(comment, str) and comment.startswith("load-") else None
        if n is None or n not in sent or n in seen:
            unexpected.append(repr(comment))
            continue
        seen.add(n)
        if strict_unacked and n not in acked and n not in unconfirmed:
            unexpected.append(repr(comment))
        want = sent[n]
        if answers.get(response_id, {}) != want["answers"] or enps != want["enps"] or code != want["department"]:
            incomplete.append(n)
    unacked = set(sent) - acked - set(unconfirmed)
    return Audit(
        acknowledged=len(acked),
        stored=len(responses),
        lost=sorted(acked - seen),
        unexpected=unexpected,
        incomplete=sorted(incomplete),
        unacked_stored=len(unacked & seen),
        unacked_absent=len(unacked - seen),
        integrity=integrity,
        orphans=orphans,
        unconfirmed_stored=len(seen & set(unconfirmed)),
    )


# --- reporting -----------------------------------------------------------------------------


def describe(run: Run | WrkRun) -> str:
    """Return one table row of a run's figures."""
    return (
        f"{run.name:<30} {run.requests:>7} {run.seconds:>7.2f} {run.rate:>9.1f} "
        f"{run.percentile(50):>8.1f} {run.percentile(99):>8.1f} {run.non_2xx:>7} {run.server_errors:>5} "
        f"{run.cpu_ms:>10.2f}"
    )


HEADER = (
    f"{'phase':<30} {'reqs':>7} {'secs':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>7} {'5xx':>5} "
    f"{'CPU ms/req':>10}"
)


def round_ratio(app: Run | WrkRun, bare: Run | WrkRun) -> float:
    """Return the median over rounds of app rate / bare rate: each pair ran back to back, so it resists bursts."""
    ratios = [a / b for a, b in zip(app.round_rates, bare.round_rates, strict=True) if b]
    return statistics.median(ratios) if ratios else float("nan")


def verdict(ok: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_audit(result: Audit, wrk_acknowledged: int | None = None) -> None:
    """Print what the database holds against what was acknowledged."""
    print(f"  acknowledged (2xx):                  {result.acknowledged}")
    print(f"  responses stored:                    {result.stored}")
    print(f"  acknowledged but missing (lost):     {len(result.lost)} {result.lost[:10] or ''}")
    print(f"  stored but unknown or duplicated:    {len(result.unexpected)} {result.unexpected[:10] or ''}")
    print(f"  stored with other/partial answers:   {len(result.incomplete)} {result.incomplete[:10] or ''}")
    print(f"  unacknowledged, stored in full:      {result.unacked_stored}")
    print(f"  unacknowledged, not stored:          {result.unacked_absent}")
    if wrk_acknowledged is not None:
        print(f"  wrk: acknowledged / stored in full:  {wrk_acknowledged} / {result.unconfirmed_stored}")
    print(f"  answers without a response:          {result.orphans}")
    print(f"  PRAGMA integrity_check:              {result.integrity}")


def payloads(count: int, info: SurveyInfo, seed: int) -> tuple[dict[int, dict], list[bytes]]:
    """Return the submissions by number and their encoded bodies."""
    rng = random.Random(seed)
    sent = {n: submission(n, info, rng) for n in range(count)}
    return sent, [json.dumps(sent[n]).encode("utf-8") for n in range(count)]


async def warm_up(url: str, concurrency: int) -> None:
    """Send a few GETs so that both workers have compiled templates and opened the database once."""
    await drive(Run("warm-up"), "GET", url, None, range(4 * concurrency), concurrency)


def rounds(count: int, n_rounds: int) -> list[range]:
    """Split request numbers 0..count-1 into n_rounds consecutive ranges."""
    n_rounds = max(1, min(n_rounds, count))
    bounds = [count * i // n_rounds for i in range(n_rounds + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(n_rounds)]


def find_wrk(choice: str) -> str | None:
    """Return wrk's path when it is to be used; print why the Python client is used otherwise."""
    path = shutil.which("wrk")
    if choice == "aiohttp":
        return None
    if path is None:
        hint = "wrk is not installed: install Debian's package (apt-get install wrk) to measure the servers"
        if choice == "wrk":
            raise SystemExit(f"{hint}.")
        print(f"NOTE  {hint}\n      rather than this client. Falling back to the Python client (aiohttp),")
        print("      whose own CPU caps the rates on a small machine: the ratios then understate the app's cost.")
        print()
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when every target passes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--client", choices=["auto", "wrk", "aiohttp"], default="auto", help="load client (default: wrk when found)"
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="wrk: seconds per round and server (default 4)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk: threads (default 2)")
    parser.add_argument("--requests", type=int, default=3000, help="Python client: requests per phase (default 3000)")
    parser.add_argument(
        "--check-requests", type=int, default=1000, help="with wrk: submissions checked one by one (default 1000)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--bare-wal",
        action="store_true",
        help="baseline with WAL and synchronous NORMAL instead of the app's storage settings (their cost)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating app/bare rounds per phase (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--app", default="app:app", help="WSGI app to measure (default app:app), e.g. a patched copy")
    args = parser.parse_args(argv)
    if min(args.requests, args.check_requests, args.concurrency, args.workers, args.rounds, args.wrk_threads) < 1:
        parser.error("--requests, --check-requests, --concurrency, --workers, --rounds, --wrk-threads: at least 1")
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds must be between 1 and 60")
    wrk = find_wrk(args.client)

    workdir = Path(tempfile.mkdtemp(prefix="survey-load-"))
    try:
        return asyncio.run(benchmark(args, workdir, wrk))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def benchmark(args: argparse.Namespace, workdir: Path, wrk: str | None) -> int:
    """Drive both servers through both phases in alternating rounds, print the figures and the checks."""
    secret = secrets.token_hex(16)
    app_db, bare_db = workdir / "survey.sqlite", workdir / "bare.sqlite"
    info = create_database(app_db, secret, workdir)
    checked = args.check_requests if wrk else args.requests
    sent, bodies = payloads(checked, info, args.seed)
    size = sum(map(len, bodies)) / len(bodies)
    threads = os.environ.get("THREADS", "4")
    print(
        f"gunicorn --config gunicorn.conf.py: {args.workers} workers x {threads} threads, {HOST} only; "
        f"{os.cpu_count()} CPUs shared with the client"
    )
    if wrk:
        print(
            f"client: wrk, {args.wrk_threads} threads, {args.concurrency} connections, {args.rounds} rounds of "
            f"{args.seconds:.0f} s per phase and server, alternating app and bare; then {checked} submissions "
            "checked one by one by the Python client"
        )
    else:
        print(
            f"client: aiohttp, {args.concurrency} connections, {args.requests} requests per phase in {args.rounds} "
            "rounds alternating app and bare"
        )
    print(
        "baseline storage: "
        + (
            "WAL, synchronous NORMAL (SQLite's fast settings)"
            if args.bare_wal
            else "the app's (survey.db.STORAGE_PRAGMAS)"
        )
    )
    print(f"submissions: {len(info.items)} answers + eNPS + comment, {size:.0f} bytes on average")
    print()

    if wrk:
        scripts = write_wrk_scripts(workdir, info)
        app_post, bare_post = WrkRun("app  POST responses"), WrkRun("bare POST (insert one row)")
        app_get, bare_get = WrkRun("app  GET /s/<slug>"), WrkRun("bare GET hello")
        app_again, bare_again = WrkRun("app  GET /s/<slug> with a cookie"), WrkRun("bare GET hello with a cookie")
    else:
        app_post, bare_post = Run("app  POST responses"), Run("bare POST (insert one row)")
        app_get, bare_get = Run("app  GET /s/<slug>"), Run("bare GET hello")
        app_again, bare_again = Run("app  GET /s/<slug> with a cookie"), Run("bare GET hello with a cookie")
    check = Run("app  POST checked (aiohttp)")
    # Every request comes from this one machine: the per-client limit on open-link answers (meant
    # for a script filling a survey) would refuse the load after 200 answers.
    app_env = {"FLASK_DATABASE": str(app_db), "FLASK_SECRET_KEY": secret, "FLASK_OPEN_SUBMIT_LIMIT": "1000000000"}
    # The baseline writes with the app's storage settings, unless asked for SQLite's fast ones.
    bare_env = {"BARE_DATABASE": str(bare_db), "BARE_WAL": "1" if args.bare_wal else "0"}
    # Both servers run side by side, each idle while the other is driven: alternating rounds
    # spread any other load on this machine evenly over the app and the baseline.
    with (
        serving(args.app, app_env, workdir, args.workers, "app") as app_server,
        serving("benchmarks.bare_app:app", bare_env, workdir, args.workers, "bare") as bare,
    ):
        for server in (app_server, bare):
            await warm_up(f"{server.url}/s/{SLUG}", args.concurrency)
        post_path, get_path = f"/api/v1/surveys/{SLUG}/responses", f"/s/{SLUG}"
        first = WRK_FIRST
        cookie = {"Cookie": RETURNING_COOKIE}
        for script, path, data, runs, headers in (
            ("POST", post_path, bodies, (app_post, bare_post), None),
            ("GET", get_path, None, (app_get, bare_get), None),
            ("GET_COOKIE", get_path, None, (app_again, bare_again), cookie),
        ):
            method = "POST" if data is not None else "GET"
            for numbers in rounds(args.requests, args.rounds):
                for server, run in zip((app_server, bare), runs, strict=True):
                    cpu, done, seconds = server.cpu(), run.requests, run.seconds
                    if isinstance(run, WrkRun):
                        url = server.url + path
                        first = wrk_round(
                            run, wrk, scripts[script], url, args.seconds, args.concurrency, args.wrk_threads, first
                        )
                    else:
                        await drive(
                            run, method, server.url + path, data, numbers, args.concurrency, extra_headers=headers
                        )
                    run.server_cpu += server.cpu() - cpu
                    run.round_rates.append((run.requests - done) / max(run.seconds - seconds, 1e-9))
        if wrk:
            cpu = app_server.cpu()
            await drive(check, "POST", app_server.url + post_path, bodies, range(checked), args.concurrency)
            check.server_cpu += app_server.cpu() - cpu

    runs = (app_post, bare_post, app_get, bare_get, app_again, bare_again)
    print(HEADER)
    for run in runs:
        print(describe(run))
    if wrk:
        print(describe(check))
    post_ratio = app_post.rate / bare_post.rate if bare_post.rate else 0.0
    get_ratio = app_get.rate / bare_get.rate if bare_get.rate else 0.0
    print()
    print(
        f"app submissions/s / bare insert/s: {post_ratio:.2f}   "
        f"(median of the rounds: {round_ratio(app_post, bare_post):.2f})"
    )
    print(
        f"app survey page GET /s/<slug> per s / bare hello per s: {get_ratio:.2f}   "
        f"(median of the rounds: {round_ratio(app_get, bare_get):.2f})"
    )
    again_ratio = app_again.rate / bare_again.rate if bare_again.rate else 0.0
    print(
        f"app survey page with a cookie (a returning visitor, through Flask) per s / bare hello per s: "
        f"{again_ratio:.2f}   (median of the rounds: {round_ratio(app_again, bare_again):.2f})"
    )
    page_cpu = app_get.cpu_ms / bare_get.cpu_ms
    print(
        f"server CPU per request app / bare: submissions {app_post.cpu_ms / bare_post.cpu_ms:.2f}, "
        f"survey page {page_cpu:.2f}, with a cookie {app_again.cpu_ms / bare_again.cpu_ms:.2f} "
        "(less sensitive to other load on the machine)"
    )
    busy = sum(run.seconds for run in runs)
    client_cpu = sum(run.client_cpu for run in runs)
    server_cpu = sum(run.server_cpu for run in runs)
    cpus = os.cpu_count() or 1
    print(
        f"load client ({'wrk' if wrk else 'aiohttp'}) CPU: {client_cpu:.1f} s over {busy:.1f} s of load = "
        f"{client_cpu / busy:.0%} of one core, {client_cpu / (busy * cpus):.0%} of the machine's CPU time "
        f"(servers: {server_cpu / (busy * cpus):.0%})"
    )
    errors = sorted({r.error for run in (*runs, check) if isinstance(run, Run) for r in run.results if r.error})
    if errors:
        print(f"connection errors: {', '.join(errors)}")
    socket_errors = sum(run.socket_errors for run in runs if isinstance(run, WrkRun))
    if socket_errors:
        print(f"wrk socket errors (connect, read, write, timeout): {socket_errors}")

    conn = sqlite3.connect(bare_db)
    try:
        bare_rows = conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    finally:
        conn.close()
    bare_acked = bare_post.acknowledged if isinstance(bare_post, WrkRun) else len(bare_post.ok)
    print(f"bare rows stored: {bare_rows} (acknowledged: {bare_acked})")
    print()
    print("What the app stored:")
    acked_run = check if wrk else app_post
    wrk_sent = app_post.sent if isinstance(app_post, WrkRun) else []
    all_sent = {**sent, **{n: wrk_submission(n, info) for n in wrk_sent}}
    wrk_acked = app_post.acknowledged if isinstance(app_post, WrkRun) else None
    result = audit(app_db, all_sent, {r.n for r in acked_run.ok}, strict_unacked=True, unconfirmed=set(wrk_sent))
    print_audit(result, wrk_acked)
    print()

    server_errors = sum(run.server_errors for run in (app_post, app_get, app_again, check))
    wrk_lost = max(0, (wrk_acked or 0) - result.unconfirmed_stored)
    targets = [
        (f"app submissions/s >= 0.5 x bare ({post_ratio:.2f} x)", post_ratio >= 0.5),
        (f"zero lost submissions ({len(result.lost) + wrk_lost} lost)", not result.lost and not wrk_lost),
        (
            f"stored = acknowledged, every one with all {len(info.items)} answers "
            f"({len(result.unexpected)} unexpected, {len(result.incomplete)} partial, integrity {result.integrity})",
            result.exact,
        ),
        (f"zero 5xx from the app ({server_errors})", server_errors == 0),
    ]
    for label, ok in targets:
        print(f"{verdict(ok)}  {label}")
    # A goal, reported but not enforced: it depends on the client and the machine more than the targets do.
    goal = f"app survey page/s >= 0.6 x bare hello ({get_ratio:.2f} x; server CPU per page {page_cpu:.2f} x)"
    print(f"{'MET ' if get_ratio >= 0.6 else 'NOT MET'}  goal: {goal}")
    return 0 if all(ok for _, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
