"""HR page that deletes a survey and everything derived from it, after a confirmation naming what is lost."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import retention
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404
from .forms import DeleteForm


@bp.route("/surveys/<slug>/delete", methods=["GET", "POST"])
@login_required("hr")
def delete_survey(slug: str):
    """Ask for confirmation (typing the address), then delete the survey for good."""
    db = get_db()
    survey = survey_or_404(slug)
    form = DeleteForm()
    status = 200
    if form.validate_on_submit():
        if (form.confirm.data or "").strip() == survey.slug:
            lost = retention.delete_survey(db, survey)
            flash(
                _(
                    "“%(title)s” is deleted with its %(responses)s responses, %(comments)s comments and "
                    "%(invitations)s invitations.",
                    title=survey.title,
                    responses=lost.responses,
                    comments=lost.comments,
                    invitations=lost.invitations,
                ),
                "ok",
            )
            return redirect(url_for("admin.surveys_list"), 303)
        form.confirm.errors = [*form.confirm.errors, _("Type the address exactly: %(slug)s", slug=survey.slug)]
        status = 400
    elif form.errors:
        status = 400
    return render_template("admin/delete.html", survey=survey, form=form, lost=retention.loss(db, survey)), status
