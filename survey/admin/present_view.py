"""Presentation mode for the workshop: a setup page, and the deck shown full screen on a projector."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import force_locale

from .. import action_labels, compare, privacy
from ..db import get_db
from ..present import deck
from ..security import login_required
from . import bp, survey_or_404
from .results_view import not_released

LANGS = ("nb", "nn", "en")


@bp.route("/surveys/<slug>/present/setup")
@login_required("hr", "facilitator")
def present_setup(slug: str):
    """Choose the departments for the radar, read the keys, and start the presentation."""
    survey = survey_or_404(slug)
    if not survey.is_closed:
        return not_released(survey)
    body = compare.comparison(get_db(), survey)
    return render_template(
        "admin/present_setup.html",
        survey=survey,
        body=body,
        max_overlay=compare.MAX_OVERLAY,
    )


@bp.route("/surveys/<slug>/present")
@login_required("hr", "facilitator")
def present(slug: str):
    """Show the deck: one view per screen, keyboard navigation, in the survey's language (closed surveys only)."""
    survey = survey_or_404(slug)
    if not survey.is_closed:
        return not_released(survey)
    # The room reads the survey's language, whatever the facilitator's own pages use.
    lang = survey.language if survey.language in LANGS else "en"
    data = deck(get_db(), survey, request.args.getlist("d"), lang)
    figures = data.pop("figures", {})
    inst = survey.instrument
    with force_locale(lang):
        return render_template(
            "present/deck.html",
            survey=survey,
            inst=inst,
            tl=lang,
            levels={lv.id: lv for lv in inst.levels},
            k=privacy.effective_k(survey.min_group_size),
            themes=action_labels.THEMES,
            statuses=action_labels.STATUSES,
            figures=figures,
            **data,
        )
