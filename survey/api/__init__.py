"""JSON API under /api/v1: surveys, responses, the OpenAPI description."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from pydantic import ValidationError

from .. import (
    accounts,
    compare,
    ephemeral,
    followup,
    invitations,
    report,
    responses,
    results,
    schemas,
    surveys,
    throttle,
)
from .. import profile as profiles
from ..db import InvitationUsed, get_db, get_writer
from ..errors import AppError
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def require_token(*roles: str) -> Callable:
    """Require `Authorization: Bearer <token>` of one of `roles`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _sep, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AppError(
                    _("Send an API token: 'Authorization: Bearer <token>' (flask --app app tokens create)."), 401
                )
            found = accounts.token_for(get_db(), token.strip())
            if found is None:
                raise AppError(_("The API token is not valid."), 401)
            role = found["role"]
            if roles and role not in roles:
                raise AppError(_("This call needs a token with role %(roles)s.", roles=" or ".join(roles)), 403)
            g.token_role, g.token_id = role, found["id"]
            # The token speaks for itself: a browser's session cookie sent along does not.
            g.user = None
            return view(*args, **kwargs)

        wrapped.roles = roles  # the OpenAPI document reads who may call this
        return wrapped

    return decorator


def _has_lone_surrogate(value: object) -> bool:
    """Return True when any string in parsed JSON holds a lone surrogate (not encodable as UTF-8)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_body() -> dict:
    """Parse the request body as a JSON object, or raise a 400 that says what is wrong."""
    raw = request.get_data(cache=True)
    if not raw:
        raise AppError(_("The request body is empty; send a JSON object."), 400)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AppError(_("The request body is not valid UTF-8 (byte %(n)s).", n=exc.start), 400) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = _(
            "Malformed JSON at line %(line)s, column %(column)s: %(error)s.",
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        )
        raise AppError(message, 400) from exc
    except RecursionError as exc:
        raise AppError(_("The JSON is nested too deeply."), 400) from exc
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise AppError(_("The JSON could not be read: %(error)s", error=str(exc)[:200]), 400) from exc
    if _has_lone_surrogate(data):
        raise AppError(
            _("The JSON holds an invalid \\u escape (a lone UTF-16 surrogate); send valid Unicode text."), 400
        )
    if not isinstance(data, dict):
        raise AppError(_("Send a JSON object ({...}) as the request body."), 400)
    return data


def invitation_only() -> str:
    """Say that an invitation-only survey needs an invitation token."""
    return _(
        "This survey accepts answers only through personal invitations: send {invitation: token} instead of a "
        "department."
    )


def not_open_yet(survey: surveys.Survey) -> str:
    """Say that a draft takes no answers yet, and when it opens if that is known."""
    if survey.opens_at:
        return _("This survey is not open yet; it opens on %(day)s.", day=survey.opens_at)
    return _("This survey is not open yet.")


def open_link_limit() -> tuple[str, int, int]:
    """Return how this client's submissions without an invitation are counted (client, limit, window)."""
    config = current_app.config
    return throttle.submission_client(), int(config["OPEN_SUBMIT_LIMIT"]), int(config["OPEN_SUBMIT_WINDOW"])


def parse(model: type[schemas.Strict], data: dict, error: str, context: dict | None = None):
    """Validate a request body with its model, or raise a 422 {error, fields} in the model's own words."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise AppError(error, 422, schemas.field_errors(exc, model)) from exc


def query(model: type[schemas.Query], context: dict | None = None):
    """Validate the query string with its model, or raise a 400 that says what to fix."""
    try:
        return model.model_validate(request.args.to_dict(), context=context)
    except ValidationError as exc:
        fields = schemas.field_errors(exc, model)
        raise AppError(schemas.first_message(fields), 400, fields) from exc


def _survey_or_404(slug: str) -> surveys.Survey:
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        raise AppError(_("There is no survey '%(slug)s'.", slug=slug), 404)
    return survey


@bp.post("/surveys")
@require_token("hr")
def create_survey():
    """Create a survey from the instrument in questions.yaml."""
    body = parse(schemas.SurveyIn, json_body(), _("Invalid survey."))
    config = current_app.config
    min_k = body.min_group_size if body.min_group_size is not None else config["DEFAULT_MIN_GROUP_SIZE"]
    # The comment threshold defaults to 10, but never below the survey's own minimum group size.
    comment_k = body.comment_min_group_size
    if comment_k is None:
        comment_k = max(config["DEFAULT_COMMENT_MIN_GROUP_SIZE"], min_k)
    instrument = current_app.extensions["instrument"]
    try:
        survey = surveys.create_survey(
            get_db(),
            instrument.short() if body.instrument == "short" else instrument,
            title=body.title,
            slug=body.slug,
            language=body.language,
            departments=[dept.model_dump(exclude_none=True) for dept in body.departments],
            min_group_size=min_k,
            comment_min_group_size=comment_k,
            collection=body.collection,
            previous=body.previous,
            small_groups=body.small_groups,
            draft=body.draft,
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            followup_statement=body.followup_statement,
        )
    except surveys.SurveyError as exc:
        raise AppError(_("Invalid survey."), 409 if exc.slug_taken else 422, exc.fields) from exc
    summary = surveys.survey_summary(get_db(), survey)
    summary["links"] = {"open": f"/s/{survey.slug}"}
    return jsonify(summary), 201


@bp.patch("/surveys/<slug>")
@require_token("hr")
def change_survey(slug: str):
    """Change a survey's dates, its departments (until the first answer) or whether it is archived."""
    db = get_db()
    survey = _survey_or_404(slug)
    body = parse(schemas.SurveyChange, json_body(), _("Invalid change."))
    sent = body.model_fields_set
    if "departments" in sent:
        if body.departments is None:
            raise AppError(_("Invalid change."), 422, {"departments": _("Add at least one department.")})
        try:
            surveys.update_departments(db, survey, [d.model_dump(exclude_none=True) for d in body.departments])
        except surveys.SurveyError as exc:
            raise AppError(_("Invalid change."), 409 if exc.conflict else 422, exc.fields) from exc
    if sent & {"opens_at", "closes_at"}:
        opens_at = body.opens_at if "opens_at" in sent else (survey.opens_at if survey.is_draft else None)
        closes_at = body.closes_at if "closes_at" in sent else survey.closes_at
        survey = surveys.set_schedule(db, survey, opens_at, closes_at)
    if "archived" in sent and body.archived is not None:
        survey = surveys.archive(db, survey) if body.archived else surveys.unarchive(db, survey)
    return jsonify(surveys.survey_summary(db, surveys.get_survey(db, slug)))


