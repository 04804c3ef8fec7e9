"""Honest figures in every output: why each group or cell is hidden, Cronbach's alpha as it may be read, one focus
level with its reason, a department's own figures next to the organisation's, and the comments page."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from helpers import FAC_EMAIL, FAC_PASSWORD, close_survey, login

from survey import rates, report, results, surveys
from survey.db import get_db
from survey.responses import Submission, save_response

needs_chromium = pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="no Chromium for the charts")

DEPTS = [
    {"code": "A", "name": "Alpha", "headcount": 30},
    {"code": "B", "name": "Beta", "headcount": 10},
    {"code": "C", "name": "Gamma", "headcount": 4},
    {"code": "D", "name": "Delta", "headcount": 10},
]
SIZES = {"A": 20, "B": 6, "C": 2, "D": 8}


def answers(instrument, n: int, rng, skip_leading: bool = False) -> dict[str, int]:
    """Return one respondent's answers: Observing high, Following in a pattern whose statements disagree."""
    out = {}
    x = n % 5 + 1
    pattern = [x, 6 - x, x, min(5, 6 - x + n % 2)]  # statement 1 against statement 2: a negative alpha
    for level in instrument.levels:
        for i, item in enumerate(level.items):
            if level.id == "observing":
                out[item.id] = 5 if i != 3 else 4
            elif level.id == "following":
                out[item.id] = pattern[i]
            elif level.id == "leading" and skip_leading:
                continue
            else:
                out[item.id] = int(rng.integers(3, 6))
    return out


@pytest.fixture
def honest(app, instrument):
    """Survey 'h': Alpha 20, Beta 6, Gamma 2 (too few), Delta 8 (three answered Leading); closed; comments in each."""
    rng = np.random.default_rng(7)
    with app.app_context():
        db = get_db()
        survey = surveys.create_survey(db, instrument, "Honest", "en", DEPTS, slug="h")
        ids = {d.code: d.id for d in surveys.departments(db, survey)}
        for code, size in SIZES.items():
            for n in range(size):
                given = answers(instrument, n, rng, skip_leading=code == "D" and n >= 3)
                text = f"comment {code}{n}" + (" about the canteen" if n % 4 == 0 else "")
                save_response(db, survey, Submission(ids[code], given, 4 + n % 7, text))
    close_survey(app, "h")
    return app


