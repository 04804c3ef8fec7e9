"""The OpenAPI 3.1 document of /api/v1, generated from the app's routes and the models, so that it cannot drift.

Path, method, summary (the view's docstring) and the roles a call needs (require_token) come
from the app itself; OPERATIONS adds what the code cannot tell: the request and answer models
and the statuses particular to a call. A route of the API without an entry there fails a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.routing import IntegerConverter, Rule

from .. import schemas
from . import outputs

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One call of the API as the document describes it, beyond what its route and view say."""

    endpoint: str
    answer: type[BaseModel] | str | None  # the 2xx body: a model, or a media type
    status: int = 200
    body: type[schemas.Strict] | None = None
    query: type[schemas.Query] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    method: str | None = None  # only for a view that serves more than one method
    description: str = ""


OPERATIONS = (
    Operation(
        "api.create_survey", outputs.SurveyOut, 201, body=schemas.SurveyIn, errors={409: "The slug is already taken"}
    ),
    Operation("api.get_survey", outputs.SurveyOut),
    Operation(
        "api.submit_response",
        outputs.Stored,
        201,
        body=schemas.ResponseIn,
        errors={
            409: "The survey is closed, or the invitation was already used",
            403: "An invitation-only survey takes no department submissions",
            429: "Too many wrong invitation tokens, or too many answers, from this address (see Retry-After)",
        },
        description="Give either department (open link) or invitation (personal link). The answer carries the "
        "respondent's own profile, computed from the answers sent and stored nowhere.",
    ),
    Operation(
        "api.self_assessment",
        outputs.SelfAssessment,
        body=schemas.SelfAssessmentIn,
        errors={429: "Too many self-assessments from this address (see Retry-After)"},
        description="Score answers to the statements of the app's questionnaire without a survey: the level "
        "reached, a 0..100 score per level and the next steps toward the level above. Nothing is stored, and the "
        "answer is padded to a fixed length so that no access log can tell one profile from another.",
    ),
    Operation(
        "api.survey_results",
        outputs.Results,
        query=schemas.ResultsQuery,
        errors={404: "No such survey or department", 409: "The survey is not closed: results are not released yet"},
        description="Units may have sub-units: a unit's figures include everyone in its sub-tree, and every "
        "figure hidden anywhere stays hidden everywhere (a parent minus its shown children never gives a hidden "
        "child away). With ?department=CODE, a manager's view of that unit: its own figures, its 'parent' and the "
        "'organisation', its 'children' side by side, 'versus' (the unit against the rest of its parent and of "
        "the organisation) and its 'trend' across rounds (units matched by code).",
    ),
    Operation(
        "api.survey_compare",
        outputs.Comparison,
        query=schemas.CompareQuery,
        errors={
            400: "Unknown level to sort by, or a bad page",
            404: "No such survey, or no such parent unit",
            409: "The survey is not closed: results are not released yet",
        },
        description="Units carry the same figures as in /results (hidden ones only 'suppressed'), filtered by "
        "?parent (its direct sub-units; '*' for the top level), sorted by ?sort and ?order, a page at a time "
        "(?page, ?per_page, default 100; 'paging' says how many there are). 'gaps' lists the largest significant "
        "differences from the rest of the organisation among the units the filter keeps; 'trend' compares with "
        "the previous round on the levels both rounds share (Welch's t-test, Benjamini-Hochberg), for the units "
        "of the page.",
    ),
    Operation(
        "api.survey_report",
        "application/pdf",
        query=schemas.ReportQuery,
        errors={
            400: "Unknown language",
            403: "The department is hidden, or a token of another role",
            404: "No such survey or department",
            409: "Too few responses, or the survey is not closed (results are released when it closes)",
            503: "Chromium (for the charts) is not installed",
        },
    ),
    Operation(
        "api.response_rate",
        outputs.ResponseRate,
        description="A group's size is its headcount, or its number of invitations when there are more. A group "
        "hidden by the confidentiality rules shows neither its count nor its rate, open or closed.",
    ),
    Operation(
        "api.close_survey",
        outputs.Status,
        description="Closing stops answers and releases the results (the database is rebuilt, so nothing in it "
        "tells the order in which answers came).",
    ),
    Operation(
        "api.reopen_survey",
        outputs.Status,
        errors={409: "Results of the closed survey have been read (create the next round instead), or a draft"},
    ),
    Operation(
        "api.list_actions",
        outputs.ActionList,
        query=schemas.ActionsQuery,
        errors={404: "No such survey or department"},
        description="Organisation first, then by department and due date.",
    ),
    Operation(
        "api.create_action",
        outputs.Action,
        201,
        body=schemas.ActionIn,
        description="Unknown levels, themes or departments, impossible dates and over-long texts are refused "
        "with 422 and a message per field.",
    ),
    Operation(
        "api.update_action",
        outputs.Action,
        body=schemas.ActionPatch,
        errors={404: "No such survey or action"},
        description="Send only what changes; null clears department, owner, owner_email or due.",
    ),
    Operation(
        "api.delete_action",
        outputs.Deleted,
        errors={404: "No such survey or action"},
    ),
    Operation(
        "api.survey_followup",
        outputs.FollowUp,
        description="Changes are the trend's cells (Welch's t-test, Benjamini-Hochberg): a cell hidden in either "
        "round stays hidden, and no change is shown before both rounds are closed.",
    ),
    Operation(
        "api.change_survey",
        outputs.SurveyOut,
        body=schemas.SurveyChange,
        errors={
            409: "The change does not fit the survey's state: it has answers (departments), has opened "
            "(opening day), is closed (dates) or is open (archive)"
        },
        description="Send only what changes. A draft opens by itself on opens_at; a survey closes by itself after "
        "closes_at (applied when it is next read, no process needed).",
    ),
    Operation("api.open_survey", outputs.Status, errors={409: "Not a draft"}),
    Operation(
        "api.next_round",
        outputs.SurveyOut,
        201,
        body=schemas.NextRoundIn,
        errors={409: "The slug is already taken"},
        description="The body may be empty ({}). The copy is a draft whose previous round is this survey.",
    ),
    Operation("api.openapi_document", "application/json"),
)

