"""Benchmark: the whole PDF report against WeasyPrint alone laying out the same final HTML.

On a database made by `demo --responses 10000` (12 departments), in one run:
- cold:            the first report of the process (starts kaleido's Chromium);
- warm, uncached:  exporter running, but results and chart caches emptied (every chart drawn);
- warm, cached:    a second download of the unchanged survey (charts from the cache);
- weasyprint only: HTML(...).write_pdf of the same final HTML with the same chart images;
- hostile comments: the same report after 120 respondents each wrote 5,000 characters without a
  space (the worst case of issue 14: it took 35 s before the PDF bounded what it shows of a
  comment), as a ratio to the ordinary warm, cached report. The PDF shows at most
  PDF_MAX_COMMENTS (300) comments of at most PDF_COMMENT_CHARS (1,000) characters each;
- every comment 5,000: every comment of the survey that long (about 800 in the demo), so that
  all 300 the PDF shows are shortened at the limit: the most work a report can be made to do.
Prints each time (best of --repeat), the ratios against "weasyprint only", and peak memory.

Then the same responses spread over a hierarchy of --units units (default 500; 0 skips it):
the whole report of each (warm, uncached and cached), its pages, and the ratio to the 12-department report.

    .venv/bin/python benchmarks/report.py [--responses 10000] [--repeat 3] [--units 500]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app, demo, report, results, surveys
from survey.db import get_db


def descendants_peak_mb() -> float:
    """Return the summed peak RSS (VmHWM) of this process's running descendants (kaleido's Chromium)."""
    parent = {}
    peak = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parent[pid] = int(fields.get("PPid", "0").strip() or 0)
        peak[pid] = int(fields.get("VmHWM", "0 kB").split()[0] or 0)
    me, total = os.getpid(), 0
    for pid in parent:
        p = parent[pid]
        while p and p != me:
            p = parent.get(p, 0)
        if p == me:
            total += peak[pid]
    return total / 1024


def timed(fn) -> tuple[float, object]:
    """Return (seconds, result) of one call."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--units", type=int, default=500, help="units of the hierarchy case (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE": f"{tmp}/bench.sqlite",
                "SECRET_KEY": "bench",
                "TESTING": True,
                "REPORTS_DIR": f"{tmp}/reports",
            }
        )
        app.instance_path = tmp  # the chart cache goes to a fresh folder
        out = app.test_cli_runner().invoke(args=["demo", "--responses", str(args.responses), "--seed", "1"])
        assert out.exit_code == 0, out.output
        cache_dir = Path(tmp) / "chart-cache"
        with app.test_request_context():
            db = get_db()
            survey = surveys.get_survey(db, "demo")

            def empty_caches() -> None:
                report.EXPORTER.memory.clear()
                shutil.rmtree(cache_dir, ignore_errors=True)
                results.CACHE.clear()

            def whole() -> bytes:
                return report.make_report(db, survey, "en")

            cold, pdf = timed(whole)
            uncached, cached = [], []
            for _ in range(args.repeat):
                empty_caches()
                uncached.append(timed(whole)[0])
                cached.append(timed(whole)[0])
            context = report.build_context(db, survey, "en")
            html = report.render_html(context)
            layout = [timed(lambda: report.write_pdf(html, context["images"]))[0] for _ in range(args.repeat)]
            chromium = descendants_peak_mb()
            if args.units:
                units = compare_units(app, db, survey, args)
            # The worst case: 120 comments of 5,000 characters without a space (the longest a comment may be).
            rng = random.Random(14)
            ids = [row[0] for row in db.execute("SELECT id FROM responses WHERE survey_id = ? LIMIT 120", [survey.id])]
            for response_id in ids:
                text = "".join(rng.choice(string.ascii_letters) for _ in range(5000))
                db.execute("UPDATE responses SET comment = ? WHERE id = ?", [text, response_id])
            db.conn.commit()
            hostile, hostile_pdf = min(timed(whole) for _ in range(args.repeat))
            # Worse still: every comment of the survey that long, so that all the PDF shows are at the limit.
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM responses WHERE survey_id = ? AND comment IS NOT NULL", [survey.id]
                )
            ]
            for response_id in ids:
                text = "".join(rng.choice(string.ascii_letters) for _ in range(5000))
                db.execute("UPDATE responses SET comment = ? WHERE id = ?", [text, response_id])
            db.conn.commit()
            every, every_pdf = min(timed(whole) for _ in range(args.repeat))

    base = min(layout)
    print(f"responses: {args.responses:,}; PDF {len(pdf) / 1024:.0f} KB; best of {args.repeat}")
    print(f"{'cold (first report, starts Chromium)':40} {cold:7.2f} s")
    print(f"{'warm, uncached (charts drawn)':40} {min(uncached):7.2f} s   ratio {min(uncached) / base:4.2f}")
    print(f"{'warm, cached (second download)':40} {min(cached):7.2f} s   ratio {min(cached) / base:4.2f}")
    print(f"{'weasyprint only (same HTML + charts)':40} {base:7.2f} s   ratio 1.00")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: this process {own:.0f} MB; kaleido's Chromium processes together {chromium:.0f} MB")
    print(f"charts drawn in total: {report.EXPORTER.renders}")
    ordinary = min(cached)
    print(
        f"{'hostile comments (120 x 5,000, no space)':40} {hostile:7.2f} s   "
        f"ratio {hostile / ordinary:4.2f} of the ordinary report (warm, cached); PDF {len(hostile_pdf) / 1024:.0f} KB"
    )
    print(
        f"{f'every comment 5,000, no space ({len(ids)})':40} {every:7.2f} s   "
        f"ratio {every / ordinary:4.2f} of the ordinary report (warm, cached); PDF {len(every_pdf) / 1024:.0f} KB"
    )
    if args.units:
        print(units)


