"""GET /api/v1/surveys/<slug>/rate: the response rate, overall and per department, as it may be shown."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from .. import rates, surveys
from ..db import get_db
from ..errors import AppError
from . import bp, require_token


@bp.get("/surveys/<slug>/rate")
@require_token("hr", "facilitator")
def response_rate(slug: str):
    """Return the survey's response rate; a department below the threshold shows no count or rate."""
    db = get_db()
    survey = surveys.get_survey(db, slug)
    if survey is None:
        raise AppError(_("There is no survey '%(slug)s'.", slug=slug), 404)
    return jsonify(rates.rates_json(survey, rates.response_rates(db, survey)))
