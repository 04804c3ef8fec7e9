"""Benchmark: a submission with its thank-you page showing the profile, against today's bare thank-you page.

Runs two gunicorn servers with the same settings (gunicorn.conf.py, same workers and threads),
each on a fresh database with one open survey:
- "bare": the code before the own pyramid (by default the merge base of HEAD and main, exported
  with git archive): POST /s/<slug> answers 302, then GET /s/<slug>/thanks is the bare page;
- "profile": this checkout: POST /s/<slug> answers 200 with the page that shows the profile.
wrk drives each in turn (rounds alternate, the other server idle) with one connection per wrk
thread, so that the bare flow's POST and GET follow each other on a connection. Every
submission is the HTML form with its CSRF token, a fresh single-use form key and 24 random
answers. A cycle is one submission and its thank-you page; the ratio is profile / bare cycles/s.
Exits 1 when the ratio is below --target (0.8) or a round saw unexpected statuses.

    .venv/bin/python benchmarks/profile.py [--seconds 10] [--rounds 3] [--connections 8] [--base REV]

Once the profile is on main, the merge base shows it too: pass --base d94186b (the last bare page).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SLUG = "bench"
GUNICORN = Path(sys.executable).with_name("gunicorn")
WRK = shutil.which("wrk")

# One wrk thread per connection: request() and response() then alternate for that connection, so the
# bare flow can follow each 302 with the GET of the thank-you page.
LUA = r"""
local mode, slug, cookie, token, items = nil, nil, nil, nil, {}
local cycles, unexpected, expecting_thanks, odd = 0, 0, false, ""
local threads, id, sent = {}, 0, 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  mode, slug, cookie, token = args[1], args[2], args[3], args[4]
  for i = 5, #args do items[#items + 1] = args[i] end
  id = wrk.thread:get("id")
  math.randomseed(os.time() + id * 7919)
end

-- Unique per thread and request, and a fresh run of the server never saw it: a new single-use key.
local stamp = string.format("%08x", os.time() % 0x7fffffff)
local function form_key()
  sent = sent + 1
  return string.format("%s%08x%08x%08x", stamp, id, sent, math.random(0, 0x7fffffff))
end

