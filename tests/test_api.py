"""The JSON API: surveys, responses, every kind of bad input, concurrency."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import answers_for, stored_answers

from survey import invitations, schemas, surveys
from survey.api import openapi
from survey.db import NOT_APPLICABLE, get_db
from survey.schemas import MAX_K

NEW_SURVEY = {
    "title": "Pulse Q4",
    "language": "nb",
    "departments": [{"code": "OPS", "name": "Drift", "headcount": 30}, {"code": "IT", "name": "IT"}],
    "min_group_size": 6,
}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def count(db, table: str) -> int:
    return db[table].count


def test_create_survey(client, hr_token, instrument):
    resp = client.post("/api/v1/surveys", json=NEW_SURVEY, headers=auth(hr_token))
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["slug"] == "pulse-q4" and body["language"] == "nb" and body["status"] == "open"
    assert body["min_group_size"] == 6 and body["comment_min_group_size"] == 10
    assert body["departments"] == [{"code": "OPS", "name": "Drift"}, {"code": "IT", "name": "IT"}]
    got = client.get("/api/v1/surveys/pulse-q4").json
    assert got["instrument"]["reach_threshold"] == instrument.reach_threshold
    assert [lv["id"] for lv in got["instrument"]["levels"]] == [lv.id for lv in instrument.levels]
    assert [it["id"] for it in got["instrument"]["items"]] == [it.id for it in instrument.items]
    assert got["instrument"]["items"][0]["text"] == instrument.items[0].text["nb"]
    assert got["instrument"]["enps"] is True


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"Authorization": "Basic abc"}, 401)],
)
def test_create_survey_needs_token(client, db, headers, status):
    resp = client.post("/api/v1/surveys", json=NEW_SURVEY, headers=headers)
    assert resp.status_code == status and "token" in resp.json["error"]
    assert count(db, "surveys") == 1


def test_facilitator_token_cannot_create(app, client, db):
    with app.app_context():
        from survey import accounts

        token = accounts.create_token(get_db(), "facilitator")
    resp = client.post("/api/v1/surveys", json=NEW_SURVEY, headers=auth(token))
    assert resp.status_code == 403
    assert count(db, "surveys") == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"language": "de"}, "language"),
        ({"departments": []}, "departments"),
        ({"departments": [{"code": "A"}]}, "departments"),
        ({"departments": [{"code": "A", "name": "x"}, {"code": "a", "name": "y"}]}, "departments"),
        ({"departments": [{"code": "A", "name": "x", "headcount": -1}]}, "departments"),
        ({"min_group_size": 2}, "min_group_size"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"anonymous": "yes"}, "anonymous"),
        ({"colour": "red"}, "colour"),
        ({"min_group_size": 10_001}, "min_group_size"),
        ({"min_group_size": 6.0}, "min_group_size"),
        ({"comment_min_group_size": 5}, "comment_min_group_size"),
        ({"collection": "closed"}, "collection"),
        ({"instrument": "long"}, "instrument"),
        ({"small_groups": "hide"}, "small_groups"),
        ({"previous": 3}, "previous"),
        ({"departments": [{"code": "A", "name": "x", "parent": "B"}]}, "departments"),
        (
            {"departments": [{"code": "A", "name": "x", "parent": "B"}, {"code": "B", "name": "y", "parent": "A"}]},
            "departments",
        ),
    ],
)
def test_create_survey_invalid(client, db, hr_token, change, field):
    resp = client.post("/api/v1/surveys", json={**NEW_SURVEY, **change}, headers=auth(hr_token))
    assert resp.status_code == 422
    assert field in resp.json["fields"]
    assert count(db, "surveys") == 1


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"title": " "}, {"title": "Give the survey a title."}),
        ({"title": "x" * 201}, {"title": "Keep the title under 200 characters."}),
        ({"min_group_size": 2}, {"min_group_size": "The minimum group size must be a whole number from 3 to 10,000."}),
        (
            {"min_group_size": 8, "comment_min_group_size": 7},
            {"comment_min_group_size": "The comment threshold must be a whole number >= the minimum group size."},
        ),
        ({"departments": []}, {"departments": "Add at least one department."}),
        (
            {"departments": [{"code": "A", "name": "x"}, {"code": "B", "name": "y", "headcount": True}]},
            {"departments": "Department 2: the headcount must be a whole number from 0 to 10,000,000, or left out."},
        ),
        (
            {"departments": [{"code": "A", "name": "x"}, {"code": "a", "name": "y"}]},
            {"departments": "Department 2: the code 'a' is used twice."},
        ),
        (
            {"departments": [{"code": "A", "name": "x", "size": 3}]},
            {"departments": "Department 1: unknown field 'size'; remove it."},
        ),
        ({"colour": "red", "title": ""}, {"title": "Give the survey a title.", "colour": "Unknown field; remove it."}),
        (
            {"anonymous": False},
            {
                "anonymous": "'anonymous' was replaced by 'collection': send 'open' (anyone with the link) "
                "or 'invitations' (personal links only)."
            },
        ),
    ],
)
def test_create_survey_messages(client, hr_token, change, fields):
    """Each invalid value is named with a message a person can act on (never the validator's own wording)."""
    resp = client.post("/api/v1/surveys", json={**NEW_SURVEY, **change}, headers=auth(hr_token))
    assert resp.status_code == 422
    assert resp.json == {"error": "Invalid survey.", "fields": fields}


@pytest.mark.parametrize("change", [{"collection": "invitations"}, {"language": "nn"}])
def test_collection_and_nynorsk_are_stored(client, db, hr_token, change):
    resp = client.post("/api/v1/surveys", json={**NEW_SURVEY, **change}, headers=auth(hr_token))
    assert resp.status_code == 201, resp.json
    key, value = next(iter(change.items()))
    assert resp.json[key] == value


def test_create_survey_with_every_default_setting_spelled_out(client, hr_token):
    body = {**NEW_SURVEY, "collection": "open", "instrument": "full", "small_groups": "omit", "slug": "pulse"}
    resp = client.post("/api/v1/surveys", json=body, headers=auth(hr_token))
    assert resp.status_code == 201, resp.json
    assert resp.json["small_groups"] == "omit" and resp.json["slug"] == "pulse"


def test_create_survey_slug_taken(client, hr_token):
    resp = client.post("/api/v1/surveys", json={**NEW_SURVEY, "slug": "acme"}, headers=auth(hr_token))
    assert resp.status_code == 409 and "taken" in resp.json["fields"]["slug"]


def test_get_unknown_survey(client):
    resp = client.get("/api/v1/surveys/nope")
    assert resp.status_code == 404 and resp.json == {"error": "There is no survey 'nope'."}


def test_submit_response(client, db, instrument):
    answers = answers_for(instrument, 5)
    answers[instrument.items[3].id] = None
    resp = client.post(
        "/api/v1/surveys/acme/responses", json={"department": "C", "answers": answers, "enps": 10, "comment": "ok"}
    )
    assert resp.status_code == 201, resp.json
    row = next(db.query("SELECT * FROM responses"))
    assert (row["enps"], row["comment"]) == (10, "ok")
    stored = stored_answers(db, row["id"])
    # null is "not applicable", stored as such (missing in every figure; the export tells it from a blank).
    assert stored == {k: NOT_APPLICABLE if v is None else v for k, v in answers.items()}


BAD_RESPONSES = [
    ({"department": "A", "answers": {"obs1": 6}}, 422, "answers.obs1"),
    ({"department": "A", "answers": {"obs1": 0}}, 422, "answers.obs1"),
    ({"department": "A", "answers": {"obs1": 3.5}}, 422, "answers.obs1"),
    ({"department": "A", "answers": {"obs1": "3"}}, 422, "answers.obs1"),
    ({"department": "A", "answers": {"obs1": True}}, 422, "answers.obs1"),
    ({"department": "A", "answers": {"nope": 3}}, 422, "answers.nope"),
    ({"department": "A", "answers": [3, 4]}, 422, "answers"),
    ({"department": "A", "answers": {}}, 422, "answers"),
    ({"department": "A", "answers": {"obs1": None}}, 422, "answers"),
    ({"department": "ZZ", "answers": {"obs1": 3}}, 422, "department"),
    ({"department": 7, "answers": {"obs1": 3}}, 422, "department"),
    ({"answers": {"obs1": 3}}, 422, "department"),
    ({"department": "A", "answers": {"obs1": 3}, "enps": 11}, 422, "enps"),
    ({"department": "A", "answers": {"obs1": 3}, "enps": "9"}, 422, "enps"),
    ({"department": "A", "answers": {"obs1": 3}, "comment": "x" * 5001}, 422, "comment"),
    ({"department": "A", "answers": {"obs1": 3}, "comment": 5}, 422, "comment"),
    ({"department": "A", "answers": {"obs1": 3}, "extra": 1}, 422, "extra"),
    ({"invitation": "not-a-token", "answers": {"obs1": 3}}, 422, "invitation"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_RESPONSES)
def test_bad_response_is_refused_and_nothing_stored(client, db, body, status, field):
    resp = client.post("/api/v1/surveys/acme/responses", json=body)
    assert resp.status_code == status
    assert field in resp.json["fields"], resp.json
    assert count(db, "responses") == 0 and count(db, "answers") == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"department": "A", "answers": {"obs1": 6, "nope": 3}},
            {
                "answers.obs1": "Answer with a whole number from 1 to 5, or null for not applicable.",
                "answers.nope": "Unknown item id; see the survey's instrument for valid ids.",
            },
        ),
        (
            {"department": "A", "answers": [3]},
            {"answers": "Send answers as an object of item id to a whole number 1-5 (or null)."},
        ),
        (
            {"department": "A", "answers": {"obs1": None}},
            {"answers": "Answer at least one item with a value from 1 to 5."},
        ),
        ({"answers": {"obs1": 3}}, {"department": "Choose your department."}),
        (
            {"department": "ZZ", "answers": {"obs1": 3}},
            {"department": "Unknown department code; see GET /surveys/<slug>."},
        ),
        (
            {"department": "A", "answers": {"obs1": 3}, "enps": -1},
            {"enps": "Answer with a whole number from 0 to 10, or leave it out."},
        ),
        (
            {"department": "A", "answers": {"obs1": 3}, "comment": "x" * 5001},
            {"comment": "Shorten the comment to at most 5,000 characters (it has 5,001)."},
        ),
        (
            {"department": "A", "answers": {"obs1": 3}, "comment": "a\x00b"},
            {"comment": "The comment contains a NUL character; remove it."},
        ),
        ({"department": "A", "answers": {"obs1": 3}, "extra": 1}, {"extra": "Unknown field; remove it."}),
    ],
)
def test_response_messages(client, body, fields):
    resp = client.post("/api/v1/surveys/acme/responses", json=body)
    assert resp.status_code == 422
    assert resp.json == {"error": "Invalid response.", "fields": fields}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"{not json", "Malformed JSON at line 1"),
        (b"[1, 2]", "JSON object"),
        (b'{"department": "A", "answers": {"obs1": 3}, "comment": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, ""),
    ],
)
def test_malformed_body_is_400(client, db, data, message):
    resp = client.post("/api/v1/surveys/acme/responses", data=data, content_type="application/json")
    assert resp.status_code == 400
    assert message in resp.json["error"]
    assert count(db, "responses") == 0


