"""Survey links for print and screens: QR codes (PNG, SVG) and a one-page handout per department."""

from __future__ import annotations

from flask import Response, abort, g, render_template, request
from flask_babel import gettext as _

from .. import i18n, links, privacy, qr, surveys
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404


def _target(slug: str) -> tuple[surveys.Survey, surveys.Department | None]:
    """Return the survey and the department named by ?d= (None for the open link), or abort with 404."""
    db = get_db()
    survey = survey_or_404(slug)
    code = request.args.get("d")
    if code is None:
        return survey, None
    dept = surveys.department_by_code(db, survey, code)
    if dept is None:
        abort(404, description=_("Survey '%(slug)s' has no department '%(code)s'.", slug=slug, code=code))
    return survey, dept


@bp.route("/surveys/<slug>/qr.<fmt>")
@login_required("hr")
def qr_code(slug: str, fmt: str):
    """Return the QR code of the open link, or of a department's link with ?d=CODE, as PNG or SVG."""
    if fmt not in qr.FORMATS:
        abort(404, description=_("QR codes come as .png or .svg."))
    survey, dept = _target(slug)
    url = links.survey_link(survey.slug, dept.code if dept else None)
    body = qr.qr_code(url, fmt, title=url)
    headers = {"Cache-Control": "private, max-age=300"}
    if request.args.get("download"):
        name = f"{survey.slug}{'-' + dept.code if dept else ''}-qr.{fmt}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, mimetype=qr.FORMATS[fmt], headers=headers)


@bp.route("/surveys/<slug>/handout")
@login_required("hr")
def handout(slug: str):
    """Show a printable one-page handout with the link and its QR code (?d=CODE: a department; ?language=nb|nn|en)."""
    survey, dept = _target(slug)
    link = links.survey_link(survey.slug, dept.code if dept else None)
    # The screen-only tools speak to HR, in the HR pages' language.
    tools = {
        "lang": g.lang,
        "label": _("Handout tools"),
        "back": _("Back to the survey"),
        "print": _("Print this page (Ctrl+P / ⌘P) on one A4 sheet."),
        "warning": _(
            "This link points to %(link)s, which works only on this computer: set FLASK_BASE_URL before printing.",
            link=link,
        ),
    }
    # The sheet speaks to respondents: the survey's language unless ?language= asks for another
    # (not ?lang=, which switches the HR pages' own language).
    with i18n.language(i18n.valid(request.args.get("language")) or survey.language):
        return render_template(
            "admin/handout.html",
            survey=survey,
            dept=dept,
            link=link,
            tools=tools,
            base_configured=links.base_url_configured(),
            k=privacy.effective_k(survey.min_group_size),
        )