def api_results(client, token: str, department: str | None = None) -> dict:
    """GET the API's results of survey 'h'."""
    query = f"?department={department}" if department else ""
    response = client.get(f"/api/v1/surveys/h/results{query}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- 2. why each group is hidden, in every output ------------------------------------------------


def test_the_reasons_come_from_the_rules_and_reach_the_api(honest, client, hr_token):
    """Gamma has too few answers; Beta is hidden to protect it; Delta's Leading has too few; its items follow."""
    body = api_results(client, hr_token)
    reason = {d["code"]: d.get("reason") for d in body["departments"]}
    assert reason == {"A": None, "B": "complementary", "C": "too_few", "D": None}
    delta = next(d for d in body["departments"] if d["code"] == "D")
    leading = next(c for c in delta["dimensions"] if c["id"] == "leading")
    assert leading["suppressed"] and leading["reason"] == "too_few"
    delta_own = api_results(client, hr_token, "D")
    assert {it["reason"] for it in delta_own["items"] if it["level"] == "leading"} == {"level_hidden"}
    rate = client.get("/api/v1/surveys/h/rate", headers={"Authorization": f"Bearer {hr_token}"}).get_json()
    assert {d["code"]: d.get("reason") for d in rate["departments"]} == reason
    assert all("rate" not in d and "responses" not in d for d in rate["departments"] if d["suppressed"])


def test_the_results_page_says_why_each_group_and_cell_is_hidden(honest, hr_client):
    """Rows carry the whole reason; hidden cells their short reason, explained under the table."""
    page = hr_client.get("/admin/surveys/h/results").get_data(as_text=True)
    row = {name: page.split(f">{name}</a></th>")[1].split("</tr>")[0] for name in ("Beta", "Gamma", "Delta")}
    assert "hidden so that a smaller group cannot be worked out from the total" in row["Beta"]
    assert "fewer than 5 answers" in row["Gamma"]
    assert 'class="why">fewer than 5 answers</span>' in row["Delta"]
    assert "the figure would rest on fewer than 5 answers." in page  # the legend under the table


def test_the_survey_page_says_why_a_count_is_hidden_and_shows_no_rate(honest, hr_client):
    """The survey page: Gamma 'fewer than 5', Beta hidden to protect a smaller department, neither with a rate."""
    page = hr_client.get("/admin/surveys/h").get_data(as_text=True)
    rows = {name: page.split(f"<td>{name}</td>")[1].split("</tr>")[0] for name in ("Beta", "Gamma", "Delta")}
    assert "hidden to protect a smaller department" in rows["Beta"] and "%" not in rows["Beta"]
    assert "fewer than 5" in rows["Gamma"] and "%" not in rows["Gamma"]
    assert "80%" in rows["Delta"]


def test_the_comparison_page_says_why(honest, hr_client):
    """The comparison: hidden rows and cells name their reason."""
    page = hr_client.get("/admin/surveys/h/compare").get_data(as_text=True)
    assert "hidden: hidden so that a smaller group cannot be worked out from the total" in page
    assert "hidden: fewer than 5 answers" in page
    delta = page.split('<th scope="row">Delta</th>')[1].split("</tr>")[0]
    assert 'class="why">fewer than 5 answers</span>' in delta


@needs_chromium
def test_the_pdf_report_says_why(honest):
    """The PDF: hidden departments and their reasons, marks on hidden cells explained, items of a hidden level."""
    from pypdf import PdfReader

    with honest.app_context():
        survey = surveys.get_survey(get_db(), "h")
        pdf = report.make_report(get_db(), survey, "en")
        own = report.make_report(get_db(), survey, "en", "D")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Beta: hidden so that a smaller department cannot be worked out from the total" in text
    assert "Gamma: fewer than 5 responses" in text
    # In the units table: a hidden unit's row says why; a hidden cell carries a mark explained under it.
    assert "Beta – hidden: hidden so that a smaller department cannot be worked out from the total" in text
    assert "Delta 8" in text and "hidden¹" in text and "hidden¹: fewer than 5 answers" in text
    delta = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(own)).pages)
    assert "hidden: its level is hidden" in delta and "hidden: fewer than 5 answers" in delta


# --- 3. Cronbach's alpha -------------------------------------------------------------------------


def test_alpha_too_few_below_zero_and_its_note_in_the_api(honest, client, hr_token):
    """Following's statements disagree: alpha below 0, flagged; Delta's 8: too few to estimate, no alpha."""
    org = {d["id"]: d for d in api_results(client, hr_token)["dimensions"]}
    assert org["following"]["alpha"] < 0 and org["following"]["alpha_note"] == "below_zero"
    assert org["observing"]["alpha_note"] in ("ok", "below_warning", "undefined")
    delta = {d["id"]: d for d in api_results(client, hr_token, "D")["dimensions"]}
    assert delta["following"]["alpha_note"] == "too_few" and "alpha" not in delta["following"]
    assert delta["following"]["alpha_n"] == 8


def test_the_results_page_shows_below_zero_and_too_few_never_a_band(honest, hr_client):
    """The page: 'below 0' flagged with its meaning (never 'low' or the number); 'too few to estimate' for Delta."""
    page = hr_client.get("/admin/surveys/h/results").get_data(as_text=True)
    following = page.split('<th scope="row">Following')[1].split("</tr>")[0]
    assert "⚠ below 0" in following and not re.search(r"−\d+,\d\d|-\d+\.\d\d", following)
    assert "the statements of this level disagree with each other" in page
    delta = hr_client.get("/admin/surveys/h/results?department=D").get_data(as_text=True)
    assert "too few to estimate" in delta and "needs at least 20 people who answered every statement" in delta


