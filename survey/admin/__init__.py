"""HR pages: login, survey list, create a survey, follow responses, open and close, links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms.fields.choices import SelectChoice

from .. import accounts, audit, i18n, invitations, links, oidc, privacy, rates, sessions, surveys, throttle
from ..db import get_db
from ..security import login_required
from .forms import ActionForm, InvitationForm, LoginForm
from .life_forms import NewSurveyForm, ScheduleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def set_lang() -> None:
    """HR and facilitator pages: the user's own choice, else the browser's language, else the survey's."""
    user = g.get("user")
    slug = (request.view_args or {}).get("slug")
    survey = surveys.language_of(get_db(), slug) if slug else None
    i18n.set_lang(i18n.admin_lang(user["language"] if user else None, survey))


@bp.route("/language", methods=["POST"])
def choose_language():
    """Remember the language of the HR pages: on the account when logged in, else for this visit (until login)."""
    form = ActionForm()
    chosen = i18n.valid(request.form.get("lang"))
    # An unknown value or an expired form changes nothing: the page simply comes back.
    if form.validate_on_submit() and chosen:
        if g.get("user"):
            accounts.set_language(get_db(), g.user["id"], chosen)
        session[i18n.ADMIN_SESSION_KEY] = chosen
    return redirect(_safe_next(request.form.get("next")), 303)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.surveys_list")


def login_page(form: LoginForm, error: str | None = None, status: int = 200, headers: dict | None = None):
    """Render the login page (with the single sign-on button when it is configured)."""
    page = render_template("admin/login.html", form=form, error=error, sso=oidc.display_name())
    return page, status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    form = LoginForm()
    if not form.validate_on_submit():
        return login_page(form, status=400 if form.errors else 200)
    db = get_db()
    email = form.email.data
    known = accounts.user_by_email(db, email)
    # Only an existing account's e-mail is written down: what someone typed into the e-mail field
    # may be their password.
    who = known["email"] if known else audit.UNKNOWN_ACCOUNT
    # Counted before the password is checked, in one transaction: parallel attempts cannot pass the limit.
    wait = throttle.take_login_attempt(email)
    if wait is not None:
        audit.record(db, "sign-in-refused", detail="too many failed attempts", actor=who)
        minutes = max(1, round(wait / 60))
        error = ngettext(
            "Too many failed attempts. Try again in about %(num)s minute.",
            "Too many failed attempts. Try again in about %(num)s minutes.",
            minutes,
        )
        return login_page(form, error, 429, {"Retry-After": str(wait)})
    user = accounts.authenticate(db, email, form.password.data)
    if user is None:
        reason = "disabled account" if known and known["disabled_on"] else "wrong e-mail or password"
        audit.record(db, "sign-in-failed", detail=reason, actor=who)
        return login_page(form, _("The e-mail or password is wrong."), 401)
    throttle.login_succeeded(email)
    chosen = i18n.valid(session.get(i18n.ADMIN_SESSION_KEY))
    # A fresh server-side session on login prevents session fixation.
    sessions.begin(db, user["id"])
    if chosen:
        # A language chosen on the login page is this user's choice: remembered on the account.
        accounts.set_language(db, user["id"], chosen)
        session[i18n.ADMIN_SESSION_KEY] = chosen
    audit.record(db, "signed-in", detail="password", actor=user["email"])
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out: the session ends on the server, so a saved copy of the cookie no longer works."""
    db = get_db()
    if g.get("user"):
        audit.record(db, "signed-out")
    sessions.end(db)
    return redirect(url_for("admin.login"))


@bp.route("/")
@login_required()
def surveys_list():
    """List the surveys (archived ones in a list of their own), and the self-assessment's addresses to share."""
    rows = surveys.list_surveys(get_db())
    current = [row for row in rows if not row["archived_on"]]
    archived = [row for row in rows if row["archived_on"]]
    self_links = {lang: links.public_url("respond.self_assessment", lang=lang) for lang in ("nb", "nn", "en")}
    return render_template(
        "admin/list.html", surveys=current, archived=archived, action=ActionForm(), self_links=self_links
    )


