"""Benchmark: full survey results (all departments, comparisons) against a bare SQL read of every answer.

Builds databases with `demo --responses N` (12 departments) and, in the same run, times
- baseline: SELECT of every answer row of the survey into Python (no scoring at all);
- results:  load_answers (packed aggregation inside SQLite) + compute_results (scoring,
            comparisons, privacy), uncached, exactly what the API computes.
Prints the best of several runs, the ratio results / baseline, and peak memory of each phase.

Then the same responses (--units-responses, default 50,000) in 12 departments and spread over a
hierarchy of --units units (default 500: divisions, departments, teams; demo.spread_over_units):
the uncached results of both, and their ratio (the goal: at most 1.5).

    .venv/bin/python benchmarks/results.py [--sizes 1000,10000,100000] [--repeat 3] [--units 500]
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app, demo, results, surveys
from survey.db import connect


def build(path: Path, n: int) -> None:
    """Create a database with the demo survey and n responses."""
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "bench", "TESTING": True})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--responses", str(n), "--seed", "1"])
    if result.exit_code != 0:
        raise SystemExit(result.output)


def best_of(repeat: int, fn) -> tuple[float, object]:
    """Return the fastest wall time of `repeat` runs and the last result."""
    times, value = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def peak_mb(fn) -> float:
    """Return the peak Python heap (tracemalloc, includes numpy buffers) of one run, in MB."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


CHILD = """
import sys
sys.path.insert(0, {root!r})
from survey import results, surveys
from survey.db import connect
db = connect({path!r})
survey = surveys.get_survey(db, "demo")
if {method!r} == "baseline":
    rows = db.execute(
        "SELECT a.response_id, a.item, a.value FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE r.survey_id = ?", [survey.id]).fetchall()
else:
    body = results.compute_results(results.load_answers(db, survey), survey, surveys.departments(db, survey))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(int(hwm.split()[1]) / 1024)
"""


def child_peak_mb(path: Path, method: str) -> float:
    """Return the peak resident memory of a fresh process that runs one method once, in MB."""
    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    code = CHILD.format(root=root, path=str(path), method=method)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def spread(path: Path, units: int) -> None:
    """Spread the demo survey's responses over a hierarchy of `units` units, then rebuild the file as closing does."""
    db = connect(str(path))
    demo.spread_over_units(db, surveys.get_survey(db, "demo"), units)
    db.execute("VACUUM")
    db.close()


def compare_units(tmp: str, n: int, units: int, repeat: int) -> None:
    """Time the uncached results of the same n responses in 12 departments and in `units` units."""
    flat, nested = Path(tmp) / f"flat-{n}.sqlite", Path(tmp) / f"nested-{n}.sqlite"
    build(flat, n)
    shutil.copyfile(flat, nested)
    spread(nested, units)
    runs = {}
    for label, path in (("flat", flat), ("nested", nested)):
        db = connect(str(path))
        survey = surveys.get_survey(db, "demo")
        depts = surveys.departments(db, survey)
        runs[label] = (db, survey, depts)

    def full(label: str) -> dict:
        db, survey, depts = runs[label]
        return results.compute_results(results.load_answers(db, survey), survey, depts)

    # Interleaved, best of `repeat` each: other work on the machine then hits both alike.
    times: dict[str, list[float]] = {"flat": [], "nested": []}
    bodies = {}
    for _ in range(repeat):
        for label in ("flat", "nested"):
            elapsed, bodies[label] = best_of(1, lambda label=label: full(label))
            times[label].append(elapsed)
    t_flat, t_nested = min(times["flat"]), min(times["nested"])
    for label in ("flat", "nested"):
        body = bodies[label]
        assert body["n"] == n
        shown = sum(not d["suppressed"] for d in body["departments"])
        print(
            f"{n:>10,} responses in {len(body['departments']):>4} units: results {min(times[label]):.3f} s "
            f"(best of {repeat}; {shown} units shown)"
        )
    print(f"{'':>10} ratio {units} units / 12 departments: {t_nested / t_flat:.2f}")
    for db, _, _ in runs.values():
        db.close()


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--units", type=int, default=500, help="units of the hierarchy case (0: skip it)")
    parser.add_argument("--units-responses", type=int, default=50_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'responses':>10} {'baseline s':>11} {'results s':>10} {'ratio':>6} {'base MB':>8} {'results MB':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"bench-{n}.sqlite"
            build(path, n)
            db = connect(str(path))
            survey = surveys.get_survey(db, "demo")
            depts = surveys.departments(db, survey)

            def baseline(db=db, survey=survey):
                return db.execute(
                    "SELECT a.response_id, a.item, a.value FROM answers a "
                    "JOIN responses r ON r.id = a.response_id WHERE r.survey_id = ?",
                    [survey.id],
                ).fetchall()

            def full(db=db, survey=survey, depts=depts):
                return results.compute_results(results.load_answers(db, survey), survey, depts)

            t_base, rows = best_of(args.repeat, baseline)
            t_full, body = best_of(args.repeat, full)
            assert body["n"] == n and len(rows) > 0.9 * n * 24
            shown = sum(not d["suppressed"] for d in body["departments"])
            mem_base, mem_full = peak_mb(baseline), peak_mb(full)
            print(
                f"{n:>10,} {t_base:>11.3f} {t_full:>10.3f} {t_full / t_base:>6.2f} {mem_base:>8.0f} {mem_full:>11.0f}"
                f"   ({len(rows):,} answer rows; {shown} of {len(depts)} departments shown)"
            )
            if n == sizes[-1]:
                peaks = {m: child_peak_mb(path, m) for m in ("baseline", "results")}
                print(
                    f"{'':>10} peak resident memory of a fresh process doing one run at {n:,}: "
                    f"baseline {peaks['baseline']:.0f} MB, results {peaks['results']:.0f} MB"
                )
            db.close()
        if args.units:
            compare_units(tmp, args.units_responses, args.units, max(args.repeat, 5))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this benchmark process (building databases, all runs): {rss:.0f} MB")


if __name__ == "__main__":
    main()