def test_oversized_body_is_413(client, db):
    body = json.dumps({"department": "A", "answers": {"obs1": 3}, "comment": "x" * 1_100_000})
    resp = client.post("/api/v1/surveys/acme/responses", data=body, content_type="application/json")
    assert resp.status_code == 413 and "1 MB" in resp.json["error"]
    assert count(db, "responses") == 0


def test_unknown_survey_is_404(client):
    resp = client.post("/api/v1/surveys/nope/responses", json={"department": "A", "answers": {"obs1": 3}})
    assert resp.status_code == 404 and "nope" in resp.json["error"]


def test_closed_survey_is_409(app, client, db):
    with app.app_context():
        surveys.set_status(get_db(), surveys.get_survey(get_db(), "acme"), "closed")
    resp = client.post("/api/v1/surveys/acme/responses", json={"department": "A", "answers": {"obs1": 3}})
    assert resp.status_code == 409 and "closed" in resp.json["error"]
    assert count(db, "responses") == 0


def test_invitation_used_once(app, client, db):
    with app.app_context():
        survey = surveys.get_survey(get_db(), "acme")
        (token,) = invitations.create_invitations(
            get_db(), survey, surveys.department_by_code(get_db(), survey, "A"), 1
        )
    body = {"invitation": token, "answers": {"obs1": 3}}
    assert client.post("/api/v1/surveys/acme/responses", json=body).status_code == 201
    again = client.post("/api/v1/surveys/acme/responses", json=body)
    assert again.status_code == 409 and "already been used" in again.json["error"]
    both = client.post("/api/v1/surveys/acme/responses", json={**body, "department": "A"})
    assert both.status_code == 422
    assert count(db, "responses") == 1


