"""The PDF report: content against the results API, privacy, escaping, the safe fetcher, charts."""

from __future__ import annotations

import http.server
import io
import re
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from helpers import CHROMIUM, close_survey
from pypdf import PdfReader
from weasyprint import HTML

from survey import report, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

# Only the tests that draw charts need a browser (plotly's exporter drives Chromium); the
# fetcher, the refusals and the missing-browser message are tested without one.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"the PDF charts need Debian's Chromium at {CHROMIUM} (run `make chromium`)"
)


class Recorder(http.server.BaseHTTPRequestHandler):
    """A local HTTP server that records every request (the report must make none)."""

    hits: ClassVar[list[str]] = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


HOSTILE = [
    "<b>bold?</b> & <script>alert(1)</script>",
    "<img src='{url}/pixel.png'>",
    "<link rel=stylesheet href='{url}/style.css'>",
    '<img src="file:///etc/passwd">',
    "Supercalifragilistic" * 40,
]


@pytest.fixture
def demo(app, runner, recorder):
    """The demo survey (12 departments, one below the threshold) plus hostile comments."""
    result = runner.invoke(args=["demo", "--responses", "240", "--seed", "11", "--language", "en"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "demo")
        # The demo is closed; nobody has read its results yet, so it may take answers again.
        surveys.reopen(db, survey)
        dept = surveys.department_by_code(db, survey, "OPS")
        for text in HOSTILE:
            save_response(db, survey, Submission(dept.id, {"obs1": 4}, None, text.format(url=recorder)))
        surveys.close(db, survey)
        survey = surveys.get_survey(db, "demo")
    return survey


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@needs_chromium
def test_report_matches_results_api(app, client, hr_token, demo, recorder):
    headers = {"Authorization": f"Bearer {hr_token}"}
    api = client.get("/api/v1/surveys/demo/results", headers=headers).json
    resp = client.get("/api/v1/surveys/demo/report.pdf?lang=en", headers=headers)
    assert resp.status_code == 200 and resp.content_type == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = flat(pdf_text(resp.data))
    for title in [
        "Summary",
        "Where you stand",
        "Where to go and how to get there",
        "Departments",
        "Statement by statement",
        "Comments",
        "Follow-up and methodology",
        "Methodology",
    ]:
        assert title in text, title
    assert f"{api['index']:.0f} Engagement index" in text
    with app.app_context():
        inst = surveys.get_survey(get_db(), "demo").instrument
    for dim in api["dimensions"]:
        name = inst.level(dim["id"]).name["en"]
        assert f"{name} {dim['score']:.0f}" in text, name
    for dept in api["departments"]:
        assert dept["name"] in text
        if dept["suppressed"]:
            assert f"{dept['name']}: " in text  # listed among the hidden, with its reason
    assert "fewer than 5 responses" in text
    assert "hidden so that a smaller department cannot be worked out" in text
    # Respondent text is escaped: shown as text, never interpreted, and nothing is fetched.
    assert "<b>bold?</b> & <script>alert(1)</script>" in text
    assert "<img src='http://127.0.0.1" in text
    assert Recorder.hits == []
    assert "root:x:0:0" not in text
    # A report downloaded on the web is not kept on disk (it holds comments).
    assert not list(Path(app.config["REPORTS_DIR"]).glob("*.pdf"))


@needs_chromium
def test_pdf_metadata_tags_and_bookmarks(app, demo):
    with app.app_context():
        pdf = report.make_report(get_db(), demo, "nb")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title.startswith(demo.title)
    assert reader.metadata.author == demo.title
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "nb"
    assert "/StructTreeRoot" in root  # tagged PDF (PDF/UA)
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert {"Sammendrag", "Hvor står dere", "Avdelinger", "Kommentarer", "Oppfølging og metode"} <= set(titles)
    text = flat(pdf_text(pdf))
    assert "Side 2 av" in text  # running page numbers "page X of Y", in the report's language


@needs_chromium
def test_norwegian_report_renders(app, demo):
    with app.app_context():
        text = flat(pdf_text(report.make_report(get_db(), demo, "nb")))
    for title in ["Sammendrag", "Hvor står dere", "Hvor skal dere, og hvordan kommer dere dit", "Utsagn for utsagn"]:
        assert title in text


@needs_chromium
def test_facilitator_report_has_no_comments(app, client, demo):
    with app.app_context():
        from survey import accounts

        token = accounts.create_token(get_db(), "facilitator")
    resp = client.get("/api/v1/surveys/demo/report.pdf", headers={"Authorization": f"Bearer {token}"})
    text = flat(pdf_text(resp.data))
    titles = [item.title for item in PdfReader(io.BytesIO(resp.data)).outline if not isinstance(item, list)]
    assert "Comments" not in titles and "Summary" in titles
    assert "bold?" not in text and "random order" not in text


@needs_chromium
def test_department_report_and_hidden_department(app, client, hr_token, demo):
    headers = {"Authorization": f"Bearer {hr_token}"}
    resp = client.get("/api/v1/surveys/demo/report.pdf?department=SALES", headers=headers)
    assert resp.status_code == 200
    text = flat(pdf_text(resp.data))
    assert "DEPARTMENT REPORT" in text and "Sales – compared with the whole organisation" in text
    assert "Hidden departments" not in text  # a department report shows only that department
    hidden = client.get("/api/v1/surveys/demo/report.pdf?department=BOARD", headers=headers)
    assert hidden.status_code == 403 and "hidden" in hidden.json["error"]
    assert client.get("/api/v1/surveys/demo/report.pdf?department=NOPE", headers=headers).status_code == 404
    assert client.get("/api/v1/surveys/demo/report.pdf?lang=de", headers=headers).status_code == 400


@needs_chromium
def test_comments_below_threshold_are_absent(app, demo):
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "demo")
        db.execute("UPDATE surveys SET comment_min_group_size = 10000 WHERE id = ?", [survey.id])
        db.conn.commit()
        survey = surveys.get_survey(db, "demo")
        text = flat(pdf_text(report.make_report(db, survey, "en")))
    # Numbers as the reader writes them: 10,000 in English.
    assert "Comments are shown only for groups with at least 10,000 responses" in text
    assert "bold?" not in text and "Supercalifragilistic" not in text


