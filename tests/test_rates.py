"""Response rate: from invitations or headcount, live while open, never revealing a small department."""

from __future__ import annotations

import re

import pytest
from helpers import add_responses, answers_for

from survey import accounts, invitations, rates, surveys
from survey.db import get_db


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def invite(app, code: str, n: int) -> None:
    """Create n invitations (links shown once) for a department of survey 'acme'."""
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        invitations.create_invitations(get_db(), survey, surveys.department_by_code(get_db(), survey, code), n)


def rate_of(client, token: str) -> dict:
    resp = client.get("/api/v1/surveys/acme/rate", headers=auth(token))
    assert resp.status_code == 200, resp.json
    return resp.json


def by_code(body: dict) -> dict:
    return {d["code"]: d for d in body["departments"]}


def test_size_is_the_headcount_or_the_invitations_whichever_is_larger(app, client, hr_token):
    # A: headcount 20; B: headcount 8 but 10 invitations; C: neither.
    invite(app, "B", 10)
    add_responses(app, "A", 10)
    add_responses(app, "B", 5)
    add_responses(app, "C", 6)
    body = rate_of(client, hr_token)
    depts = by_code(body)
    assert depts["A"] == {
        "code": "A",
        "name": "Alpha & <Omega>",
        "suppressed": False,
        "invited": 0,
        "headcount": 20,
        "base": 20,
        "base_source": "headcount",
        "responses": 10,
        "rate": 0.5,
    }
    assert depts["B"]["base"] == 10 and depts["B"]["base_source"] == "invitations" and depts["B"]["rate"] == 0.5
    assert depts["C"]["responses"] == 6 and "rate" not in depts["C"] and "base" not in depts["C"]
    # One department without a base: no overall rate (it would not mean anything).
    assert body["responses"] == 21 and body["invited"] == 10 and "rate" not in body
    invite(app, "C", 12)
    body = rate_of(client, hr_token)
    assert body["base"] == 20 + 10 + 12 and body["rate"] == round(21 / 42, 4)


def test_a_small_department_shows_neither_count_nor_rate_while_open(app, client, hr_token):
    add_responses(app, "A", 9)
    add_responses(app, "B", 6)
    add_responses(app, "C", 2)
    invite(app, "C", 4)
    depts = by_code(rate_of(client, hr_token))
    assert depts["C"]["suppressed"] and depts["C"]["reason"] == "too_few"
    # B is the next-smallest: hidden too, or C = total - A - B could be worked out.
    assert depts["B"]["suppressed"] and depts["B"]["reason"] == "complementary"
    for code in ("B", "C"):
        assert "responses" not in depts[code] and "rate" not in depts[code]
    assert depts["A"]["responses"] == 9 and depts["A"]["rate"] == 0.45
    with app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    # Closing changes nothing: a count of 2 out of 4 invited says as much about who answered afterwards.
    closed = by_code(rate_of(client, hr_token))
    assert closed["C"] == depts["C"] and closed["B"] == depts["B"]


def test_mixed_channels_count_against_the_headcount_never_above_100(app, client, hr_token, instrument):
    """Headcount 400, 6 invitations, 7 answers (6 by department link, 1 by invitation): 7 of 400, not 100 % of 6."""
    with app.app_context():
        survey = surveys.create_survey(
            get_db(),
            instrument,
            title="Mixed",
            language="en",
            departments=[{"code": "ALL", "name": "Everyone", "headcount": 400}],
            slug="mixed",
        )
        dept = surveys.department_by_code(get_db(), survey, "ALL")
        tokens = invitations.create_invitations(get_db(), survey, dept, 6)
    for _ in range(6):
        body = {"department": "ALL", "answers": answers_for(instrument)}
        assert client.post("/api/v1/surveys/mixed/responses", json=body).status_code == 201
    body = {"invitation": tokens[0], "answers": answers_for(instrument)}
    assert client.post("/api/v1/surveys/mixed/responses", json=body).status_code == 201
    got = client.get("/api/v1/surveys/mixed/rate", headers=auth(hr_token)).json
    assert got["base"] == 400 and got["rate"] == round(7 / 400, 4) and got["responses"] == 7
    row = by_code(got)["ALL"]
    assert row["base"] == 400 and row["base_source"] == "headcount" and row["rate"] == round(7 / 400, 4)


