"""Results: SQL read-back, the full pipeline against plain arithmetic, privacy in every output."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest

from survey import results, surveys
from survey.db import get_db
from survey.responses import Submission, save_response


def submit(app, code: str, answers: dict, enps=None, comment=None) -> None:
    with app.app_context():
        db = get_db()
        survey = surveys.get_survey(db, "acme")
        dept = surveys.department_by_code(db, survey, code)
        save_response(db, survey, Submission(dept.id, answers, enps, comment))


def fill(app, instrument, code: str, n: int, rng, skip: float = 0.0) -> list[dict]:
    """Store n random responses for a department; return what was stored."""
    stored = []
    for _ in range(n):
        answers = {it.id: int(rng.integers(1, 6)) for it in instrument.items if rng.random() >= skip}
        enps = int(rng.integers(0, 11)) if rng.random() < 0.8 else None
        submit(app, code, answers, enps)
        stored.append({"answers": answers, "enps": enps, "dept": code})
    return stored


def survey_of(app):
    with app.app_context():
        return surveys.get_survey(get_db(), "acme")


def close(app) -> None:
    """Close survey 'acme': its results are released only then."""
    with app.app_context():
        surveys.close(get_db(), survey_of(app))


def test_load_answers_reads_back_exactly(app, instrument):
    rng = np.random.default_rng(1)
    stored = fill(app, instrument, "A", 7, rng, skip=0.3) + fill(app, instrument, "C", 3, rng, skip=0.3)
    with app.app_context():
        data = results.load_answers(get_db(), survey_of(app))
    assert data.values.shape == (10, len(instrument.items))
    # Responses come back in id order, which (on purpose) is not the order of submission.
    expected = [
        ([resp["answers"].get(it.id, math.nan) for it in instrument.items], resp["enps"], resp["dept"])
        for resp in stored
    ]
    with app.app_context():
        code_of = {d.id: d.code for d in surveys.departments(get_db(), survey_of(app))}
    got = [
        (list(row), None if math.isnan(enps) else int(enps), code_of[int(dept)])
        for row, enps, dept in zip(data.values, data.enps, data.department, strict=True)
    ]

    def key(entry):
        return json.dumps([[None if math.isnan(v) else int(v) for v in entry[0]], entry[1], entry[2]])

    assert sorted(map(key, got)) == sorted(map(key, expected))


def test_organisation_figures_match_plain_arithmetic(app, client, hr_token, instrument):
    rng = np.random.default_rng(2)
    stored = fill(app, instrument, "A", 8, rng, skip=0.1) + fill(app, instrument, "B", 6, rng, skip=0.1)
    close(app)
    body = client.get("/api/v1/surveys/acme/results", headers={"Authorization": f"Bearer {hr_token}"}).json
    assert body["n"] == 14 and body["suppressed"] is False
    scores = []
    for level, dim in zip(instrument.levels, body["dimensions"], strict=True):
        per_person = []
        for resp in stored:
            got = [resp["answers"][it.id] for it in level.items if it.id in resp["answers"]]
            if len(got) >= math.ceil(len(level.items) / 2):
                per_person.append(statistics.fmean(got))
        assert dim["n"] == len(per_person)
        assert dim["mean"] == pytest.approx(statistics.fmean(per_person))
        assert dim["score"] == pytest.approx((statistics.fmean(per_person) - 1) / 4 * 100)
        scores.append(dim["score"])
    assert body["index"] == pytest.approx(statistics.fmean(scores))
    answered = [s["enps"] for s in stored if s["enps"] is not None]
    promoters = sum(e >= 9 for e in answered)
    detractors = sum(e <= 6 for e in answered)
    assert body["enps"] == pytest.approx(100 * (promoters - detractors) / len(answered))
    assert sum(p["count"] for p in body["pyramid"]) == 14
    assert body["response_rate"] is not None if "response_rate" in body else True
    json.dumps(body, allow_nan=False)


def test_small_department_hidden_with_its_partner(app, client, hr_token, instrument):
    rng = np.random.default_rng(3)
    fill(app, instrument, "A", 9, rng)
    fill(app, instrument, "B", 6, rng)
    fill(app, instrument, "C", 2, rng)
    headers = {"Authorization": f"Bearer {hr_token}"}
    close(app)
    body = client.get("/api/v1/surveys/acme/results", headers=headers).json
    by_code = {d["code"]: d for d in body["departments"]}
    assert by_code["A"]["suppressed"] is False and by_code["A"]["n"] == 9
    assert by_code["C"] == {"code": "C", "name": "Gamma", "suppressed": True, "reason": "too_few"}
    assert by_code["B"] == {"code": "B", "name": "Beta", "suppressed": True, "reason": "complementary", "headcount": 8}
    # The hidden departments' own results are refused the same way, with no count either.
    one = client.get("/api/v1/surveys/acme/results?department=C", headers=headers).json
    assert one["suppressed"] is True and "dimensions" not in one and "n" not in one
    assert client.get("/api/v1/surveys/acme/results?department=ZZ", headers=headers).status_code == 404


def test_cell_below_threshold_is_hidden_with_a_partner_cell(app, client, hr_token, instrument):
    """A department shown overall can still have a level answered by fewer than k people."""
    rng = np.random.default_rng(4)
    fill(app, instrument, "A", 12, rng)
    fill(app, instrument, "B", 8, rng)
    leading = {it.id for it in instrument.levels[-1].items}
    for n in range(6):  # department C: 6 people, only 4 of whom answer the leading items
        answers = {it.id: 3 for it in instrument.items if n < 4 or it.id not in leading}
        submit(app, "C", answers)
    close(app)
    body = client.get("/api/v1/surveys/acme/results", headers={"Authorization": f"Bearer {hr_token}"}).json
    by_code = {d["code"]: d for d in body["departments"]}
    lead = {code: next(x for x in d["dimensions"] if x["id"] == "leading") for code, d in by_code.items()}
    assert lead["C"] == {"id": "leading", "suppressed": True, "reason": "too_few"}
    # the next-smallest cell of the column
    assert lead["B"] == {"id": "leading", "suppressed": True, "reason": "complementary"}
    assert "score" in lead["A"]
    assert "index" not in by_code["C"] and "index" not in by_code["B"]  # an index would reveal the cell


def test_results_need_a_token_and_allow_facilitators(app, client):
    assert client.get("/api/v1/surveys/acme/results").status_code == 401
    with app.app_context():
        from survey import accounts

        token = accounts.create_token(get_db(), "facilitator")
    headers = {"Authorization": f"Bearer {token}"}
    # While open: nothing derived from answers, and a reason the client can show.
    resp = client.get("/api/v1/surveys/acme/results", headers=headers)
    assert resp.status_code == 409 and "released when the survey is closed" in resp.json["error"]
    close(app)
    resp = client.get("/api/v1/surveys/acme/results", headers=headers)
    assert resp.status_code == 200 and resp.json["suppressed"] is True  # nobody has answered
    assert "dimensions" not in resp.json and "n" not in resp.json


def test_cache_is_keyed_by_the_state_of_the_answers(app, client, hr_token, instrument):
    rng = np.random.default_rng(5)
    fill(app, instrument, "A", 5, rng)
    close(app)
    headers = {"Authorization": f"Bearer {hr_token}"}
    first = client.get("/api/v1/surveys/acme/results", headers=headers).json
    with app.app_context():
        key = (results.stamp(get_db(), survey_of(app)), None)
    assert results.CACHE.get(key) is not None and first["n"] == 5
    # A row written behind the app's back (the app itself stores nothing in a closed survey) changes the key.
    with app.app_context():
        db = get_db()
        dept = surveys.department_by_code(db, survey_of(app), "A")
        db.execute(
            "INSERT INTO responses (id, survey_id, department_id, submitted_on) VALUES (12345, ?, ?, '2026-01-01')",
            [survey_of(app).id, dept.id],
        )
        db.conn.commit()
        assert results.stamp(db, survey_of(app)) != key[0]


def test_results_page_shows_figures_and_hides_small_groups(app, hr_client, fac_client, client, hr_token, instrument):
    rng = np.random.default_rng(6)
    fill(app, instrument, "A", 9, rng)
    fill(app, instrument, "B", 6, rng)
    fill(app, instrument, "C", 2, rng)
    assert hr_client.get("/admin/surveys/acme/results").status_code == 409  # released when closed
    close(app)
    api = client.get("/api/v1/surveys/acme/results", headers={"Authorization": f"Bearer {hr_token}"}).json
    for c in (hr_client, fac_client):
        page = c.get("/admin/surveys/acme/results").get_data(as_text=True)
        assert f'id="kpi-index">{api["index"]:.0f}<' in page
        for dim in api["dimensions"]:
            assert f"<strong>{dim['score']:.0f}</strong>" in page
        assert "fewer than 5 answers" in page and "cannot be worked out" in page
        assert 'src="/static/vendor/plotly.min.js"' in page and "cdn" not in page.lower()
        assert 'type="application/json" id="fig-pyramid"' in page
    assert app.test_client().get("/admin/surveys/acme/results").status_code == 302  # hr_client is client
    page = hr_client.get("/admin/surveys/acme/results?department=C").get_data(as_text=True)
    assert "Gamma</option>" in page and "Gamma is hidden" in page
    assert hr_client.get("/admin/surveys/acme/results?department=ZZ").status_code == 404
    with hr_client.get("/static/vendor/plotly.min.js") as resp:
        assert resp.status_code == 200 and resp.content_type.startswith("text/javascript")


def test_empty_survey_page(app, hr_client):
    page = hr_client.get("/admin/surveys/acme/results").get_data(as_text=True)
    assert "Results are released when the survey closes" in page and "fig-pyramid" not in page
    close(app)
    page = hr_client.get("/admin/surveys/acme/results").get_data(as_text=True)
    assert "Too few responses" in page and "fig-pyramid" not in page


def test_response_rates_follow_invitations_then_headcount(app, client, hr_token, instrument):
    from survey import invitations

    headers = {"Authorization": f"Bearer {hr_token}"}
    # With fewer than k responses in all, not even the organisation's rate is shown.
    rng = np.random.default_rng(8)
    fill(app, instrument, "A", 9, rng)
    fill(app, instrument, "B", 6, rng)
    fill(app, instrument, "C", 5, rng)
    with app.app_context():
        survey = survey_of(app)
        dept = surveys.department_by_code(get_db(), survey, "A")
        invitations.create_invitations(get_db(), survey, dept, 30)
    close(app)
    body = client.get("/api/v1/surveys/acme/results", headers=headers).json
    rows = {d["code"]: d for d in body["departments"]}
    # A group's size is its headcount, or its invitations when there are more of them.
    assert rows["A"]["response_rate"] == pytest.approx(9 / 30)
    assert rows["B"]["response_rate"] == pytest.approx(6 / 8)  # headcount
    assert "response_rate" not in rows["C"]  # neither invitations nor headcount
    assert "response_rate" not in body  # so the organisation's size is not known either


def test_department_results_hide_what_the_table_hides(app, client, hr_token, instrument):
    """B's leading cell protects C's in the table, so B's own results must not show it either."""
    rng = np.random.default_rng(4)
    fill(app, instrument, "A", 12, rng)
    fill(app, instrument, "B", 8, rng)
    leading = {it.id for it in instrument.levels[-1].items}
    for n in range(6):
        submit(app, "C", {it.id: 3 for it in instrument.items if n < 4 or it.id not in leading})
    close(app)
    headers = {"Authorization": f"Bearer {hr_token}"}
    table = {d["code"]: d for d in client.get("/api/v1/surveys/acme/results", headers=headers).json["departments"]}
    hidden = {"id": "leading", "suppressed": True, "reason": "complementary"}
    assert next(c for c in table["B"]["dimensions"] if c["id"] == "leading") == hidden
    own = client.get("/api/v1/surveys/acme/results?department=B", headers=headers).json
    assert next(d for d in own["dimensions"] if d["id"] == "leading") == hidden
    assert own["pyramid"] is None  # the pyramid would give the hidden level away
    assert "index" not in own
    assert all(it.get("suppressed") for it in own["items"] if it["level"] == "leading")
    assert all("mean" in it for it in own["items"] if it["level"] == "observing")
