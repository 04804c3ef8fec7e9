"""Action plan pages: list and filter, add (also in one click from a recommendation), edit, notes, print, export."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from .. import action_labels, actions, scoring, surveys
from ..db import get_db
from ..security import login_required
from . import _safe_next, bp, survey_or_404
from .workshop_forms import NoteForm, PlanActionForm

FIELDS = ("level", "theme", "title", "department", "owner", "owner_email", "due", "status", "note")
LANGS = ("nb", "nn", "en")


def text_lang() -> str:
    """Return the language of questionnaire texts on this page (level names, recommendations)."""
    return g.get("lang") if g.get("lang") in LANGS else "en"


def fill_choices(form: PlanActionForm | NoteForm, survey: surveys.Survey) -> None:
    """Give a form's select fields their options: levels, themes, departments and statuses."""
    lang = text_lang()
    if isinstance(form, PlanActionForm):
        form.level.choices = [SelectChoice(lv.id, lv.name[lang]) for lv in survey.instrument.levels]
        form.theme.choices = [SelectChoice(key, str(label)) for key, label in action_labels.THEMES.items()]
        form.department.choices = [SelectChoice("", _("The whole organisation"))] + [
            SelectChoice(d.code, d.name) for d in surveys.departments(get_db(), survey)
        ]
        form.status.choices = [SelectChoice(key, str(label)) for key, label in action_labels.STATUSES.items()]
    else:
        form.status.choices = [SelectChoice("", _("– unchanged –"))] + [
            SelectChoice(key, str(label)) for key, label in action_labels.STATUSES.items()
        ]


def _author() -> str:
    return g.user["email"]


def _page_context(survey: surveys.Survey) -> dict:
    db = get_db()
    status = request.args.get("status") or None
    department = request.args.get("department") or None
    if status not in (None, *actions.STATUSES):
        status = None
    found = actions.list_actions(db, survey, status, department)
    return {
        "survey": survey,
        "found": found,
        "history": actions.notes_by_action(db, survey),
        "cells": actions.level_cells(db, survey),
        "counts": actions.counts(db, survey),
        "departments": surveys.departments(db, survey),
        "status": status,
        "department": department,
        "levels": {lv.id: lv for lv in survey.instrument.levels},
        "tl": text_lang(),
        "themes": action_labels.THEMES,
        "statuses": action_labels.STATUSES,
        "hidden_reason": action_labels.hidden_reason,
        "today": actions.today(),
        "is_overdue": actions.is_overdue,
    }


@bp.route("/surveys/<slug>/actions")
@login_required("hr", "facilitator")
def actions_page(slug: str):
    """Show the survey's action plan, filtered by status or department, with a form to add an action."""
    survey = survey_or_404(slug)
    form = PlanActionForm(formdata=None)
    fill_choices(form, survey)
    return render_template("admin/actions.html", form=form, **_page_context(survey))


@bp.route("/surveys/<slug>/actions", methods=["POST"])
@login_required("hr", "facilitator")
def action_create(slug: str):
    """Add an action (from the plan's form, or with one click from a recommendation: `next` leads back)."""
    db = get_db()
    survey = survey_or_404(slug)
    form = PlanActionForm()
    fill_choices(form, survey)
    if not form.validate_on_submit():
        abort(400, description="The form could not be read; reload the page and try again.")
    try:
        action = actions.create_action(db, survey, actions.parse_new(db, survey, form.values(FIELDS)), _author())
    except actions.ActionError as exc:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        flash(_("The action was not added: see the messages in the form."), "error")
        return render_template("admin/actions.html", form=form, **_page_context(survey)), 422
    flash(_("Added to the action plan: %(title)s", title=action["title"]), "ok")
    if form.next.data:
        return redirect(_safe_next(form.next.data))
    return redirect(url_for("admin.actions_page", slug=slug))


def _action_or_404(survey: surveys.Survey, action_id: int) -> dict:
    action = actions.get_action(get_db(), survey, action_id)
    if action is None:
        abort(404, description=f"Survey '{survey.slug}' has no action {action_id}.")
    return action


def _edit_page(survey: surveys.Survey, action: dict, form: PlanActionForm, note_form: NoteForm, status: int = 200):
    db = get_db()
    cells = actions.level_cells(db, survey)
    return (
        render_template(
            "admin/action_edit.html",
            survey=survey,
            action=action,
            form=form,
            note_form=note_form,
            history=actions.notes(db, action["id"]),
            cell=cells.get((action["department"] or "", action["level"])) if cells is not None else None,
            released=cells is not None,
            levels={lv.id: lv for lv in survey.instrument.levels},
            tl=text_lang(),
            themes=action_labels.THEMES,
            statuses=action_labels.STATUSES,
            hidden_reason=action_labels.hidden_reason,
        ),
        status,
    )


@bp.route("/surveys/<slug>/actions/<int:action_id>")
@login_required("hr", "facilitator")
def action_page(slug: str, action_id: int):
    """Show one action: edit it, read its history, add a progress note."""
    survey = survey_or_404(slug)
    action = _action_or_404(survey, action_id)
    form = PlanActionForm(formdata=None, data={**action, "department": action["department"] or ""})
    fill_choices(form, survey)
    note_form = NoteForm(formdata=None)
    fill_choices(note_form, survey)
    return _edit_page(survey, action, form, note_form)


