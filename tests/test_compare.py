"""Comparison of departments and rounds, the raw export, and roles on every route."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import statistics

import numpy as np
import pytest
from helpers import close_all, csrf_token
from openpyxl import load_workbook
from scipy import stats

from survey import compare, export, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

LEVELS = ["observing", "following", "endorsing", "contributing", "owning", "leading"]


def add(app, slug: str, code: str, answers: dict, comment: str | None = None) -> None:
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, slug)
        dept = surveys.department_by_code(db, survey, code)
        save_response(db, survey, Submission(dept.id, answers, None, comment))


def new_round(app, slug: str, previous: str | None, instrument=None) -> None:
    with app.app_context():
        surveys.create_survey(
            get_db(),
            instrument or app.extensions["instrument"],
            title=f"Round {slug}",
            language="en",
            departments=[{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}],
            slug=slug,
            previous=previous,
        )


def random_answers(instrument, rng, shift: float = 0.0) -> dict:
    return {
        it.id: int(np.clip(round(rng.normal(3.2 + shift, 1.0)), 1, 5)) for it in instrument.items if rng.random() > 0.05
    }


def level_scores(answer_sets: list[dict], instrument, level: str) -> list[float]:
    """Per-respondent level scores, computed the plain way (mean of answered items, half needed)."""
    items = [it.id for it in instrument.level(level).items]
    out = []
    for answers in answer_sets:
        got = [answers[i] for i in items if i in answers]
        if len(got) >= math.ceil(len(items) / 2):
            out.append(statistics.fmean(got))
    return out


def bh(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg, written out by hand."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        adjusted[i] = running
    return adjusted


def test_trend_across_three_rounds(app, client, hr_token, instrument):
    rng = np.random.default_rng(7)
    new_round(app, "r1", None)
    new_round(app, "r2", "r1")
    new_round(app, "r3", "r2")
    stored = {"r1": {"A": [], "B": []}, "r2": {"A": [], "B": []}, "r3": {"A": [], "B": []}}
    for slug, shift in (("r1", -0.4), ("r2", 0.0), ("r3", 0.5)):
        for code, n in (("A", 14), ("B", 9)):
            for _ in range(n):
                answers = random_answers(instrument, rng, shift)
                add(app, slug, code, answers)
                stored[slug][code].append(answers)
    close_all(app)
    body = client.get("/api/v1/surveys/r3/compare", headers={"Authorization": f"Bearer {hr_token}"}).json
    trend = body["trend"]
    assert [r["slug"] for r in trend["rounds"]] == ["r1", "r2", "r3"]
    for r in trend["rounds"]:
        res = client.get(f"/api/v1/surveys/{r['slug']}/results", headers={"Authorization": f"Bearer {hr_token}"}).json
        assert r["index"] == pytest.approx(res["index"])
    assert trend["previous"]["slug"] == "r2" and trend["same_instrument"] is True
    # Every difference and p-value against an independent computation; one BH family per table.
    expected_p = []
    rows = [("", trend["organisation"])] + [(d["code"], d["levels"]) for d in trend["departments"]]
    for code, cells in rows:
        for cell, level in zip(cells, LEVELS, strict=True):
            now = stored["r3"]["A"] + stored["r3"]["B"] if not code else stored["r3"][code]
            before = stored["r2"]["A"] + stored["r2"]["B"] if not code else stored["r2"][code]
            a, b = level_scores(now, instrument, level), level_scores(before, instrument, level)
            assert cell["points"] == pytest.approx((statistics.fmean(a) - statistics.fmean(b)) * 25)
            p = stats.ttest_ind(a, b, equal_var=False).pvalue
            assert cell["p"] == pytest.approx(p)
            expected_p.append((cell, p))
    for (cell, _), p_adj in zip(expected_p, bh([p for _, p in expected_p]), strict=True):
        assert cell["p_adj"] == pytest.approx(p_adj)
        assert cell["significant"] == (p_adj < 0.05)


def test_rounds_with_different_instruments_compare_shared_levels_only(app, client, hr_token, instrument):
    leading = instrument.level("leading")
    changed_item = dataclasses.replace(leading.items[0], text={"nb": "Ny tekst", "en": "New wording"})
    changed_level = dataclasses.replace(leading, items=(changed_item, *leading.items[1:]))
    other = dataclasses.replace(instrument, levels=(*instrument.levels[:-1], changed_level))
    new_round(app, "old", None, other)
    new_round(app, "new", "old")
    rng = np.random.default_rng(3)
    for slug in ("old", "new"):
        for code in ("A", "B"):
            for _ in range(6):
                add(app, slug, code, random_answers(instrument, rng))
    close_all(app)
    body = client.get("/api/v1/surveys/new/compare", headers={"Authorization": f"Bearer {hr_token}"}).json
    assert body["trend"]["same_instrument"] is False
    assert body["trend"]["shared_levels"] == LEVELS[:-1]
    assert leading.items[0].id not in body["trend"]["shared_items"]
    assert [c["id"] for c in body["trend"]["organisation"]] == LEVELS[:-1]


def test_heatmap_hides_small_departments_and_cells(app, client, hr_token, hr_client, instrument):
    new_round(app, "h", None)
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "h")
        db["departments"].insert({"survey_id": survey.id, "code": "C", "name": "Gamma", "position": 3})
        db.conn.commit()
    rng = np.random.default_rng(4)
    for code, n in (("A", 12), ("B", 8), ("C", 2)):
        for _ in range(n):
            add(app, "h", code, random_answers(instrument, rng))
    close_all(app)
    body = client.get("/api/v1/surveys/h/compare", headers={"Authorization": f"Bearer {hr_token}"}).json
    by_code = {d["code"]: d for d in body["departments"]}
    assert by_code["C"]["suppressed"] and by_code["C"]["reason"] == "too_few" and "dimensions" not in by_code["C"]
    assert by_code["B"]["suppressed"] and by_code["B"]["reason"] == "complementary"
    page = hr_client.get("/admin/surveys/h/compare").get_data(as_text=True)
    assert "fewer than 5 answers" in page and "cannot be worked out from the total" in page
    assert "Gamma" in page


def test_sorting_and_gaps(app, client, hr_token, instrument):
    new_round(app, "s", None)
    rng = np.random.default_rng(5)
    for code, shift in (("A", 1.0), ("B", -1.0)):
        for _ in range(15):
            add(app, "s", code, random_answers(instrument, rng, shift))
    close_all(app)
    headers = {"Authorization": f"Bearer {hr_token}"}
    body = client.get("/api/v1/surveys/s/compare?sort=owning", headers=headers).json
    scores = [next(c["score"] for c in d["dimensions"] if c["id"] == "owning") for d in body["departments"]]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/api/v1/surveys/s/compare?sort=nope", headers=headers).status_code == 400
    gaps = body["gaps"]
    assert gaps and all(abs(g["points"]) > 0 for g in gaps)
    for gap in gaps:
        dept = next(d for d in body["departments"] if d["name"] == gap["department"])
        cell = next(c for c in dept["dimensions"] if c["id"] == gap["level"])
        assert cell["significant"] and gap["points"] == pytest.approx(cell["diff"] * 25)
    assert [abs(g["points"]) for g in gaps] == sorted((abs(g["points"]) for g in gaps), reverse=True)
    sentences = compare.reading([compare.Gap(**g) for g in gaps], instrument, "en")
    assert "points higher than the rest of the organisation" in " ".join(sentences)


def _export_setup(app, instrument, small_groups: str) -> None:
    with app.app_context():
        db = get_db()
        surveys.create_survey(
            db,
            instrument,
            title="Export",
            language="en",
            departments=[{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}, {"code": "C", "name": "Gamma"}],
            slug="x",
            small_groups=small_groups,
        )
    hostile = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "\tlead", "\rlead", "plain"]
    for n in range(9):
        add(app, "x", "A", {"obs1": 4, "fol1": 3}, hostile[n % len(hostile)])
    for _ in range(6):
        add(app, "x", "B", {"obs1": 2})
    for _ in range(2):
        add(app, "x", "C", {"obs1": 5})
    close_all(app)


@pytest.mark.parametrize("mode", ["merge", "omit"])
def test_export_merges_or_omits_small_departments(app, hr_client, instrument, mode):
    _export_setup(app, instrument, mode)
    resp = hr_client.get("/admin/surveys/x/export.csv")
    assert resp.status_code == 200 and resp.content_type.startswith("text/csv")
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0].keys())
    codes = [header[0], *[name.split(" · ")[1] for name in header[1:]]]  # "Level · code · statement…"
    assert codes[0] == "department" and "obs1" in codes
    # Nothing that could tell who or when: no date, id, invitation, time or e-mail, and no comment next to answers.
    assert not any(word in " ".join(codes) for word in ("date", "invitation", "time", "id", "email", "comment"))
    departments = [r["department"] for r in rows]
    assert departments.count("Alpha") == 9
    # Gamma (2) is below 5 and Beta is hidden with it, so neither appears under its own name.
    assert "Gamma" not in departments and "Beta" not in departments
    if mode == "merge":
        assert departments.count("Other (small departments)") == 8 and len(rows) == 17
    else:
        assert len(rows) == 9
    # Comments come in a file of their own, and only Alpha (9) would reach the comment threshold of 10:
    # none of the comments (all Alpha's) may appear.
    resp = hr_client.get("/admin/surveys/x/comments.csv")
    assert resp.status_code == 200 and list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")))) == [
        ["comment"]
    ]


def test_exported_comments_are_neutralised_and_shuffled(app, hr_client, instrument):
    with app.app_context():
        surveys.create_survey(
            get_db(), instrument, title="C", language="en", departments=[{"code": "A", "name": "Alpha"}], slug="cm"
        )
    hostile = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "\tlead", "\rlead", "plain"]
    for n in range(12):
        add(app, "cm", "A", {"obs1": 4}, hostile[n % len(hostile)] + f" {n}")
    close_all(app)
    text = hr_client.get("/admin/surveys/cm/comments.csv").get_data(as_text=True).lstrip("\ufeff")
    comments = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert len(comments) == 12
    assert '\'=HYPERLINK("http://evil") 0' in comments and "'+1 1" in comments and "plain 6" in comments
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in comments)


def test_export_xlsx_and_cli(app, hr_client, runner, instrument, tmp_path):
    _export_setup(app, instrument, "merge")
    resp = hr_client.get("/admin/surveys/x/export.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.values)
    assert values[0][0] == "department" and len(values) == 18
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["responses", "comments", "columns"] and list(book["comments"].values) == [("comment",)]
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in values for v in row)
    out = tmp_path / "x.csv"
    result = runner.invoke(args=["export", "x", "-o", str(out)])
    assert result.exit_code == 0 and "Wrote 17 responses" in result.output
    assert out.read_bytes().count(b"\r\n") == 18
    assert runner.invoke(args=["export", "x", "-o", str(tmp_path / "x.txt")]).exit_code == 1
    assert "no survey" in runner.invoke(args=["export", "nope", "-o", str(out)]).output


def test_export_functions_neutralise():
    assert export.neutralise("=1+1") == "'=1+1" and export.neutralise("ok") == "ok" and export.neutralise(5) == 5


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/surveys/new"),
        ("get", "/admin/surveys/acme/export.csv"),
        ("get", "/admin/surveys/acme/export.xlsx"),
        ("post", "/admin/surveys/acme/status"),
        ("post", "/admin/surveys/acme/invitations"),
    ],
)
def test_facilitator_never_gets_raw_answers_or_hr_actions(fac_client, method, path):
    page = fac_client.get("/admin/surveys/acme").get_data(as_text=True)
    resp = getattr(fac_client, method)(path, data={"csrf_token": csrf_token(page)} if method == "post" else None)
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/surveys/acme",
        "/admin/surveys/acme/results",
        "/admin/surveys/acme/compare",
        "/admin/surveys/acme/report.pdf",
        "/admin/surveys/acme/compare.pdf",
        "/admin/surveys/acme/export.csv",
    ],
)
def test_every_admin_page_needs_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/surveys/acme/results", "/api/v1/surveys/acme/compare", "/api/v1/surveys/acme/report.pdf"],
)
def test_api_reads_need_a_token(client, path):
    assert client.get(path).status_code == 401


def test_facilitator_sees_comparison_without_export_button(app, fac_client, hr_client, instrument):
    rng = np.random.default_rng(9)
    for code in ("A", "B"):
        for _ in range(6):
            add(app, "acme", code, random_answers(instrument, rng), comment="secret comment")
    close_all(app)
    page = fac_client.get("/admin/surveys/acme/compare").get_data(as_text=True)
    assert "Departments × levels" in page and "export.csv" not in page and "secret comment" not in page
    assert "export.csv" in hr_client.get("/admin/surveys/acme").get_data(as_text=True)


def test_trend_keeps_cells_hidden_in_either_round(app, client, hr_token, instrument):
    """A cell hidden in the previous round's results (protecting another department) stays hidden."""
    new_round(app, "p1", None)
    new_round(app, "p2", "p1")
    for slug in ("p1", "p2"):
        with app.app_context():
            db = get_db()
            survey = surveys.get_survey(db, slug)
            db["departments"].insert({"survey_id": survey.id, "code": "C", "name": "Gamma", "position": 3})
            db.conn.commit()
    rng = np.random.default_rng(12)
    leading = {it.id for it in instrument.level("leading").items}
    for slug in ("p1", "p2"):
        for code, n in (("A", 12), ("B", 8)):
            for _ in range(n):
                add(app, slug, code, random_answers(instrument, rng))
        for n in range(6):  # in p1 only 4 of C's 6 answer the leading items
            few = slug == "p1" and n >= 4
            add(app, slug, "C", {it.id: 3 for it in instrument.items if not (few and it.id in leading)})
    close_all(app)
    headers = {"Authorization": f"Bearer {hr_token}"}
    p1 = client.get("/api/v1/surveys/p1/results", headers=headers).json
    b_p1 = next(d for d in p1["departments"] if d["code"] == "B")
    assert next(c for c in b_p1["dimensions"] if c["id"] == "leading").get("suppressed")
    trend = client.get("/api/v1/surveys/p2/compare", headers=headers).json["trend"]
    rows = {d["code"]: {c["id"]: c for c in d["levels"]} for d in trend["departments"]}
    # Hidden with the reason the round's own results give (survey/privacy.py).
    assert rows["B"]["leading"] == {"id": "leading", "suppressed": True, "reason": "complementary"}
    assert rows["C"]["leading"] == {"id": "leading", "suppressed": True, "reason": "too_few"}
    assert "points" in rows["B"]["observing"] and "points" in rows["A"]["leading"]
