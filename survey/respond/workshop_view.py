"""Respondent pages of the workshop: the live poll on a phone (/p, /p/<code>), and "you said, we did"."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import followup, polls, responses, surveys
from ..db import get_db, get_writer
from ..i18n import current_lang, set_lang
from . import _posted_form_key, bp, open_link_limit
from .forms import VALID, build_form


@bp.app_template_global()
def done_since_last(survey) -> tuple[list[str], int]:
    """Return the titles of the previous round's actions marked done, and how many more there are."""
    if survey is None:
        return [], 0
    return followup.done_titles(get_db(), survey)


@bp.app_template_global()
def you_said_we_did(survey, lang: str) -> str:
    """Return a paragraph for an invitation e-mail on what was done since the last survey (or nothing)."""
    done, more = followup.done_titles(get_db(), survey)
    if not done:
        return ""
    with force_locale(lang):
        lines = [_("Since the last survey, we have done this:")]
        lines += [f"- {title}" for title in done]
        if more:
            lines.append("- " + _("and %(n)s more", n=more))
    return "\n".join(lines) + "\n\n"


@bp.route("/p")
def poll_enter():
    """Ask for the code shown on the screen, and go to that poll."""
    set_lang(current_lang(None))
    code = request.args.get("code")
    if code:
        poll = polls.by_code(get_db(), code)
        if poll is not None:
            return redirect(url_for("respond.poll_answer", code=polls.normalise_code(code)))
        return render_template("respond/poll_enter.html", code=code, unknown=True), 404
    return render_template("respond/poll_enter.html", code="", unknown=False)


def _poll_or_404(code: str):
    poll = polls.by_code(get_db(), code)
    if poll is None:
        set_lang(current_lang(None))
        abort(404, description=_("There is no poll with this code. Check the code on the screen."))
    set_lang(current_lang(poll.language))
    return poll


@bp.route("/p/<code>", methods=["GET", "POST"])
def poll_answer(code: str):
    """Answer a live poll: one statement per level, on a phone."""
    poll = _poll_or_404(code)
    if not poll.is_open:
        return render_template("respond/closed.html", survey=poll), 200 if request.method == "GET" else 409
    inst = poll.instrument
    max_comment = current_app.config["MAX_COMMENT_LENGTH"]
    form = build_form(inst, g.lang, None, max_comment)
    error = None
    if request.method == "POST" and form.validate_on_submit():
        answers = form.answers(inst)
        if not any(value is not None for value in answers.values()):
            error = _("Answer at least one statement before you send.")
        else:
            room = surveys.departments(get_db(), poll)[0]
            sub = responses.validate(poll, room.id, answers, None, None, max_comment)
            try:
                responses.submit(get_writer(), poll, sub, None, _posted_form_key(), throttle=open_link_limit())
            except responses.FormUsed:
                pass  # the same form sent twice: it gave its one answer already
            except responses.SurveyClosed:
                return render_template("respond/closed.html", survey=poll), 409
            except responses.Throttled as exc:
                page = render_template("respond/throttled.html", survey=poll, minutes=max(1, -(-exc.wait // 60)))
                return page, 429, {"Retry-After": str(exc.wait)}
            return redirect(url_for("respond.poll_thanks", code=polls.normalise_code(code), lang=g.lang))
    elif request.method == "POST":
        error = _("Something needs fixing before your answers can be sent. See the messages below.")
    page = render_template(
        "respond/poll.html",
        survey=poll,
        inst=inst,
        form=form,
        error=error,
        form_key=_posted_form_key() or responses.new_form_key(),
        valid=VALID,
    )
    return page, 400 if error else 200


@bp.route("/p/<code>/thanks")
def poll_thanks(code: str):
    """Thank the participant and point them back to the screen."""
    poll = _poll_or_404(code)
    return render_template("respond/poll_thanks.html", survey=poll)
