"""HR pages: login, survey list, create a survey, follow responses, open and close, links."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from wtforms.fields.choices import SelectChoice

from .. import accounts, invitations, links, privacy, rates, surveys, throttle
from ..db import get_db
from ..i18n import current_lang
from ..security import login_required
from .forms import ActionForm, InvitationForm, LoginForm, SurveyForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def set_lang() -> None:
    """Admin pages follow the user's language choice, English by default."""
    g.lang = current_lang("en")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.surveys_list")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        wait = throttle.login_wait_seconds(form.email.data)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            error = f"Too many failed attempts. Try again in about {minutes} minute{'s' if minutes > 1 else ''}."
            page = render_template("admin/login.html", form=form, error=error)
            return page, 429, {"Retry-After": str(wait)}
        user = accounts.authenticate(get_db(), form.email.data, form.password.data)
        if user is None:
            throttle.note_failed_login(form.email.data)
        if user:
            # A fresh session on login prevents session fixation.
            lang = session.get("lang")
            session.clear()
            session["user_id"] = user["id"]
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.args.get("next")))
        error = "The e-mail or password is wrong."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("admin/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out."""
    session.clear()
    return redirect(url_for("admin.login"))


@bp.route("/")
@login_required()
def surveys_list():
    """List every survey."""
    return render_template("admin/list.html", surveys=surveys.list_surveys(get_db()), action=ActionForm())


@bp.route("/surveys/new", methods=["GET", "POST"])
@login_required("hr")
def create():
    """Create a survey from the instrument in questions.yaml."""
    form = SurveyForm()
    form.previous.choices = [SelectChoice("", "– none: this is the first round –")] + [
        SelectChoice(s["slug"], f"{s['title']} ({s['created_on']})") for s in surveys.list_surveys(get_db())
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
            )
        except surveys.SurveyError as exc:
            for name, message in exc.fields.items():
                form[name].errors.append(message)
        else:
            flash(f"Survey “{survey.title}” created. Share its links below.", "ok")
            return redirect(url_for("admin.detail", slug=survey.slug))
    return render_template("admin/create.html", form=form), 400 if form.errors else 200


def survey_or_404(slug: str) -> surveys.Survey:
    """Return the survey with this slug, or answer 404."""
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        abort(404, description=f"There is no survey '{slug}'.")
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
    )


@bp.route("/surveys/<slug>/status", methods=["POST"])
@login_required("hr")
def set_status(slug: str):
    """Open or close a survey."""
    survey = survey_or_404(slug)
    form = ActionForm()
    status = request.form.get("status")
    if not form.validate_on_submit() or status not in ("open", "closed"):
        abort(400, description="Send status 'open' or 'closed' from the survey page.")
    try:
        surveys.set_status(get_db(), survey, status)
    except surveys.ReopenRefused as exc:
        flash(exc.error, "error")
        return redirect(url_for("admin.detail", slug=slug))
    flash(
        "The survey is open for answers again."
        if status == "open"
        else "The survey is closed. Its results are released: see Results.",
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
        flash("Could not create links: " + " ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("admin.detail", slug=slug))
    dept = surveys.department_by_code(db, survey, form.department.data)
    tokens = invitations.create_invitations(db, survey, dept, form.count.data)
    return render_template(
        "admin/invitations.html", survey=survey, dept=dept, links=[links.invitation_link(tok) for tok in tokens]
    )


# Importing these registers their pages on bp: results, comparison and export; invitations and mail; QR
# codes and handouts.
from . import actions_view, compare_view, invitations_view, links_view, polls_view, present_view, results_view  # noqa: E402,F401