@bp.post("/surveys/<slug>/open")
@require_token("hr")
def open_survey(slug: str):
    """Open a draft for answers today."""
    survey = surveys.open_now(get_db(), _survey_or_404(slug))
    return jsonify({"slug": slug, "status": survey.status})


@bp.post("/surveys/<slug>/next-round")
@require_token("hr")
def next_round(slug: str):
    """Copy a survey as its next round: a draft with the same questionnaire, settings and departments."""
    survey = _survey_or_404(slug)
    # The body may be left out (an empty one means: the same title, an address made from it).
    data = json_body() if request.get_data(cache=True) else {}
    body = parse(schemas.NextRoundIn, data, _("Invalid survey."))
    try:
        copy = surveys.copy_as_next_round(get_db(), survey, body.title or survey.title, body.slug)
    except surveys.SurveyError as exc:
        raise AppError(_("Invalid survey."), 409 if exc.slug_taken else 422, exc.fields) from exc
    summary = surveys.survey_summary(get_db(), copy)
    summary["links"] = {"open": f"/s/{copy.slug}"}
    return jsonify(summary), 201


@bp.get("/surveys/<slug>")
def get_survey(slug: str):
    """Describe a survey and its instrument (public: respondents' clients need it)."""
    survey = _survey_or_404(slug)
    return jsonify(surveys.survey_summary(get_db(), survey))


@bp.post("/surveys/<slug>/responses")
def submit_response(slug: str):
    """Store one response, with a department code or a personal invitation token."""
    db = get_db()
    survey = _survey_or_404(slug)
    data = json_body()
    if survey.is_draft:
        raise AppError(not_open_yet(survey), 409)
    if not survey.is_open:
        raise AppError(_("This survey is closed and accepts no more answers."), 409)
    max_comment = current_app.config["MAX_COMMENT_LENGTH"]
    asks_followup = followup.statement(db, survey) is not None
    context = schemas.answers_context(survey.instrument, max_comment, followup=asks_followup)
    body = parse(schemas.ResponseIn, data, _("Invalid response."), context)
    if body.invitation is not None:
        # Counted before the token is looked up (one atomic step), given back when it is real.
        wait = throttle.take_token_attempt()
        if wait:
            raise AppError(
                _("Too many wrong invitation tokens from this address; try again in %(n)s seconds.", n=wait),
                429,
                headers={"Retry-After": str(wait)},
            )
        inv = invitations.find_invitation(db, body.invitation)
        if inv is None or inv["slug"] != survey.slug:
            fields = {"invitation": _("Unknown invitation token for this survey.")}
            raise AppError(_("Invalid response."), 422, fields)
        throttle.right_token()
        if inv["used"]:
            raise AppError(_("This invitation has already been used."), 409)
        invitation_id, dept_id = inv["id"], inv["department_id"]
    else:
        if survey.invitation_only:
            raise AppError(invitation_only(), 403)
        dept = surveys.department_by_code(db, survey, body.department)
        if dept is None:
            fields = {"department": _("Unknown department code; see GET /surveys/<slug>.")}
            raise AppError(_("Invalid response."), 422, fields)
        invitation_id, dept_id = None, dept.id
    try:
        sub = responses.validate(survey, dept_id, body.answers, body.enps, body.comment, max_comment, body.followup)
    except responses.ResponseError as exc:
        raise AppError(_("Invalid response."), 422, exc.fields) from exc
    try:
        responses.submit(get_writer(), survey, sub, invitation_id, throttle=open_link_limit())
    except InvitationUsed as exc:
        raise AppError(_("This invitation has already been used."), 409) from exc
    except responses.SurveyClosed as exc:
        raise AppError(_("This survey is closed and accepts no more answers."), 409) from exc
    except responses.InvitationRequired as exc:
        raise AppError(invitation_only(), 403) from exc
    except responses.Throttled as exc:
        raise AppError(
            _("Too many answers from this address; try again in %(n)s seconds.", n=exc.wait),
            429,
            headers={"Retry-After": str(exc.wait)},
        ) from exc
    # The respondent's own profile, from the answers just stored: in this answer only, never kept.
    profile = profiles.as_json(profiles.compute(survey.instrument, sub.answers))
    return ephemeral.json_response({"status": "stored", "answered": len(sub.answers), "profile": profile}, 201)