def pages(pdf: bytes) -> int:
    """Return the number of pages of a PDF."""
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def compare_units(app, db, flat, args) -> str:
    """Time the report of the same responses in 12 departments and in a hierarchy of args.units units."""
    nested = demo.generate(db, app.extensions["instrument"], args.responses, 1, "nb", slug="demo-units")
    demo.spread_over_units(db, nested, args.units)
    surveys.close(db, nested)
    nested = surveys.get_survey(db, "demo-units")
    kinds = ("uncached", "cached", "no comments")
    times: dict[str, dict[str, list[float]]] = {label: {kind: [] for kind in kinds} for label in ("flat", "nested")}
    made = {}
    for _ in range(args.repeat):
        for label, survey in (("flat", flat), ("nested", nested)):
            report.EXPORTER.memory.clear()
            results.CACHE.clear()
            elapsed, made[label] = timed(lambda survey=survey: report.make_report(db, survey, "en"))
            times[label]["uncached"].append(elapsed)
            times[label]["cached"].append(timed(lambda survey=survey: report.make_report(db, survey, "en"))[0])
            # A facilitator's report has no comments (at 50,000 responses, some 200 pages of them).
            times[label]["no comments"].append(
                timed(lambda survey=survey: report.make_report(db, survey, "en", with_comments=False))[0]
            )
    n_units = len(surveys.departments(db, nested))
    lines = [f"the same {args.responses:,} responses in 12 departments and in {n_units} units (best of {args.repeat}):"]
    for kind in kinds:
        flat_t, nested_t = min(times["flat"][kind]), min(times["nested"][kind])
        lines.append(
            f"  warm, {kind:11} 12 departments {flat_t:6.2f} s   {n_units} units {nested_t:6.2f} s   "
            f"ratio {nested_t / flat_t:4.2f}"
        )
    lines.append(
        f"  pages (with comments): 12 departments {pages(made['flat'])}, {n_units} units {pages(made['nested'])}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
