"""HR pages for a survey's life: open a draft, set its dates, edit departments, archive, copy as the next round."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import surveys
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404
from .forms import ActionForm
from .life_forms import DepartmentsForm, NextRoundForm, ScheduleForm, department_lines


def _checked(form) -> None:
    """Refuse a state change without a valid form (CSRF token) with 400."""
    if not form.validate_on_submit():
        abort(400, description=_("Send the form from the survey page."))


def _back(slug: str):
    return redirect(url_for("admin.detail", slug=slug), 303)


@bp.route("/surveys/<slug>/open", methods=["POST"])
@login_required("hr")
def open_survey(slug: str):
    """Open a draft for answers today."""
    survey = survey_or_404(slug)
    _checked(ActionForm())
    try:
        surveys.open_now(get_db(), survey)
    except surveys.LifeCycleError as exc:
        flash(exc.error, "error")
    else:
        flash(_("The survey is open: its links take answers from now on."), "ok")
    return _back(slug)


@bp.route("/surveys/<slug>/schedule", methods=["POST"])
@login_required("hr")
def schedule(slug: str):
    """Set a draft's opening day and the last day for answers (empty: by hand)."""
    survey = survey_or_404(slug)
    form = ScheduleForm()
    if not form.validate_on_submit():
        problems = " ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(_("The dates were not changed: %(problems)s", problems=problems), "error")
        return _back(slug)
    opens_at = form.opens_at.data.isoformat() if form.opens_at.data and survey.is_draft else None
    if survey.is_open:
        opens_at = survey.opens_at
    try:
        survey = surveys.set_schedule(get_db(), survey, opens_at, form.closes_day)
    except surveys.LifeCycleError as exc:
        flash(_("The dates were not changed: %(problems)s", problems=exc.error), "error")
        return _back(slug)
    flash(_("The dates are saved."), "ok")
    return _back(slug)


@bp.route("/surveys/<slug>/departments", methods=["GET", "POST"])
@login_required("hr")
def edit_departments(slug: str):
    """Change the departments and headcounts, until the first answer arrives."""
    db = get_db()
    survey = survey_or_404(slug)
    locked = surveys.response_count(db, survey) > 0
    form = DepartmentsForm()
    status = 200
    if form.validate_on_submit() and not locked:
        try:
            surveys.update_departments(db, survey, form.parsed_departments)
        except surveys.SurveyError as exc:
            form.departments.errors = [*form.departments.errors, *exc.fields.values()]
        else:
            flash(_("The departments are saved."), "ok")
            return _back(slug)
    if form.errors or (locked and form.is_submitted()):
        status = 409 if locked else 400
    if not form.is_submitted():
        form.departments.data = department_lines(surveys.departments(db, survey))
    return render_template("admin/departments.html", survey=survey, form=form, locked=locked), status


@bp.route("/surveys/<slug>/archive", methods=["POST"])
@login_required("hr")
def archive(slug: str):
    """Move a closed survey or a draft out of the main list."""
    survey = survey_or_404(slug)
    _checked(ActionForm())
    try:
        surveys.archive(get_db(), survey)
    except surveys.LifeCycleError as exc:
        flash(exc.error, "error")
        return _back(slug)
    flash(_("“%(title)s” is archived: it is listed under Archived.", title=survey.title), "ok")
    return redirect(url_for("admin.surveys_list"), 303)


@bp.route("/surveys/<slug>/unarchive", methods=["POST"])
@login_required("hr")
def unarchive(slug: str):
    """Bring an archived survey back into the main list."""
    survey = survey_or_404(slug)
    _checked(ActionForm())
    surveys.unarchive(get_db(), survey)
    flash(_("“%(title)s” is back in the list of surveys.", title=survey.title), "ok")
    return _back(slug)


@bp.route("/surveys/<slug>/next-round", methods=["GET", "POST"])
@login_required("hr")
def next_round(slug: str):
    """Copy a survey as its next round: a draft with the same questionnaire, settings and departments."""
    db = get_db()
    survey = survey_or_404(slug)
    form = NextRoundForm()
    if not form.is_submitted():
        form.title.data = survey.title
    elif form.validate():
        try:
            copy = surveys.copy_as_next_round(
                db, survey, form.title.data, (form.slug.data or "").strip().lower() or None
            )
        except surveys.SurveyError as exc:
            for name, message in exc.fields.items():
                form._fields.get(name, form.title).errors.append(message)
        else:
            flash(
                _(
                    "The next round “%(title)s” is ready as a draft. Check its departments and dates, then open it.",
                    title=copy.title,
                ),
                "ok",
            )
            return redirect(url_for("admin.detail", slug=copy.slug), 303)
    status = 400 if form.errors else 200
    return render_template("admin/next_round.html", survey=survey, form=form), status
