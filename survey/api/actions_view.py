"""The action plan and the follow-up between rounds in the JSON API: /surveys/<slug>/actions, /followup."""

from __future__ import annotations

from flask import g, jsonify

from .. import actions, followup, schemas
from ..db import get_db
from ..errors import AppError
from . import _survey_or_404, bp, json_body, parse, query, require_token


def _author() -> str:
    return f"API token ({g.token_role})"


def _context() -> dict:
    return actions.validation_context(get_db(), g.survey)


def _action_or_404(slug: str, action_id: int) -> dict:
    action = actions.get_action(get_db(), g.survey, action_id)
    if action is None:
        raise AppError(f"Survey '{slug}' has no action {action_id}.", 404)
    return action


@bp.get("/surveys/<slug>/actions")
@require_token("hr", "facilitator")
def list_actions(slug: str):
    """Return the survey's action plan (organisation and departments), each action with its history."""
    db = get_db()
    survey = _survey_or_404(slug)
    args = query(schemas.ActionsQuery)
    known = {*actions.validation_context(db, survey)["departments"], actions.ORGANISATION}
    if args.department and args.department.lower() not in known:
        raise AppError(f"Survey '{slug}' has no department '{args.department}'.", 404)
    history = actions.notes_by_action(db, survey)
    found = actions.list_actions(db, survey, args.status, args.department)
    return jsonify({"slug": survey.slug, "actions": [actions.as_json(a, history.get(a["id"], [])) for a in found]})


@bp.post("/surveys/<slug>/actions")
@require_token("hr", "facilitator")
def create_action(slug: str):
    """Add an action to the survey's plan (for the whole organisation, or one department)."""
    db = get_db()
    g.survey = _survey_or_404(slug)
    body = parse(schemas.ActionIn, json_body(), "Invalid action.", _context())
    try:
        action = actions.create_action(db, g.survey, body, _author())
    except actions.ActionError as exc:
        raise AppError("Invalid action.", 422, exc.fields) from exc
    return jsonify(actions.as_json(action, actions.notes(db, action["id"]))), 201


@bp.patch("/surveys/<slug>/actions/<int:action_id>")
@require_token("hr", "facilitator")
def update_action(slug: str, action_id: int):
    """Change an action: the fields sent change; a status change and a note go into its history."""
    db = get_db()
    g.survey = _survey_or_404(slug)
    _action_or_404(slug, action_id)
    patch = parse(schemas.ActionPatch, json_body(), "Invalid change.", _context())
    try:
        action = actions.update_action(db, g.survey, action_id, patch, _author())
    except actions.ActionError as exc:
        raise AppError("Invalid change.", 422, exc.fields) from exc
    if action is None:
        raise AppError(f"Survey '{slug}' has no action {action_id}.", 404)
    return jsonify(actions.as_json(action, actions.notes(db, action_id)))


@bp.delete("/surveys/<slug>/actions/<int:action_id>")
@require_token("hr")
def delete_action(slug: str, action_id: int):
    """Delete an action and its history (HR only)."""
    g.survey = _survey_or_404(slug)
    if not actions.delete_action(get_db(), g.survey, action_id):
        raise AppError(f"Survey '{slug}' has no action {action_id}.", 404)
    return jsonify({"id": action_id, "deleted": True})


@bp.get("/surveys/<slug>/followup")
@require_token("hr", "facilitator")
def survey_followup(slug: str):
    """Return the previous round's actions, each with its status and the change of its level since then."""
    survey = _survey_or_404(slug)
    return jsonify(followup.since_last_time(get_db(), survey))
