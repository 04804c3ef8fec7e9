"""Live polls for the facilitator: start one, show its code and QR code on the screen, count, close, results."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from .. import links, polls, privacy, qr, results, surveys
from ..db import get_db
from ..security import login_required
from . import bp
from .forms import ActionForm
from .workshop_forms import PollForm

LANGS = ("nb", "nn", "en")


def poll_or_404(slug: str) -> tuple[surveys.Survey, dict]:
    """Return a live poll and its {code, linked}, or answer 404 (also for a survey that is no poll)."""
    db = get_db()
    poll = surveys.get_survey(db, slug)
    info = polls.poll_info(db, poll) if poll else None
    if info is None:
        abort(404, description=f"There is no live poll '{slug}'.")
    return poll, info


def poll_link(code: str) -> str:
    """Return the address participants open on their phones."""
    return links.public_url("respond.poll_answer", code=code)


@bp.route("/polls")
@login_required("hr", "facilitator")
def polls_page():
    """List the live polls, newest first."""
    return render_template("admin/polls.html", found=polls.polls_of(get_db()))


@bp.route("/polls/new", methods=["GET", "POST"])
@login_required("hr", "facilitator")
def poll_new():
    """Start a live poll, on its own or linked to a survey (whose language and threshold it then takes)."""
    db = get_db()
    form = PollForm()
    listed = [s for s in surveys.list_surveys(db) if s["slug"]]
    form.linked.choices = [SelectChoice("", _("– none: a poll on its own –"))] + [
        SelectChoice(s["slug"], s["title"]) for s in listed
    ]
    if request.method == "GET":
        linked = surveys.get_survey(db, request.args.get("linked") or "")
        if linked is not None:
            form.linked.data = linked.slug
            form.language.data = linked.language
            form.min_group_size.data = linked.min_group_size
    if form.validate_on_submit():
        linked = surveys.get_survey(db, form.linked.data) if form.linked.data else None
        if form.linked.data and linked is None:
            form.linked.errors = [_("Choose a survey from the list.")]
        else:
            lang = form.language.data if form.language.data in LANGS else "en"
            title = (form.title.data or "").strip() or _("Live poll")
            try:
                poll = polls.create_poll(
                    db,
                    current_app.extensions["instrument"],
                    title=title,
                    language=lang,
                    linked=linked,
                    min_group_size=form.min_group_size.data,
                    room_name=_("In the room"),
                )
            except (polls.PollError, surveys.SurveyError) as exc:
                flash(str(exc), "error")
            else:
                return redirect(url_for("admin.poll_screen", slug=poll.slug))
    return render_template("admin/poll_new.html", form=form), 400 if form.errors else 200


@bp.route("/polls/<slug>")
@login_required("hr", "facilitator")
def poll_screen(slug: str):
    """The screen in the room: code, QR code and the count while open; the results, most divided first, once closed."""
    db = get_db()
    poll, info = poll_or_404(slug)
    # The room reads the poll's language, whatever the facilitator's own pages use.
    lang = poll.language if poll.language in LANGS else "en"
    k = privacy.effective_k(poll.min_group_size)
    context = {"poll": poll, "info": info, "k": k, "link": poll_link(info["code"]), "tl": lang}
    if not poll.is_closed:
        with force_locale(lang):
            return render_template("admin/poll_screen.html", answered=polls.answered(db, poll), **context)
    items = polls.divided_items(db, poll)
    res = results.survey_results(db, poll)
    linked = info["linked"]
    linked_items = {}
    if linked is not None and linked.is_closed:
        # The same statement in the linked survey, as that survey's results show it (within its rules).
        found = results.survey_results(db, linked)
        linked_items = {it["id"]: it for it in found.get("items", []) if not it.get("suppressed") and it.get("n")}
    with force_locale(lang):
        return render_template(
            "admin/poll_results.html",
            items=items,
            res=res,
            linked_items=linked_items,
            levels={lv.id: lv for lv in poll.instrument.levels},
            **context,
        )


@bp.route("/polls/<slug>/count.json")
@login_required("hr", "facilitator")
def poll_count(slug: str):
    """Return how many have answered, as it may be shown: null ("fewer than k") below the threshold."""
    poll, _info = poll_or_404(slug)
    answered = polls.answered(get_db(), poll)
    k = privacy.effective_k(poll.min_group_size)
    body = {"status": poll.status, "answered": answered, "k": k, "ready": answered is not None}
    return jsonify(body), 200, {"Cache-Control": "no-store"}


@bp.route("/polls/<slug>/qr.svg")
@login_required("hr", "facilitator")
def poll_qr(slug: str):
    """Return the QR code of the poll's address, for the screen."""
    _poll, info = poll_or_404(slug)
    link = poll_link(info["code"])
    return Response(qr.qr_code(link, "svg", title=link), mimetype=qr.FORMATS["svg"])


@bp.route("/polls/<slug>/close", methods=["POST"])
@login_required("hr", "facilitator")
def poll_close(slug: str):
    """Close the poll and show the results; refused while fewer than k have answered."""
    poll, _info = poll_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form could not be read; reload the page and try again.")
    try:
        polls.close_poll(get_db(), poll)
    except polls.PollError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.poll_screen", slug=slug))
