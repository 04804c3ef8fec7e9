"""Respondent pages: the open link /s/<slug> and the personal invitation /i/<token> (answered at /s/<slug>/invited)."""

from __future__ import annotations

import re
import threading

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import csrf, followup, invitations, responses, surveys, throttle
from ..cache import Cache
from ..db import InvitationUsed, form_version, get_db, get_writer
from ..i18n import current_lang, set_lang, visit_lang
from ..signing import csrf_token
from . import first_visit
from .forms import build_form

bp = Blueprint("respond", __name__)
INVITATION_KEY = "invitation"
FORM_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


@bp.before_request
def set_language() -> None:
    """A survey's pages speak its language, unless the visitor chose another (?lang=, kept for the visit).

    The personal invitation (/i/<token>) learns its survey only from the token, so that view sets
    its language again, before it shows anything. The app's own language hook leaves this
    blueprint's pages to this one.
    """
    slug = (request.view_args or {}).get("slug")
    if slug is None:
        set_lang(visit_lang())
    elif request.method == "GET":
        survey = _open_survey(get_db(), slug)[0]  # kept for the view, on g
        set_lang(current_lang(survey.language if survey else None))
    else:
        set_lang(current_lang(surveys.language_of(get_db(), slug)))


def _page(name: str, survey, status: int = 200):
    return render_template(f"respond/{name}.html", survey=survey), status


def _not_answerable(survey):
    """Return the page for a survey that takes no answers now: not open yet (a draft), or closed."""
    status = 200 if request.method == "GET" else 409
    return _page("not_open" if survey.is_draft else "closed", survey, status)


def _form_page(survey, department=None, invitation_id: int | None = None, depts: tuple | None = None):
    """Show and process the questionnaire; department is fixed for invitations."""
    if request.method == "GET" and "_flashes" not in session:
        # The empty questionnaire is the same for everyone but its CSRF token: rendered once
        # per survey, departments, language and query string, kept as the UTF-8 bytes around
        # the token, then served joined with this client's token (no search, no encoding).
        pages = current_app.extensions.setdefault("form_pages", Cache(256))
        if depts is None:
            depts = tuple(surveys.departments(get_db(), survey))
        # What was done since the last round ("you said, we did") changes while the survey is open.
        titles, more = followup.done_titles(get_db(), survey)
        done = (tuple(titles), more)
        key = (survey, depts, department, g.lang, request.path, tuple(sorted(request.args.items(multi=True))), done)
        token = csrf_token().encode()
        form_key = responses.new_form_key().encode()
        first_visit.offer(g.get("form_version"), token, form_key)
        cached = pages.get(key)
        if cached is None:
            page, status = _render_form(survey, department, invitation_id, form_key.decode())
            # Cut at this client's token and form key: the next client gets its own of both.
            segments, slots = first_visit.cut(page.encode(), token, form_key)
            if slots:  # only a page that carries the token can carry the next client's
                pages.put(key, (segments, slots))
            return page, status
        return first_visit.splice(*cached, token, form_key), 200
    return _render_form(survey, department, invitation_id)


def _posted_form_key() -> str | None:
    key = request.form.get("form_key", "")
    return key if FORM_KEY_RE.match(key) else None


def _sent_before(survey):
    """Return the thank-you page's redirect when this rendered form already gave its one response, else None.

    Checked before anything else about the POST (the answers, the invitation in the session, the
    survey's state): Back and Submit again must always end on the thank-you page, never store twice.
    """
    if request.method != "POST":
        return None  # a GET must not parse a body it does not have
    key = _posted_form_key()
    if key and responses.form_key_spent(get_db(), key):
        return redirect(url_for("respond.thanks", slug=survey.slug, lang=g.lang), 303)
    return None


def _few_answered(inst, answers: dict) -> bool:
    """Return True when fewer than half of the statements are answered (a 'not applicable' counts as an answer)."""
    return 2 * len(answers) < len(inst.items)


_open_link = threading.local()  # per thread, like get_db's connection


