"""The workshop comparison page and its PDF, and the HR-only raw export."""

from __future__ import annotations

from flask import Response, abort, g, render_template, request
from flask_babel import gettext as _

from .. import compare, export, followup, i18n, report, surveys
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404
from .results_view import not_released


@bp.route("/surveys/<slug>/compare")
@login_required("hr", "facilitator")
def compare_page(slug: str):
    """Compare departments side by side, and this round with the previous one."""
    survey = survey_or_404(slug)
    if not survey.is_closed:
        return not_released(survey)
    sort = request.args.get("sort") or None
    depts = surveys.departments(get_db(), survey)
    parents = [d for d in depts if any(other.parent == d.code for other in depts)]
    parent = request.args.get("parent") or None
    if parent not in (None, compare.TOP) and not any(d.code == parent for d in parents):
        parent = None  # an unknown unit in the address: show every unit rather than an error
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 1
    body = compare.comparison(get_db(), survey, sort, parent, page, PER_PAGE)
    codes = request.args.getlist("d")
    picked = compare.chosen_departments(body, codes) if not body["suppressed"] else []
    # Chosen beyond the limit: said on the page, never dropped in silence.
    left_out = [] if body["suppressed"] else _left_out(body, codes, picked)
    lang = g.lang  # the reader's language: level names, sentences and charts too
    figures = {}
    if not body["suppressed"]:
        figures = {
            name: fig.to_dict()
            for name, fig in compare.comparison_figures(body, picked, survey.instrument, lang).items()
        }
    return render_template(
        "admin/compare.html",
        survey=survey,
        inst=survey.instrument,
        body=body,
        sort=sort,
        parent=parent,
        parents=parents,
        top=compare.TOP,
        paging=body.get("paging"),
        picked=picked,
        codes=[d["code"] for d in picked],
        figures=figures,
        reading=compare.reading([compare.Gap(**gap) for gap in body.get("gaps", [])], survey.instrument, lang),
        large=request.args.get("large") == "1",
        max_overlay=compare.MAX_OVERLAY,
        left_out=left_out,
        levels={lv.id: lv for lv in survey.instrument.levels},
        followup=followup.since_last_time(get_db(), survey),
    )


def _left_out(body: dict, codes: list[str], picked: list[dict]) -> list[dict]:
    """Return the shown departments that were chosen but do not fit in the overlay (beyond compare.MAX_OVERLAY)."""
    chosen = {code.lower() for code in codes}
    return [
        d
        for d in body["departments"]
        if not d["suppressed"] and d["code"].lower() in chosen and all(d is not p for p in picked)
    ]


PER_PAGE = 50  # units a page: hundreds of units side by side are a wall of numbers


@bp.route("/surveys/<slug>/compare.pdf")
@login_required("hr", "facilitator")
def compare_pdf(slug: str):
    """Download the comparison as a PDF."""
    survey = survey_or_404(slug)
    # An unknown ?lang= falls back to the reader's language rather than failing.
    lang = i18n.valid(request.args.get("lang")) or g.lang
    try:
        pdf = report.make_comparison(get_db(), survey, lang, request.args.getlist("d"), request.args.get("sort"))
    except report.ReportError as exc:
        abort(exc.status if exc.status < 500 else 503, description=str(exc))
    name = report.report_filename(survey, lang, None).replace("report-", "comparison-", 1)
    return report.pdf_response(pdf, name)


@bp.route("/surveys/<slug>/export.<fmt>")
@login_required("hr")
def export_download(slug: str, fmt: str):
    """Download the raw responses (HR only) as CSV, or with the comments as XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404, description=_("Export as .csv or .xlsx."))
    survey = survey_or_404(slug)
    header, rows = export.export_rows(get_db(), survey, g.lang)
    name = f"responses-{survey.slug}.{fmt}"
    if fmt == "csv":
        data, mimetype = export.to_csv(header, rows, export.list_separator(g.lang)).encode("utf-8"), "text/csv"
    else:
        comments = export.export_comments(get_db(), survey) if survey.instrument.comment else None
        data, mimetype = (
            export.to_xlsx(header, rows, comments, g.lang, export.column_notes(survey, g.lang)),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return _download(data, mimetype, name)


@bp.route("/surveys/<slug>/comments.csv")
@login_required("hr")
def comments_download(slug: str):
    """Download the comments HR may read (groups at or above the comment threshold; shuffled, undated)."""
    survey = survey_or_404(slug)
    comments = export.export_comments(get_db(), survey)
    data = export.comments_csv(comments, g.lang).encode("utf-8")
    return _download(data, "text/csv", f"comments-{survey.slug}.csv")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(data, mimetype=mimetype, headers=headers)