def test_too_few_responses_refused(app, client, hr_token):
    headers = {"Authorization": f"Bearer {hr_token}"}
    resp = client.get("/api/v1/surveys/acme/report.pdf", headers=headers)
    assert resp.status_code == 409 and "released when the survey is closed" in resp.json["error"]
    close_survey(app)
    resp = client.get("/api/v1/surveys/acme/report.pdf", headers=headers)
    assert resp.status_code == 409 and "fewer than 5 responses" in resp.json["error"]
    assert client.get("/api/v1/surveys/acme/report.pdf").status_code == 401


@needs_chromium
def test_charts_are_cached(app, demo):
    with app.app_context():
        report.make_report(get_db(), demo, "en")
        before = report.EXPORTER.renders
        report.make_report(get_db(), demo, "en")
        assert report.EXPORTER.renders == before
        # Charts are cached in memory only: no chart file outlives a deleted survey.
        assert not (Path(app.instance_path) / "chart-cache").exists() or not any(
            (Path(app.instance_path) / "chart-cache").iterdir()
        )


def test_missing_chromium_fails_clearly(app, client, hr_token, demo, monkeypatch):
    exporter = report.ChartExporter()
    monkeypatch.setattr(report, "EXPORTER", exporter)
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    monkeypatch.setitem(app.config, "REPORTS_DIR", app.config["REPORTS_DIR"])
    import shutil as _shutil

    _shutil.rmtree(f"{app.instance_path}/chart-cache", ignore_errors=True)
    resp = client.get("/api/v1/surveys/demo/report.pdf", headers={"Authorization": f"Bearer {hr_token}"})
    assert resp.status_code == 503
    assert "apt-get install chromium" in resp.json["error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x.png",
        "https://example.org/x.css",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.org/x",
        "chart:not-there",
    ],
)
def test_fetcher_refuses_everything_else(app, url):
    fetcher = report.StaticFetcher(app.static_folder, {"pyramid": b"<svg/>"})
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_weasyprint_with_the_fetcher_loads_nothing_from_outside(app, recorder):
    """A report's HTML that points outside (images, style sheets, @import, file:, data:) loads none of it.

    WeasyPrint asks the fetcher for every resource; only the app's static files and the
    report's own chart images are served. No charts are drawn, so no browser is needed.
    """
    outside = [
        f"{recorder}/style.css",
        f"{recorder}/import.css",
        f"{recorder}/background.png",
        f"{recorder}/pixel.png",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
    ]
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="{outside[0]}">
<link rel="stylesheet" href="css/report.css">
<style>@import url("{outside[1]}"); body {{ background: url("{outside[2]}"); }}</style>
</head><body><p>Nothing from outside</p>
<img src="{outside[3]}" alt="a"><img src="{outside[4]}" alt="b"><img src="{outside[5]}" alt="c">
<img src="chart:pyramid" alt="the report's own chart">
</body></html>"""
    fetcher = report.StaticFetcher(app.static_folder, {"pyramid": b'<svg xmlns="http://www.w3.org/2000/svg"/>'})
    pdf = HTML(string=html, base_url=Path(app.static_folder).as_uri() + "/", url_fetcher=fetcher).write_pdf()
    assert Recorder.hits == []
    assert sorted(fetcher.refused) == sorted(outside)
    text = flat(pdf_text(pdf))
    assert "Nothing from outside" in text and "root:x:0:0" not in text


def test_fetcher_serves_static_files_and_charts(app):
    fetcher = report.StaticFetcher(app.static_folder, {"pyramid": b"<svg/>"})
    css = fetcher.fetch((Path(app.static_folder) / "css" / "report.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.fetch("chart:pyramid").read() == b"<svg/>"
    outside = (Path(app.static_folder) / ".." / "survey" / "db.py").resolve().as_uri()
    with pytest.raises(ValueError):
        fetcher.fetch(outside)


@needs_chromium
def test_cli_report(app, runner, demo, tmp_path):
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "demo", "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Summary" in pdf_text(out.read_bytes())
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # a report holds comments: owner only
    result = runner.invoke(args=["report", "demo", "-o", str(out), "--department", "BOARD"])
    assert result.exit_code == 1 and "hidden" in result.output
    result = runner.invoke(args=["report", "nope", "-o", str(out)])
    assert result.exit_code == 1 and "no survey 'nope'" in result.output


@needs_chromium
def test_comparison_pdf(app, fac_client, demo):
    resp = fac_client.get("/admin/surveys/demo/compare.pdf?d=SALES&d=OPS&lang=en")
    assert resp.status_code == 200 and resp.content_type == "application/pdf"
    text = flat(pdf_text(resp.data))
    assert "Comparison: Engagement survey (demo)" in text and "The biggest gaps" in text
    assert "The pyramids side by side" in text and "Change over time" in text and "The six levels" in text
    assert "This is the first round of its series" in text
    assert "bold?" not in text  # never comments in a comparison
    nb = flat(pdf_text(fac_client.get("/admin/surveys/demo/compare.pdf?lang=nb").data))
    assert "Sammenligning" in nb and "De største forskjellene" in nb


def test_what_the_pdf_shows_of_the_comments_is_bounded():
    long_run = "x" * 5000
    shown, left = report.bounded_comments([long_run, "A normal comment, with spaces.", "y" * 40], 1000, 2)
    assert left == 1
    first, second = shown
    assert first["shortened"] and first["text"].replace("\u200b", "") == "x" * 1000
    # A break opportunity after every 30 letters without a space keeps the layout linear.
    assert first["text"].count("\u200b") == (1000 - 1) // report.RUN
    assert max(len(run) for run in first["text"].split("\u200b")) == report.RUN
    assert second == {"text": "A normal comment, with spaces.", "shortened": False}


@needs_chromium
@pytest.mark.slow
def test_120_comments_of_5000_letters_without_a_space_make_a_bounded_pdf(app, demo, tmp_path):
    """The worst case of issue 14 (35 s before): shortened in the PDF, in full in the export, in bounded time."""
    import time

    app.config["PDF_MAX_COMMENTS"] = 100
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "demo")
        surveys.reopen(db, survey)
        dept = surveys.department_by_code(db, survey, "OPS")
        words = ["".join(chr(97 + (n * 7 + i) % 26) for i in range(5000)) for n in range(120)]
        for text in words:
            save_response(db, survey, Submission(dept.id, {"obs1": 4}, None, text))
        surveys.close(db, survey)
        survey = surveys.get_survey(db, "demo")
        start = time.perf_counter()
        pdf = report.make_report(db, survey, "en")
        seconds = time.perf_counter() - start
    text = pdf_text(pdf)
    assert "(shortened; the full text is in the export)" in text
    assert "more comments are not shown here; every comment is in the export." in text
    assert seconds < 30, seconds  # minutes with the old hyphenation, 35 s with unbounded comments
    result = app.test_cli_runner().invoke(args=["export", "demo", "-o", str(tmp_path / "demo.csv")])
    assert result.exit_code == 0, result.output
    exported = (tmp_path / "demo-comments.csv").read_text(encoding="utf-8")
    assert all(word in exported for word in words)  # the export keeps every comment in full


def test_words_for_screen_readers_take_no_room_in_a_pdf_table(app):
    """'▼ significantly lower than the rest' for a screen reader: the cell stays one line high, the words stay text."""
    from weasyprint import CSS

    css = CSS(filename=str(Path(app.static_folder) / "css" / "report.css"))

    def row_height(cell: str) -> float:
        html = f'<table style="width:6cm"><tr><td style="width:1.2cm">{cell}</td><td>x</td></tr></table>'
        document = HTML(string=html).render(stylesheets=[css])
        boxes = [document.pages[0]._page_box]
        while boxes:
            box = boxes.pop()
            if type(box).__name__ == "TableRowBox":
                return box.height
            boxes.extend(getattr(box, "children", None) or [])
        raise AssertionError("no table row laid out")

    words = '<span class="visually-hidden"> significantly lower than the rest</span>'
    assert row_height(f"81 ▼{words}") == pytest.approx(row_height("81 ▼"))
    pdf = HTML(string=f"<p>81 ▼{words}</p>").write_pdf(stylesheets=[css])
    assert "significantly lower than the rest" in pdf_text(pdf)


@needs_chromium
def test_comparison_pdf_is_laid_out_page_by_page(app, runner, fac_client):
    """No page is a heading over emptiness, the gaps list stays whole, the change table stays on one page."""
    result = runner.invoke(args=["demo", "--responses", "240", "--seed", "11", "--language", "en", "--rounds", "2"])
    assert result.exit_code == 0, result.output
    resp = fac_client.get("/admin/surveys/demo/compare.pdf?d=SALES&d=OPS&lang=en")
    assert resp.status_code == 200
    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(resp.data)).pages]
    footer = re.compile(r"Comparison: Engagement survey \(demo\)|Page \d+ of \d+")
    for number, text in enumerate(pages, 1):
        body = footer.sub("", text).strip()
        assert len(body) > 200, f"page {number} holds almost nothing: {body!r}"
    assert "Departments" in pages[0] and "Operations" in pages[0]  # page 1 starts with the table itself
    gaps = [n for n, text in enumerate(pages) if "The biggest gaps" in text]
    assert len(gaps) == 1
    gap = r"\w+ scores \d+ points (?:higher|lower) than the rest of the organisation on \w+ \(a clear difference\)\."
    lines = re.findall(gap, " ".join(pages))
    assert lines and all(line in pages[gaps[0]] for line in lines)  # the whole list on the heading's page
    change = [text for text in pages if "Change since" in text]
    assert len(change) == 1
    with app.app_context():
        shown = [d.name for d in surveys.departments(get_db(), surveys.get_survey(get_db(), "demo"))]
    assert sum(name in change[0] for name in shown) >= len(shown) - 2  # the table whole (hidden ones may be absent)
