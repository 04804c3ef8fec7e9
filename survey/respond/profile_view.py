"""The respondent's own pyramid: on the thank-you page after answering, and the self-assessment at /self.

A profile is computed in memory from the answers just sent and answered at once (200, never a
redirect): it is in no table, log, session, cookie, address or cache, and it is gone when the
page is left. Only the self-assessment's throttle counts something: how often a client used it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from flask import current_app, g, render_template, request, session

from .. import csrf, ephemeral, throttle
from .. import profile as profiles
from ..i18n import DEFAULT, browser_lang, set_lang
from ..questionnaire import LANGUAGES, Instrument
from ..surveys import Survey
from . import bp
from .forms import build_form


def _closes_on(survey: Survey) -> dt.date | None:
    try:
        return dt.date.fromisoformat((survey.closes_at or "")[:10])
    except ValueError:
        return None


def thanks_with_profile(survey: Survey, answers: dict[str, int]):
    """Answer a stored submission with the thank-you page and the respondent's own profile (kept nowhere)."""
    inst = survey.instrument
    page = render_template(
        "respond/thanks.html",
        survey=survey,
        profile=profiles.view(inst, profiles.compute(inst, answers), g.lang),
        closes_on=_closes_on(survey),
    )
    return ephemeral.html(page)


def self_lang() -> str:
    """Return the self-assessment's language: ?lang= (nb, nn or en), the session's choice, or the browser's.

    Unlike the survey pages it writes nothing to the session: the self-assessment keeps nothing.
    """
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    remembered = session.get("lang")
    return remembered if remembered in LANGUAGES else (browser_lang() or DEFAULT)


def self_instrument() -> Instrument:
    """Return the instrument of the self-assessment: the statements of questions.yaml, without eNPS or comment."""
    return replace(current_app.extensions["instrument"], enps=None, comment=None)


@bp.route("/self", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so that an expired one keeps the answers
def self_assessment():
    """Take the self-assessment alone, without a survey: the profile is shown once and stored nowhere."""
    set_lang(self_lang())
    inst = self_instrument()
    form = build_form(inst, g.lang, None, 0)
    if request.method == "GET":
        return render_template("respond/self.html", inst=inst, form=form)
    valid = form.validate()
    answers = form.answers(inst)
    minutes, headers = None, {}
    if "csrf_token" in form.errors:
        notice = "expired"  # the answers are kept: sending again is enough
    elif not valid:
        notice = "fix"
    elif all(value is None for value in answers.values()):
        notice = "none"
    else:
        wait = throttle.self_assessment_wait()
        if wait is None:
            profile = profiles.compute(inst, answers)
            page = render_template("respond/self.html", inst=inst, profile=profiles.view(inst, profile, g.lang))
            return ephemeral.html(page)
        notice, minutes, headers = "throttled", max(1, -(-wait // 60)), {"Retry-After": str(wait)}
    page = render_template("respond/self.html", inst=inst, form=form, notice=notice, minutes=minutes)
    # The form sent back holds the answers: keep it out of every cache too (no padding: it shows no profile).
    return ephemeral.html(page, 429 if minutes else 400, headers, padded=False)