@bp.route("/surveys/new", methods=["GET", "POST"])
@login_required("hr")
def create():
    """Create a survey from the instrument in questions.yaml."""
    form = NewSurveyForm()
    form.previous.choices = [SelectChoice("", _("– none: this is the first round –"))] + [
        SelectChoice(s["slug"], f"{s['title']} ({i18n.period(s['starts_on'], s['ends_on'])})")
        for s in surveys.list_surveys(get_db())
    ]
    if request.method == "GET":
        form.departments.data = form.departments.data or ""
    if form.validate_on_submit():
        instrument = current_app.extensions["instrument"]
        try:
            survey = surveys.create_survey(
                get_db(),
                instrument.short() if form.instrument.data == "short" else instrument,
                title=form.title.data,
                slug=(form.slug.data or "").strip().lower() or None,
                language=form.language.data,
                departments=form.parsed_departments,
                min_group_size=form.min_group_size.data,
                comment_min_group_size=form.comment_min_group_size.data,
                collection=form.collection.data,
                previous=form.previous.data or None,
                small_groups=form.small_groups.data,
                followup_statement=bool(form.followup_statement.data),
                **form.schedule,
            )
        except surveys.SurveyError as exc:
            for name, message in exc.fields.items():
                form[name].errors.append(message)
        else:
            if survey.is_draft:
                flash(
                    _(
                        "Survey “%(title)s” created as a draft: its links take answers once it opens.",
                        title=survey.title,
                    ),
                    "ok",
                )
            else:
                flash(_("Survey “%(title)s” created. Share its links below.", title=survey.title), "ok")
            return redirect(url_for("admin.detail", slug=survey.slug))
    return render_template("admin/create.html", form=form), 400 if form.errors else 200


def survey_or_404(slug: str) -> surveys.Survey:
    """Return the survey with this slug, or answer 404."""
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        abort(404, description=_("There is no survey '%(slug)s'.", slug=slug))
    return survey


def base_url() -> str:
    """Return the public address for links: FLASK_BASE_URL, never this request's Host header."""
    return links.base_url()


def department_rows(found: dict) -> list[dict]:
    """Return per-department response counts and rates (from rates.response_rates) as the page shows them."""
    return [
        {
            "dept": r["department"],
            "count": r["responses"],
            "hidden": r["hidden"],
            "invited": r["invited"],
            "base": r["base"],
            "source": r["source"],
            "rate": round(100 * r["rate"]) if r["rate"] is not None else None,
        }
        for r in found["departments"]
    ]


@bp.route("/surveys/<slug>")
@login_required()
def detail(slug: str):
    """Show a survey: status, links, responses per department."""
    db = get_db()
    survey = survey_or_404(slug)
    overall = rates.response_rates(db, survey)
    rows, total = department_rows(overall), overall["responses"]
    inv_form = InvitationForm()
    inv_form.department.choices = [SelectChoice(r["dept"].code, r["dept"].name) for r in rows]
    return render_template(
        "admin/detail.html",
        survey=survey,
        rows=rows,
        total=total,
        overall=overall,
        base=base_url(),
        base_configured=links.base_url_configured(),
        action=ActionForm(),
        inv_form=inv_form,
        invites=invitations.invitation_counts(db, survey),
        k=privacy.effective_k(survey.min_group_size),
        schedule_form=ScheduleForm(data={"opens_at": _date(survey.opens_at), "closes_at": _date(survey.closes_at)}),
        editable=not survey.is_closed and surveys.response_count(db, survey) == 0,
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@bp.route("/surveys/<slug>/status", methods=["POST"])
@login_required("hr")
def set_status(slug: str):
    """Open or close a survey."""
    survey = survey_or_404(slug)
    form = ActionForm()
    status = request.form.get("status")
    if not form.validate_on_submit() or status not in ("open", "closed"):
        abort(400, description=_("Send status 'open' or 'closed' from the survey page."))
    try:
        surveys.set_status(get_db(), survey, status)
    except surveys.ReopenRefused as exc:
        flash(exc.error, "error")
        return redirect(url_for("admin.detail", slug=slug))
    flash(
        _("The survey is open for answers again.")
        if status == "open"
        else _("The survey is closed. Its results are released: see Results."),
        "ok",
    )
    return redirect(url_for("admin.detail", slug=slug))


@bp.route("/surveys/<slug>/invitations", methods=["POST"])
@login_required("hr")
def create_invitations(slug: str):
    """Create personal invitation links and show them once."""
    db = get_db()
    survey = survey_or_404(slug)
    form = InvitationForm()
    form.department.choices = [SelectChoice(d.code, d.name) for d in surveys.departments(db, survey)]
    if not form.validate_on_submit():
        problems = " ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(_("Could not create links: %(problems)s", problems=problems), "error")
        return redirect(url_for("admin.detail", slug=slug))
    dept = surveys.department_by_code(db, survey, form.department.data)
    tokens = invitations.create_invitations(db, survey, dept, form.count.data)
    return render_template(
        "admin/invitations.html", survey=survey, dept=dept, links=[links.invitation_link(tok) for tok in tokens]
    )


# Importing these registers their pages on bp: results, comparison and export; invitations and mail; QR
# codes and handouts.
from . import (  # noqa: E402
    actions_view,  # noqa: F401
    audit_view,  # noqa: F401
    comments_view,  # noqa: F401
    compare_view,  # noqa: F401
    erase_view,  # noqa: F401
    invitations_view,  # noqa: F401
    life_view,  # noqa: F401
    links_view,  # noqa: F401
    polls_view,  # noqa: F401
    present_view,  # noqa: F401
    results_view,  # noqa: F401
    sso_view,  # noqa: F401
    tokens_view,  # noqa: F401
)