@needs_chromium
def test_the_pdf_shows_below_zero_and_too_few(honest):
    """The PDF's level table: 'below 0' and its note for the organisation, 'too few to estimate' for Delta."""
    from pypdf import PdfReader

    with honest.app_context():
        survey = surveys.get_survey(get_db(), "h")
        org = report.make_report(get_db(), survey, "en")
        delta = report.make_report(get_db(), survey, "en", "D")
    org_text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(org)).pages)
    delta_text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(delta)).pages)
    assert "below 0" in org_text and "disagree with each other" in org_text
    assert "too few to estimate" in delta_text


# --- 4. one focus level ----------------------------------------------------------------------------


def test_one_focus_level_in_the_api_and_on_the_page(honest, client, hr_token, hr_client):
    """Following (about 50, medium) is the lowest level below 70: the API and the page name it, with the reason."""
    body = api_results(client, hr_token)
    assert body["focus_level"] == "following"
    page = hr_client.get("/admin/surveys/h/results").get_data(as_text=True)
    assert "Focus level: Following" in page
    score = round(next(d for d in body["dimensions"] if d["id"] == "following")["score"])
    assert f"Following is the lowest level scoring below 70 ({score}, medium)" in page


def test_focus_level_rule():
    """The rule on plain figures: the lowest shown level below 70; none when all are high."""
    from survey.questionnaire import load_instrument

    inst = load_instrument("questions.yaml")
    dims = [{"id": lv.id, "score": 80.0} for lv in inst.levels]
    assert results.focus_level(dims, inst) is None
    dims[3]["score"], dims[5]["score"] = 65.0, 20.0
    assert results.focus_level(dims, inst) == inst.levels[3].id
    dims[1] = {"id": inst.levels[1].id, "suppressed": True}
    assert results.focus_level(dims, inst) == inst.levels[3].id


@needs_chromium
def test_the_report_names_one_focus_level_on_its_summary_and_action_pages(honest):
    """Summary and action page name the same level, with the reason; the weakest two are 'the two lowest scores'."""
    from pypdf import PdfReader

    with honest.app_context():
        pdf = report.make_report(get_db(), surveys.get_survey(get_db(), "h"), "nb")
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    named = [set(re.findall(r"Fokusnivå: (\w+)", text)) for text in pages]
    assert [n for n in named if n] == [{"Følge"}, {"Følge"}], named
    text = " ".join(pages)
    assert "De to laveste skårene" in text and "Fokusområder" not in text


# --- 13. a department's own figures ------------------------------------------------------------------


def test_a_department_view_shows_its_own_figures_against_the_organisation(honest, hr_client, client, hr_token):
    """?department=A: Alpha's key figures, levels and statements, each next to the organisation's."""
    alpha = api_results(client, hr_token, "A")
    org = api_results(client, hr_token)
    page = hr_client.get("/admin/surveys/h/results?department=A").get_data(as_text=True)
    assert "<h1>Results: Alpha</h1>" in page
    assert f'id="kpi-n">{alpha["n"]}</div>' in page and f"organisation: {org['n']}" in page
    assert f'id="kpi-index">{round(alpha["index"])}</div>' in page
    levels = page.split('id="h-levels"')[1].split("</table>")[0]
    contributing = levels.split("Contributing")[1].split("</tr>")[0]
    a_score = next(d for d in alpha["dimensions"] if d["id"] == "contributing")["score"]
    o_score = next(d for d in org["dimensions"] if d["id"] == "contributing")["score"]
    assert f"<strong>{round(a_score)}</strong>" in contributing and f">{round(o_score)}</td>" in contributing
    assert 'id="h-depts"' not in page  # the departments table belongs to the organisation's view
    statements = page.split('id="h-items"')[1]
    assert "Statement by statement: Alpha" in statements
    item = alpha["items"][4]
    assert f"{item['mean']:.2f}" in statements
    assert '"name": "Alpha"' in page or '"name":"Alpha"' in page.replace(" ", "")  # the radar's second line