def _open_survey(db, slug: str) -> tuple:
    """Return the survey of an open link and its departments, read again whenever either may have changed.

    The form version (db.form_version, one small read) changes with every change to surveys,
    departments and actions; it costs far less than the survey row (with its instrument) and its
    departments, which every visit would read otherwise.
    """
    memo = g.get("open_survey")
    if memo is not None and memo[0] == slug:
        return memo[1]  # the language hook read it for this request already
    version = g.form_version = form_version(db)  # first_visit keeps the page under the version it was read at
    cache = getattr(_open_link, "cache", None)
    # The cache holds its connection, so that no other database's (or later connection's) can be mistaken for it.
    if cache is None or cache[0] is not db.conn or cache[1] != version or len(cache[2]) > 64:
        cache = _open_link.cache = (db.conn, version, {})
    found = cache[2].get(slug)
    if found is not None and surveys.schedule_due(found[0], surveys.local_today()):
        found = None  # its opening day has come, or its last day has passed: read (and apply) it again
    if found is None:
        survey = surveys.get_survey(db, slug)
        if survey is None:
            return None, ()  # not kept: unknown addresses must not fill the memory
        found = cache[2][slug] = (survey, tuple(surveys.departments(db, survey)))
    g.open_survey = (slug, found)
    return found