def test_openapi_describes_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/surveys", "/surveys/{slug}", "/surveys/{slug}/responses", "/surveys/{slug}/results"} <= set(spec["paths"])
    assert spec["paths"]["/surveys"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/surveys/{slug}/responses"]["post"]
    create = spec["paths"]["/surveys"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SurveyIn"}
    assert {"201", "400", "401", "403", "409", "413", "422"} <= set(create["responses"])
    survey_in = spec["components"]["schemas"]["SurveyIn"]
    assert survey_in["additionalProperties"] is False and survey_in["required"] == ["title", "departments"]


def test_openapi_bounds_are_the_validators_bounds(client):
    """The document shows the bounds the API enforces, because both come from one model."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    min_k = schemas["SurveyIn"]["properties"]["min_group_size"]["anyOf"][0]
    assert (min_k["minimum"], min_k["maximum"]) == (3, MAX_K)
    assert schemas["SurveyIn"]["properties"]["language"]["enum"] == ["nb", "nn", "en"]
    assert schemas["SurveyIn"]["properties"]["collection"] == {
        "default": "open",
        "description": "open: anyone with the link answers; invitations: personal links only",
        "enum": ["open", "invitations"],
        "type": "string",
    }
    answer = schemas["ResponseIn"]["properties"]["answers"]["additionalProperties"]["anyOf"][0]
    assert (answer["minimum"], answer["maximum"]) == (1, 5)


def test_every_api_route_is_in_the_openapi_document(app, client):
    """A route added to the API without an entry in openapi.OPERATIONS fails here (and so does a stale entry)."""
    routes = {(rule.endpoint, method.lower()) for rule, method in openapi.api_routes(app)}
    undocumented = {route for route in routes if openapi.operation_for(*route) is None}
    assert not undocumented, f"add these to survey/api/openapi.py OPERATIONS: {sorted(undocumented)}"
    assert {op.endpoint for op in openapi.OPERATIONS} == {endpoint for endpoint, _ in routes}
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert sum(len(methods) for methods in paths.values()) == len(routes)
    assert set(paths) >= {
        "/surveys",
        "/surveys/{slug}",
        "/surveys/{slug}/responses",
        "/surveys/{slug}/results",
        "/surveys/{slug}/compare",
        "/surveys/{slug}/report.pdf",
        "/surveys/{slug}/rate",
        "/openapi.json",
    }


def test_the_roles_in_the_document_are_the_roles_the_views_check(app, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for rule, method in openapi.api_routes(app):
        described = paths[openapi.openapi_path(rule)][method.lower()]
        roles = getattr(app.view_functions[rule.endpoint], "roles", None)
        assert ("security" in described) == (roles is not None), rule.rule
        assert ("401" in described["responses"]) == (roles is not None), rule.rule


@pytest.mark.parametrize(
    ("model", "prefix"),
    [
        (schemas.SurveyIn, ""),
        (schemas.DepartmentIn, "departments.*."),
        (schemas.ResponseIn, ""),
        (schemas.SelfAssessmentIn, ""),
    ]
    + [(model, "") for model in (schemas.ResultsQuery, schemas.CompareQuery, schemas.ReportQuery)],
)
def test_every_input_field_has_a_message(model, prefix):
    """No pydantic wording reaches a person: each field of each input model has its own message."""
    owner = schemas.SurveyIn if model is schemas.DepartmentIn else model
    keys = {key.partition(":")[0] for key in owner.messages}
    missing = [name for name in model.model_fields if prefix + name not in keys]
    assert not missing, f"{owner.__name__}.messages has no entry for {missing}"


def test_200_concurrent_submissions_from_8_threads(live_server, db, instrument):
    """Every acknowledged submission is stored, complete, with no lost writes under concurrency."""
    items = [it.id for it in instrument.items]

    def submit(n: int) -> int:
        answers = {item: 1 + (n + i) % 5 for i, item in enumerate(items)}
        body = json.dumps({"department": "ABC"[n % 3], "answers": answers, "enps": n % 11}).encode()
        req = urllib.request.Request(
            f"{live_server}/api/v1/surveys/acme/responses",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(submit, range(200)))
    assert statuses == [201] * 200
    assert count(db, "responses") == 200
    per_response = list(db.query("SELECT response_id, COUNT(*) AS n FROM answers GROUP BY response_id"))
    assert len(per_response) == 200 and {r["n"] for r in per_response} == {len(items)}
    assert sorted(r["enps"] for r in db.query("SELECT enps FROM responses")) == sorted(n % 11 for n in range(200))


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").json)