COMMON_ERRORS = {
    "body": {400: "Malformed JSON or invalid UTF-8", 413: "Body over 1 MB", 422: "Invalid values (see fields)"},
    "auth": {401: "Missing or invalid token", 403: "A token of another role"},
    "slug": {404: "No such survey"},
    "query": {400: "Invalid query parameter"},
}


class _Schema(GenerateJsonSchema):
    """JSON schemas without a generated title on every property (the name already says it)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def operation_for(endpoint: str, method: str) -> Operation | None:
    """Return the entry of OPERATIONS for this view and method, if there is one."""
    return next(
        (op for op in OPERATIONS if op.endpoint == endpoint and op.method in (None, method.lower())),
        None,
    )


ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def api_routes(app: Flask) -> list[tuple[Rule, str]]:
    """Return (rule, method) of every route of the API."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def openapi_path(rule: Rule) -> str:
    """Return a route's path as OpenAPI writes it: /surveys/{slug} for /api/v1/surveys/<slug>."""
    return ARGUMENT.sub(r"{\1}", rule.rule.removeprefix(PREFIX))


def _path_parameters(rule: Rule) -> list[dict]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if isinstance(rule._converters[name], IntegerConverter) else "string"},
        }
        for name in ARGUMENT.findall(rule.rule)
    ]


def _query_parameters(model: type[schemas.Query]) -> list[dict]:
    schema = model.model_json_schema(schema_generator=_Schema, ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _not_null(prop)}
        for name, prop in schema["properties"].items()
    ]


def _not_null(prop: dict) -> dict:
    # A query parameter is text or absent, never JSON null: describe only its text form.
    options = [option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"]
    extra = {key: value for key, value in prop.items() if key not in ("anyOf", "default") or len(options) > 1}
    return {**options[0], **extra} if len(options) == 1 else extra


def _content(answer: type[BaseModel] | str | None) -> dict:
    if isinstance(answer, str):
        schema = {"type": "object"} if answer == "application/json" else {"type": "string", "format": "binary"}
        return {answer: {"schema": schema}}
    return {"application/json": {"schema": {"$ref": REF.format(model=answer.__name__)}}}


def _error(description: str) -> dict:
    return {"description": description, "content": _content(outputs.Error)}


def _describe(app: Flask, rule: Rule, op: Operation) -> dict:
    view = app.view_functions[rule.endpoint]
    summary, _, more = (view.__doc__ or rule.endpoint).strip().partition("\n")
    roles = getattr(view, "roles", None)
    path = openapi_path(rule)
    errors: dict[int, str] = {}
    for kind, present in (
        ("body", op.body),
        ("auth", roles is not None),
        ("slug", "{slug}" in path),
        ("query", op.query),
    ):
        if present:
            errors.update(COMMON_ERRORS[kind])
    errors.update(op.errors)
    described = {
        "operationId": rule.endpoint.removeprefix("api."),
        "summary": summary.rstrip("."),
        "parameters": _path_parameters(rule) + (_query_parameters(op.query) if op.query else []),
        "responses": {
            str(op.status): {"description": "Created" if op.status == 201 else "OK", "content": _content(op.answer)},
            **{str(code): _error(text) for code, text in sorted(errors.items())},
        },
    }
    notes = [text for text in (op.description, " ".join(more.split())) if text]
    if roles:
        notes.append(f"Needs a token with role {' or '.join(roles)}.")
    elif roles is not None:
        notes.append("Needs a token of any role.")
    if notes:
        described["description"] = " ".join(notes)
    if roles is not None:
        described["security"] = [{"bearer": []}]
    if op.body:
        described["requestBody"] = {"required": True, "content": _content(op.body)}
    return described


def spec(app: Flask) -> dict:
    """Return the OpenAPI document for /api/v1."""
    paths: dict[str, dict] = {}
    models: set[type[BaseModel]] = {outputs.Error}
    for rule, method in api_routes(app):
        op = operation_for(rule.endpoint, method)
        if op is None:
            continue  # undocumented: tests/test_api.py fails on it
        paths.setdefault(openapi_path(rule), {})[method.lower()] = _describe(app, rule, op)
        models.update(m for m in (op.body, op.answer) if isinstance(m, type))
    _, top = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
        schema_generator=_Schema,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Engagement pyramid survey API",
            "version": "1.0.0",
            "description": "Create surveys, describe them, submit responses and read results that passed the "
            "confidentiality rules. Admin calls take 'Authorization: Bearer <token>' "
            "(flask --app app tokens create --role hr|facilitator).",
        },
        "servers": [{"url": PREFIX}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": top.get("$defs", {}),
        },
        "paths": dict(sorted(paths.items())),
    }