def _render_form(survey, department=None, invitation_id: int | None = None, form_key: str | None = None):
    """Build, validate (on POST) and render the questionnaire."""
    db = get_db()
    inst = survey.instrument
    depts = None if department else surveys.departments(db, survey)
    max_comment = current_app.config["MAX_COMMENT_LENGTH"]
    preselect = request.args.get("d") if request.method == "GET" else None
    statement = followup.statement(db, survey)
    form = build_form(inst, g.lang, depts, max_comment, followup=statement[g.lang] if statement else None)
    if preselect and depts and request.method == "GET":
        match = surveys.department_by_code(db, survey, preselect)
        if match:
            form.department.data = match.code
    notice, confirm_few = None, False
    if request.method == "POST":
        if not survey.is_open:
            return _not_answerable(survey)
        valid = form.validate()
        answers = form.answers(inst)
        if valid and not any(v is not None for v in answers.values()):
            notice = _("Answer at least one statement before you submit.")
            valid = False
        if valid and _few_answered(inst, answers) and request.form.get("confirm_few") != "1":
            # Asked once, never blocking: the same form comes back with every answer and a button to send it anyway.
            confirm_few, valid = True, False
        if "csrf_token" in form.errors:
            # An expired token must not cost the respondent their answers: the form
            # is shown again, filled in, with a fresh token.
            notice = _(
                "The form was open a long time, so its security key expired. "
                "Your answers are kept: please submit again."
            )
        if valid:
            dept = department or surveys.department_by_code(db, survey, form.department.data)
            enps = form.enps.data if inst.enps is not None else None
            try:
                sub = responses.validate(
                    survey,
                    dept.id if dept else None,
                    answers,
                    int(enps) if enps not in (None, "") else None,
                    (form.comment.data or None) if inst.comment is not None else None,
                    max_comment,
                    int(form.followup.data) if statement and form.followup.data in ("1", "2", "3", "4", "5") else None,
                )
            except responses.ResponseError as exc:
                # What the form's own checks let through (e.g. a NUL character in the comment).
                for name, message in exc.fields.items():
                    if name in form:
                        form[name].errors = [*form[name].errors, message]
                valid = False
        if valid:
            try:
                responses.submit(
                    get_writer(), survey, sub, invitation_id, _posted_form_key(), throttle=open_link_limit()
                )
            except InvitationUsed:
                session.pop(INVITATION_KEY, None)
                return _page("used", survey, 409)
            except responses.SurveyClosed:
                return _page("closed", survey, 409)
            except responses.InvitationRequired:
                return _page("invitation_only", survey, 403)
            except responses.FormUsed:
                # The same form sent twice (Back, then Submit again): it gave its one response already.
                return redirect(url_for("respond.thanks", slug=survey.slug, lang=g.lang))
            except responses.Throttled as exc:
                page = render_template("respond/throttled.html", survey=survey, minutes=max(1, -(-exc.wait // 60)))
                return page, 429, {"Retry-After": str(exc.wait)}
            if invitation_id is not None:
                session.pop(INVITATION_KEY, None)
            # The profile is the answer to this POST itself: a redirect would have to carry it somewhere.
            return thanks_with_profile(survey, sub.answers)
        if not confirm_few:
            notice = notice or _("Something needs fixing before your answers can be sent. See the messages below.")
    form_key = form_key or _posted_form_key() or responses.new_form_key()
    status = 400 if notice else 200
    return (
        render_template(
            "respond/form.html",
            survey=survey,
            inst=inst,
            form=form,
            department=department,
            notice=notice,
            form_key=form_key,
            confirm_few=confirm_few,
            answered=len(form.answers(inst)) if confirm_few else None,
        ),
        status,
    )


@bp.route("/s/<slug>", methods=["GET", "POST"])
@csrf.exempt  # the form validates its own token so that an expired one keeps the answers
def open_link(slug: str):
    """Answer a survey through its open link (department chosen in the form)."""
    if request.method == "GET":
        survey, depts = _open_survey(get_db(), slug)
    else:
        survey, depts = surveys.get_survey(get_db(), slug), None
    if survey is None:
        return _page("unknown", None, 404)
    sent = _sent_before(survey)
    if sent is not None:
        return sent
    if not survey.is_open:
        return _not_answerable(survey)
    if survey.invitation_only:
        # No open link: only personal invitations can answer, so nobody can add answers to a small group.
        return _page("invitation_only", survey, 403)
    return _form_page(survey, depts=depts)


@bp.route("/i/<token>", methods=["GET", "POST"])
@csrf.exempt
def invitation(token: str):
    """Exchange a personal invitation token for this browser session, then leave the token-free form address."""
    # Counted before the token is looked up (one atomic step), given back when it is real.
    wait = throttle.take_token_attempt()
    if wait:
        set_lang(current_lang(None))
        page = render_template("respond/throttled.html", survey=None, minutes=max(1, -(-wait // 60)))
        return page, 429, {"Retry-After": str(wait)}
    db = get_db()
    inv = invitations.find_invitation(db, token)
    survey = surveys.get_survey(db, inv["slug"]) if inv else None
    set_lang(current_lang(survey.language if survey else None))
    if survey is None:
        return _page("unknown", None, 404)
    throttle.right_token()
    if not survey.is_open:
        return _not_answerable(survey)
    if inv["used"]:
        return _page("used", survey, 409)
    # Only the invitation's id goes into the (signed) session; the token stays out of the
    # address bar, the history and the access log of every later request.
    session[INVITATION_KEY] = inv["id"]
    lang = inv["language"] if inv["language"] and "lang" not in session else None
    target = url_for("respond.invited", slug=survey.slug, lang=lang)
    # 307 keeps a form that was posted to the old address (the body goes along); a visit gets 303.
    return redirect(target, 307 if request.method == "POST" else 303)


@bp.route("/s/<slug>/invited", methods=["GET", "POST"])
@csrf.exempt  # the form validates its own token, as on the open link
def invited(slug: str):
    """Answer a survey through the personal invitation held in this browser session."""
    db = get_db()
    survey = surveys.get_survey(db, slug)
    if survey is None:
        return _page("unknown", None, 404)
    sent = _sent_before(survey)
    if sent is not None:
        return sent
    invitation_id = session.get(INVITATION_KEY)
    inv = invitations.get_invitation(db, invitation_id) if isinstance(invitation_id, int) else None
    if inv is None or inv["survey_id"] != survey.id:
        return _page("no_invitation", survey, 400)
    if not survey.is_open:
        return _not_answerable(survey)
    if inv["used"]:
        session.pop(INVITATION_KEY, None)
        return _page("used", survey, 409)
    dept = next(d for d in surveys.departments(db, survey) if d.id == inv["department_id"])
    return _form_page(survey, department=dept, invitation_id=inv["id"])


@bp.route("/s/<slug>/thanks")
def thanks(slug: str):
    """Thank the respondent."""
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        abort(404)
    return _page("thanks", survey)


def open_link_limit() -> tuple[str, int, int]:
    """Return how open-link submissions of this client are counted: (client key, limit, window seconds)."""
    config = current_app.config
    return throttle.submission_client(), int(config["OPEN_SUBMIT_LIMIT"]), int(config["OPEN_SUBMIT_WINDOW"])


@bp.route("/")
def index():
    """Send visitors to the HR pages; respondents always arrive on a survey link."""
    return redirect(url_for("admin.surveys_list"))


# Importing it registers the respondent's own profile: the thank-you page after answering and /self.
# Importing this registers the live poll's pages (/p/<code>) and "you said, we did" on bp.
from . import workshop_view  # noqa: E402,F401
from .profile_view import thanks_with_profile  # noqa: E402