function request()
  local headers = {["Cookie"] = cookie}
  if expecting_thanks then
    return wrk.format("GET", "/s/" .. slug .. "/thanks?lang=en", headers)
  end
  local parts = {"csrf_token=" .. token, "form_key=" .. form_key(), "department=D1"}
  for _, item in ipairs(items) do parts[#parts + 1] = "q_" .. item .. "=" .. math.random(1, 5) end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", "/s/" .. slug, headers, table.concat(parts, "&"))
end

function response(status, headers, body)
  if expecting_thanks then
    expecting_thanks = false
    if status == 200 then cycles = cycles + 1 else unexpected = unexpected + 1; odd = odd .. ",thanks " .. status end
  elseif mode == "bare" and status == 302 then
    expecting_thanks = true
  elseif mode == "profile" and status == 200 and body:find('id="profile"', 1, true) then
    cycles = cycles + 1
  else
    unexpected = unexpected + 1
    odd = odd .. "," .. status
  end
  wrk.thread:set("cycles", cycles)
  wrk.thread:set("unexpected", unexpected)
  wrk.thread:set("odd", odd)
end

function done(summary, latency, requests)
  local c, u, o = 0, 0, ""
  for _, thread in ipairs(threads) do
    c = c + (thread:get("cycles") or 0)
    u = u + (thread:get("unexpected") or 0)
    o = o .. (thread:get("odd") or "")
  end
  io.write(string.format("RESULT cycles=%d unexpected=%d requests=%d seconds=%.3f p50=%.1f p99=%.1f\n",
    c, u, summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  if o ~= "" then io.write("ODD " .. o .. "\n") end
end
"""


@dataclass
class Server:
    """A running gunicorn master, its address and log."""

    name: str
    proc: subprocess.Popen
    url: str
    log: Path
    database: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def export_tree(rev: str, folder: Path) -> Path:
    """Write the files of revision rev into folder (git archive) and return it."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


SETUP = """
from survey import create_app, surveys
from survey.db import get_db
app = create_app({"DATABASE": %r, "SECRET_KEY": "x" * 40, "REPORTS_DIR": %r})
with app.app_context():
    surveys.create_survey(get_db(), app.extensions["instrument"], title="Bench", language="en",
                          departments=[{"code": "D1", "name": "One"}], slug=%r)
print(" ".join(item.id for item in app.extensions["instrument"].items))
"""


def start(name: str, tree: Path, workdir: Path, workers: int, threads: int) -> tuple[Server, list[str]]:
    """Create the tree's database with one survey, start gunicorn on it and return the server and the item ids."""
    database = workdir / f"{name}.sqlite"
    out = subprocess.run(
        [sys.executable, "-c", SETUP % (str(database), str(workdir / "reports"), SLUG)],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    items = out.split()
    port = free_port()
    env = {
        **os.environ,
        "FLASK_DATABASE": str(database),
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_OPEN_SUBMIT_LIMIT": str(10**9),  # one address sends everything here
        "WORKERS": str(workers),
        "THREADS": str(threads),
        "PYTHONPATH": str(tree),
    }
    log = workdir / f"{name}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(GUNICORN), "--config", "gunicorn.conf.py", "--bind", f"{HOST}:{port}", "app:app"],
            cwd=tree,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, proc, f"http://{HOST}:{port}", log, database)
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: gunicorn exited:\n{log.read_text(errors='replace')[-2000:]}")
        # A worker logs "Booting" before it has built the app: wait until the form has answered a few times.
        if log.read_text(errors="replace").count("Booting worker") >= workers:
            with contextlib.suppress(OSError), urllib.request.urlopen(server.url + f"/s/{SLUG}", timeout=2):
                answered += 1
                if answered >= 2 * workers:
                    return server, items
                continue
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{name}: gunicorn did not start")


def stop(server: Server) -> None:
    """Stop a gunicorn master (it stops its workers)."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


def cpu_seconds(server: Server) -> float:
    """Return the CPU seconds used so far by the gunicorn master and its workers (user + system)."""
    pids = [server.proc.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == server.proc.pid:
                    pids.append(int(entry.name))
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def session_and_token(server: Server) -> tuple[str, str]:
    """Open the form once: return the session cookie (name=value) and the form's CSRF token."""
    with urllib.request.urlopen(server.url + f"/s/{SLUG}", timeout=10) as resp:
        page = resp.read().decode()
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return cookie, token


def run_wrk(server: Server, script: Path, items: list[str], seconds: int, connections: int) -> dict[str, float]:
    """Drive one server for `seconds` with wrk and return its RESULT figures."""
    cookie, token = session_and_token(server)
    # The token goes into a form body: escape what URL encoding needs.
    token = urllib.parse.quote(token, safe="")
    command = [WRK, f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    command += [server.url, "--", server.name, SLUG, cookie, token, *items]
    before = cpu_seconds(server)
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    cpu = cpu_seconds(server) - before
    line = next(line for line in out.splitlines() if line.startswith("RESULT ")) + f" cpu={cpu:.3f}"
    for odd in (line for line in out.splitlines() if line.startswith("ODD ")):
        print(f"  {server.name}: unexpected statuses {odd[4:].strip(',')}")
    return {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}


def stored(server: Server) -> int:
    import sqlite3

    conn = sqlite3.connect(server.database)
    try:
        return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of one round per server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (one thread each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--base", default=None, help="revision with the bare thank-you page (default: merge base)")
    parser.add_argument("--target", type=float, default=0.8)
    args = parser.parse_args()
    if WRK is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    base = (
        args.base
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    shows_profile = subprocess.run(
        ["git", "cat-file", "-e", f"{base}:templates/respond/_profile.html"], cwd=ROOT, capture_output=True
    )
    if shows_profile.returncode == 0:
        print(f"{base[:12]} already shows the profile: pass --base with a revision before it (e.g. d94186b)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    servers: list[Server] = []
    failed = False
    try:
        script = workdir / "cycle.lua"
        script.write_text(LUA)
        bare_tree = export_tree(base, workdir / "bare-tree")
        bare, items = start("bare", bare_tree, workdir, args.workers, args.threads)
        servers.append(bare)
        profile, _ = start("profile", ROOT, workdir, args.workers, args.threads)
        servers.append(profile)
        totals = {name: {"cycles": 0.0, "seconds": 0.0, "unexpected": 0.0, "cpu": 0.0} for name in ("bare", "profile")}
        print(f"bare: {base[:12]} (POST 302 + GET thanks), profile: this checkout (POST 200 with the profile)")
        print(f"{args.workers} workers x {args.threads} threads each, wrk {args.connections} connections")
        for n in range(1, args.rounds + 1):
            order = (bare, profile) if n % 2 else (profile, bare)
            for server in order:
                result = run_wrk(server, script, items, args.seconds, args.connections)
                for key in totals[server.name]:
                    totals[server.name][key] += result[key]
                rate = result["cycles"] / result["seconds"]
                cpu_ms = 1000 * result["cpu"] / result["cycles"] if result["cycles"] else float("nan")
                print(
                    f"round {n} {server.name:>7}: {rate:7.1f} cycles/s  p50 {result['p50']:6.1f} ms"
                    f"  p99 {result['p99']:6.1f} ms  server CPU {cpu_ms:5.1f} ms/cycle"
                    f"  requests {result['requests']:.0f}  unexpected {result['unexpected']:.0f}"
                )
        rates = {name: t["cycles"] / t["seconds"] for name, t in totals.items()}
        ratio = rates["profile"] / rates["bare"]
        print(f"bare    {rates['bare']:.1f} submissions with their thank-you page per second")
        print(f"profile {rates['profile']:.1f} submissions with their thank-you page (and profile) per second")
        cpu = {name: 1000 * t["cpu"] / t["cycles"] for name, t in totals.items()}
        print(f"server CPU per cycle: bare {cpu['bare']:.1f} ms, profile {cpu['profile']:.1f} ms")
        print(f"ratio   {ratio:.2f} (target >= {args.target})")
        print(f"stored  bare {stored(bare)}, profile {stored(profile)} responses")
        failed = ratio < args.target or any(t["unexpected"] for t in totals.values())
        return 1 if failed else 0
    except BaseException:
        failed = True
        raise
    finally:
        for server in servers:
            stop(server)
        for server in servers:
            errors = [line for line in server.log.read_text(errors="replace").splitlines() if '" 5' in line]
            if errors:
                print(f"{server.name}: {len(errors)} answers with status 5xx; its log: {server.log}")
                failed = True
        if failed:
            print(f"kept for a look: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
