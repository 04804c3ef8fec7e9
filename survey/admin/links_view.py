"""Survey links for print and screens: QR codes (PNG, SVG) and a one-page handout per department."""

from __future__ import annotations

from flask import Response, abort, g, render_template, request

from .. import links, privacy, qr, surveys
from ..db import get_db
from ..i18n import LANGS
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
        abort(404, description=f"Survey '{slug}' has no department '{code}'.")
    return survey, dept


@bp.route("/surveys/<slug>/qr.<fmt>")
@login_required("hr")
def qr_code(slug: str, fmt: str):
    """Return the QR code of the open link, or of a department's link with ?d=CODE, as PNG or SVG."""
    if fmt not in qr.FORMATS:
        abort(404, description="QR codes come as .png or .svg.")
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
    """Show a printable one-page handout with the link and its QR code (?d=CODE for a department, ?language=nb|en)."""
    survey, dept = _target(slug)
    # The handout speaks to respondents: the survey's language unless ?language= asks for the
    # other (not ?lang=, which would switch the HR pages' own language).
    requested = request.args.get("language")
    g.lang = requested if requested in LANGS else survey.language
    return render_template(
        "admin/handout.html",
        survey=survey,
        dept=dept,
        link=links.survey_link(survey.slug, dept.code if dept else None),
        base_configured=links.base_url_configured(),
        k=privacy.effective_k(survey.min_group_size),
    )