@bp.post("/self-assessment")
def self_assessment():
    """Score a self-assessment without a survey; nothing is stored."""
    instrument = current_app.extensions["instrument"]
    items = [item.id for item in instrument.items]
    body = parse(schemas.SelfAssessmentIn, json_body(), "Invalid self-assessment.", {"items": items})
    wait = throttle.self_assessment_wait()
    if wait is not None:
        raise AppError(
            f"Too many self-assessments from this address; try again in {wait} seconds.",
            429,
            headers={"Retry-After": str(wait)},
        )
    profile = profiles.compute(instrument, body.answers)
    answer = {
        **profiles.as_json(profile),
        "name": profiles.level_name(instrument, profile, body.language),
        "typical": profiles.typical(instrument, profile, body.language),
        "next_steps": profiles.next_steps(instrument, profile, body.language),
    }
    return ephemeral.json_response(answer)


@bp.get("/surveys/<slug>/results")
@require_token("hr", "facilitator")
def survey_results(slug: str):
    """Return the survey's results, with every group below the threshold hidden."""
    survey = _survey_or_404(slug)
    department = query(schemas.ResultsQuery).department
    try:
        body = results.survey_results(get_db(), survey, department)
    except results.UnknownDepartment as exc:
        raise AppError(_("Survey '%(slug)s' has no department '%(code)s'.", slug=slug, code=department), 404) from exc
    if department is not None:
        body = {**body, "trend": compare.unit_trend(get_db(), survey, body["department"])}
    return jsonify({"slug": survey.slug, "status": survey.status, "min_group_size": survey.min_group_size, **body})


@bp.get("/surveys/<slug>/compare")
@require_token("hr", "facilitator")
def survey_compare(slug: str):
    """Compare the departments side by side and the survey with its previous round (privacy applied)."""
    survey = _survey_or_404(slug)
    levels = [level.id for level in survey.instrument.levels]
    args = query(schemas.CompareQuery, {"levels": [*levels, *compare.SORT_KEYS]})
    descending = None if args.order is None else args.order == "desc"
    try:
        body = compare.comparison(
            get_db(), survey, args.sort, args.parent, args.page or 1, args.per_page or DEFAULT_PER_PAGE, descending
        )
    except results.UnknownDepartment as exc:
        raise AppError(f"Survey '{slug}' has no department '{args.parent}'.", 404) from exc
    return jsonify(body)


DEFAULT_PER_PAGE = 100


@bp.get("/surveys/<slug>/report.pdf")
@require_token("hr", "facilitator")
def survey_report(slug: str):
    """Return the PDF report; comments are for the HR role only."""
    survey = _survey_or_404(slug)
    args = query(schemas.ReportQuery)
    lang = args.lang or survey.language
    try:
        hr = g.token_role == "hr"  # noqa: S105 (a role name, not a password)
        pdf = report.make_report(get_db(), survey, lang, args.department, with_comments=hr)
    except report.ReportError as exc:
        raise AppError(str(exc), exc.status) from exc
    name = report.report_filename(survey, lang, args.department)
    return report.pdf_response(pdf, name)


@bp.post("/surveys/<slug>/close")
@require_token("hr")
def close_survey(slug: str):
    """Close a survey: no more answers; its results are released."""
    survey = _survey_or_404(slug)
    if survey.status == "draft":
        raise AppError(
            _("'%(slug)s' is a draft that was never opened; delete it instead of closing it.", slug=slug), 409
        )
    surveys.close(get_db(), survey)
    return jsonify({"slug": slug, "status": "closed"})


@bp.post("/surveys/<slug>/reopen")
@require_token("hr")
def reopen_survey(slug: str):
    """Take answers again, unless results of the closed survey have been read (409)."""
    survey = _survey_or_404(slug)
    if survey.is_open:
        return jsonify({"slug": slug, "status": "open"})
    if survey.status == "draft":
        raise AppError(_("'%(slug)s' is a draft; open it with POST /surveys/%(slug)s/open.", slug=slug), 409)
    surveys.reopen_survey(get_db(), survey)
    return jsonify({"slug": slug, "status": "open"})


@bp.get("/openapi.json")
def openapi_document():
    """Describe this API in OpenAPI 3.1."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = spec(current_app)
    return jsonify(current_app.extensions["openapi"])


# Importing these adds their routes to bp.
from . import actions_view, rate_view  # noqa: E402,F401