@bp.route("/surveys/<slug>/actions/<int:action_id>", methods=["POST"])
@login_required("hr", "facilitator")
def action_update(slug: str, action_id: int):
    """Save changes to an action; a status change goes into its history."""
    db = get_db()
    survey = survey_or_404(slug)
    action = _action_or_404(survey, action_id)
    form = PlanActionForm()
    fill_choices(form, survey)
    if not form.validate_on_submit():
        abort(400, description="The form could not be read; reload the page and try again.")
    values = form.values(FIELDS[:-1])
    # Every field of the edit form is sent: a blank optional field clears it.
    for name in ("department", "owner", "owner_email", "due"):
        values.setdefault(name, None)
    try:
        actions.update_action(db, survey, action_id, actions.parse_patch(db, survey, values), _author())
    except actions.ActionError as exc:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        note_form = NoteForm(formdata=None)
        fill_choices(note_form, survey)
        return _edit_page(survey, action, form, note_form, 422)
    flash(_("The action was saved."), "ok")
    return redirect(url_for("admin.action_page", slug=slug, action_id=action_id))


@bp.route("/surveys/<slug>/actions/<int:action_id>/notes", methods=["POST"])
@login_required("hr", "facilitator")
def action_note(slug: str, action_id: int):
    """Add a progress note to an action, optionally changing its status."""
    db = get_db()
    survey = survey_or_404(slug)
    action = _action_or_404(survey, action_id)
    note_form = NoteForm()
    fill_choices(note_form, survey)
    if not note_form.validate_on_submit():
        abort(400, description="The form could not be read; reload the page and try again.")
    values = {"note": (note_form.note.data or "").replace("\r\n", "\n").strip() or None}
    if note_form.status.data:
        values["status"] = note_form.status.data
    values = {name: value for name, value in values.items() if value is not None}
    try:
        actions.update_action(db, survey, action_id, actions.parse_patch(db, survey, values), _author())
    except actions.ActionError as exc:
        note_form.note.errors = [*note_form.note.errors, *exc.fields.values()]
        form = PlanActionForm(formdata=None, data={**action, "department": action["department"] or ""})
        fill_choices(form, survey)
        return _edit_page(survey, action, form, note_form, 422)
    flash(_("The note was added to the action's history."), "ok")
    return redirect(url_for("admin.action_page", slug=slug, action_id=action_id))


@bp.route("/surveys/<slug>/actions/<int:action_id>/delete", methods=["POST"])
@login_required("hr")
def action_delete(slug: str, action_id: int):
    """Delete an action and its history (HR only)."""
    survey = survey_or_404(slug)
    action = _action_or_404(survey, action_id)
    note_form = NoteForm()
    if not note_form.validate_on_submit():
        abort(400, description="The form could not be read; reload the page and try again.")
    actions.delete_action(get_db(), survey, action_id)
    flash(_("Deleted: %(title)s", title=action["title"]), "ok")
    return redirect(url_for("admin.actions_page", slug=slug))


@bp.route("/surveys/<slug>/actions/print")
@login_required("hr", "facilitator")
def actions_print(slug: str):
    """Show the plan on one printable page (print CSS): what, who, when, status."""
    db = get_db()
    survey = survey_or_404(slug)
    return render_template(
        "admin/actions_print.html",
        survey=survey,
        found=[a for a in actions.list_actions(db, survey) if a["status"] != "dropped"],
        levels={lv.id: lv for lv in survey.instrument.levels},
        tl=text_lang(),
        themes=action_labels.THEMES,
        statuses=action_labels.STATUSES,
        today=actions.today(),
    )


@bp.route("/surveys/<slug>/actions.<fmt>")
@login_required("hr", "facilitator")
def actions_export(slug: str, fmt: str):
    """Download the plan as CSV or XLSX, with every action's history."""
    if fmt not in ("csv", "xlsx"):
        abort(404, description="Export the plan as .csv or .xlsx.")
    db = get_db()
    survey = survey_or_404(slug)
    if fmt == "csv":
        data, mimetype = actions.plan_csv(db, survey), "text/csv"
    else:
        data, mimetype = (
            actions.plan_xlsx(db, survey),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    headers = {
        "Content-Disposition": f'attachment; filename="action-plan-{survey.slug}.{fmt}"',
        "Cache-Control": "no-store",
    }
    return Response(data, mimetype=mimetype, headers=headers)


@bp.app_template_global()
def score_band(score: float) -> str:
    """Return the band (low, medium, high) of a 0-100 score, which chooses the questionnaire's advice."""
    return scoring.band(score)


@bp.app_template_global()
def action_theme(theme: str) -> str:
    """Return a theme's name, in words."""
    return str(action_labels.THEMES.get(theme, theme))


@bp.app_template_global()
def action_status(status: str) -> str:
    """Return a status's name, in words."""
    return str(action_labels.STATUSES.get(status, status))