def test_rate_is_live_and_capped(app, client, hr_token, instrument):
    invite(app, "A", 5)
    add_responses(app, "A", 5)
    add_responses(app, "B", 5)
    add_responses(app, "C", 5)
    assert by_code(rate_of(client, hr_token))["A"]["rate"] == 0.25  # 5 of the headcount of 20
    # B: headcount 8; 9 answers through the open link: capped at 100 % and flagged, not 112 %.
    for _ in range(4):
        body = {"department": "B", "answers": answers_for(instrument)}
        assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    depts = by_code(rate_of(client, hr_token))
    assert depts["B"]["responses"] == 9 and depts["B"]["rate"] == 1.0 and depts["B"]["more_responses_than_size"]


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"Authorization": "Bearer nope"}, 401)])
def test_rate_api_needs_a_token(client, headers, status):
    assert client.get("/api/v1/surveys/acme/rate", headers=headers).status_code == status


def test_rate_api_for_facilitators_and_unknown_surveys(app, client):
    with app.app_context():
        token = accounts.create_token(get_db(), "facilitator")
    assert client.get("/api/v1/surveys/acme/rate", headers=auth(token)).status_code == 200
    resp = client.get("/api/v1/surveys/nope/rate", headers=auth(token))
    assert resp.status_code == 404 and resp.json == {"error": "There is no survey 'nope'."}


def test_rate_is_documented_and_matches_its_schema(app, client, hr_token):
    from jsonschema import validate

    spec = client.get("/api/v1/openapi.json").json
    assert "/surveys/{slug}/rate" in spec["paths"]
    assert "429" in spec["paths"]["/surveys/{slug}/responses"]["post"]["responses"]
    add_responses(app, "A", 6)
    schema = {**spec["components"]["schemas"]["ResponseRate"], "components": spec["components"]}
    validate(rate_of(client, hr_token), schema)


def test_rate_on_the_hr_pages(app, hr_client):
    invite(app, "B", 10)
    add_responses(app, "A", 10)
    add_responses(app, "B", 5)
    add_responses(app, "C", 2)
    page = hr_client.get("/admin/surveys/acme/invitations").get_data(as_text=True)
    rows = table_rows(page.split('id="rates"')[1])
    # department, invited, headcount, responses, rate
    # Percentages in the reader's convention: "50%" in English ("50 %" with a no-break space in Norwegian).
    assert rows[0] == ["Alpha &amp; &lt;Omega&gt; A", "–", "20", "10", "50%"]
    assert rows[1] == ["Beta B", "10", "8", "hidden", "–"]  # next-smallest: hidden with C
    assert rows[2] == ["Gamma C", "–", "–", "fewer than 5", "–"]
    detail = hr_client.get("/admin/surveys/acme").get_data(as_text=True)
    rows = table_rows(detail)
    # department, code, responses, headcount, invited, rate
    assert rows[0][2:] == ["10", "20", "–", "50%"]
    assert rows[1][2:] == ["hidden to protect a smaller department", "8", "10", "–"]


def table_rows(html: str) -> list[list[str]]:
    """Return the cells' text of the first table's body rows."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_rates_module_directly(app):
    add_responses(app, "A", 5)
    with app.app_context():
        result = rates.response_rates(get_db(), surveys.get_survey(get_db(), "acme"))
    # A alone has answers: the hidden groups hold nobody, so A (5) and the total (5) are both shown.
    assert result["responses"] == 5 and result["base"] is None and result["rate"] is None
    rows = {r["department"].code: r for r in result["departments"]}
    assert rows["A"]["responses"] == 5 and rows["A"]["rate"] == 0.25 and rows["A"]["source"] == "headcount"
    assert rows["B"]["responses"] is None and rows["C"]["responses"] is None  # 0 answers: below 5