def test_a_hidden_department_is_not_shown_and_says_why(honest, hr_client):
    """?department=B: Beta is hidden (protecting Gamma); the page says so and shows the organisation."""
    page = hr_client.get("/admin/surveys/h/results?department=B").get_data(as_text=True)
    assert "Beta is hidden: hidden so that a smaller group cannot be worked out from the total." in page
    assert "<h1>Results: Honest</h1>" in page and 'id="h-depts"' in page


# --- 14. comments ----------------------------------------------------------------------------------


def test_the_comments_page_shows_only_comments_of_large_enough_groups(honest, hr_client):
    """Alpha (20) reaches the comment threshold of 10; Beta, Gamma and Delta do not: only Alpha's comments."""
    page = hr_client.get("/admin/surveys/h/comments").get_data(as_text=True)
    shown = re.findall(r'<blockquote class="card comment">(comment (\w)\d+[^<]*)</blockquote>', page)
    assert len(shown) == 20 and {code for _, code in shown} == {"A"}
    assert "20 comments." in page
    assert "Alpha" not in page.split('class="comment-list"')[1]  # no department next to a comment


def test_the_comments_page_searches_the_text(honest, hr_client):
    """A search keeps the comments holding every word, in any case; the count says how many of how many."""
    page = hr_client.get("/admin/surveys/h/comments?q=CANTEEN").get_data(as_text=True)
    shown = re.findall(r'<blockquote class="card comment">([^<]*)</blockquote>', page)
    assert len(shown) == 5 and all("canteen" in text for text in shown)
    assert "5 of 20 comments hold “CANTEEN”." in page


def test_comments_are_for_hr_and_closed_surveys_only(honest, app):
    """A facilitator gets 403; an open survey shows no comments (409)."""
    client = app.test_client()
    login(client, FAC_EMAIL, FAC_PASSWORD)
    assert client.get("/admin/surveys/h/comments").status_code == 403
    hr = app.test_client()
    login(hr)
    assert hr.get("/admin/surveys/acme/comments").status_code == 409
    assert "Comments" not in client.get("/admin/surveys/h/results").get_data(as_text=True).split("</h1>")[1][:300]


def test_reading_the_comments_is_reading_results(honest, hr_client, app):
    """After the comments page (or the exports) the survey can no longer be reopened."""
    with app.app_context():
        get_db().execute("UPDATE surveys SET results_read_on = NULL WHERE slug = 'h'")
        get_db().conn.commit()
    hr_client.get("/admin/surveys/h/comments")
    with app.app_context():
        assert surveys.get_survey(get_db(), "h").results_read_on is not None
        with pytest.raises(surveys.ReopenRefused):
            surveys.reopen(get_db(), surveys.get_survey(get_db(), "h"))


@pytest.mark.parametrize("path", ["export.csv", "comments.csv"])
def test_downloading_answers_or_comments_is_reading_results(honest, hr_client, app, path):
    """The raw export and the comments file mark the survey as read as well (no reopening and subtracting)."""
    with app.app_context():
        get_db().execute("UPDATE surveys SET results_read_on = NULL WHERE slug = 'h'")
        get_db().conn.commit()
    assert hr_client.get(f"/admin/surveys/h/{path}").status_code == 200
    with app.app_context():
        assert surveys.get_survey(get_db(), "h").results_read_on is not None


def test_rates_keep_their_reasons(honest):
    """The rates module reads the same reasons (one decision for counts, rates and figures)."""
    with honest.app_context():
        found = rates.response_rates(get_db(), surveys.get_survey(get_db(), "h"))
    assert {r["department"].code: r["hidden"] for r in found["departments"]} == {
        "A": None,
        "B": "complementary",
        "C": "too_few",
        "D": None,
    }
