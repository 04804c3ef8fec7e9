"""The HR results page: index, pyramid, radar, level table, item bars, departments."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import charts, i18n, report, results, scoring, surveys
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404


def _score_interval(dim: dict) -> tuple[float, float] | None:
    """Return the 95 % interval of the mean on the 0-100 score scale, when there is one."""
    if "ci_low" not in dim:
        return None
    return tuple(max(0.0, min(100.0, (dim[key] - 1) / 4 * 100)) for key in ("ci_low", "ci_high"))


def not_released(survey: surveys.Survey):
    """Explain that results appear when the survey is closed (409: nothing derived from answers yet)."""
    return render_template("admin/not_released.html", survey=survey), 409


@bp.route("/surveys/<slug>/results")
@login_required("hr", "facilitator")
def results_page(slug: str):
    """Show a survey's results, or one department's own figures next to the organisation's (aggregates only)."""
    db = get_db()
    survey = survey_or_404(slug)
    if not survey.is_closed:
        return not_released(survey)
    inst = survey.instrument
    lang = g.lang  # the reader's language: statements, levels and charts too
    org = results.survey_results(db, survey)
    code = request.args.get("department") or None
    dept = results.survey_results(db, survey, code) if code and not org["suppressed"] else None
    in_dept = bool(dept and not dept["suppressed"])
    view = dept if in_dept else org
    figures = {}
    if not org["suppressed"]:
        org_label = charts.organisation_label(lang)
        if in_dept:
            # The department's pyramid next to the organisation's, on one scale; a hidden one is left out.
            pairs = [(name, steps) for name, steps in ((dept["name"], dept["pyramid"]), (org_label, org["pyramid"]))]
            shown = [(name, steps) for name, steps in pairs if steps]
            if shown:
                figures["pyramid"] = charts.pyramids_figure(shown, inst, lang).to_dict()
        elif org["pyramid"]:
            figures["pyramid"] = charts.pyramid_figure(org["pyramid"], inst, lang).to_dict()
        series = [(org_label, org["dimensions"])]
        if in_dept:
            series.append((dept["name"], dept["dimensions"]))
        figures["radar"] = charts.radar_figure(series, inst, lang).to_dict()
        if any(not it.get("suppressed") and it.get("n") for it in view["items"]):
            figures["items"] = charts.item_bars_figure(view["items"], inst, lang).to_dict()
    # How the department differs from the rest of the organisation: the departments table's own cells.
    row = next((d for d in org.get("departments", []) if in_dept and d["code"] == dept["department"]), None)
    dept_row_dims = {c["id"]: c for c in row["dimensions"]} if row and not row["suppressed"] else {}
    levels = {lv.id: lv for lv in inst.levels}
    return render_template(
        "admin/results.html",
        survey=survey,
        inst=inst,
        org=org,
        dept=dept,
        in_dept=in_dept,
        view=view,
        dept_row_dims=dept_row_dims,
        code=code,
        levels=levels,
        figures=figures,
        interval=_score_interval,
        band=scoring.band,
        alpha_warning=scoring.ALPHA_WARNING,
        alpha_min_n=scoring.ALPHA_MIN_RESPONDENTS,
        departments=surveys.departments(db, survey),
        level_name=lambda level_id: charts.level_label(inst, level_id, lang),
    )


@bp.route("/surveys/<slug>/report.pdf")
@login_required("hr", "facilitator")
def report_pdf(slug: str):
    """Download the PDF report (comments only for HR)."""
    db = get_db()
    survey = survey_or_404(slug)
    # An unknown ?lang= falls back to the reader's language rather than failing.
    lang = i18n.valid(request.args.get("lang")) or g.lang
    department = request.args.get("department") or None
    try:
        pdf = report.make_report(db, survey, lang, department, with_comments=g.user["role"] == "hr")
    except report.ReportError as exc:
        if exc.status >= 500:
            abort(503, description=str(exc))
        flash(str(exc), "error")
        return redirect(url_for("admin.results_page", slug=slug, department=department))
    name = report.report_filename(survey, lang, department)
    return report.pdf_response(pdf, name)
