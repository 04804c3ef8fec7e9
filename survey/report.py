"""The PDF report: HTML laid out for print, charts as SVG from kaleido, rendered by WeasyPrint."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import plotly.graph_objects as go
from flask import Response, current_app, render_template
from flask_babel import gettext as _
from sqlite_utils import Database
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import charts, comments, i18n, results, scoring, surveys
from .cache import Cache
from .errors import AppError
from .questionnaire import LANGUAGES
from .report_actions import action_section
from .surveys import Survey


def chromium_hint() -> str:
    """Say what to install when Chromium is missing."""
    return _(
        "The PDF report draws its charts with Chromium, which is not installed. "
        "Install Debian's package 'chromium' (apt-get install chromium) and try again."
    )


class ReportError(AppError):
    """A report that cannot be made; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message, status)


class ChartExporter:
    """One kaleido (Chromium) per process, started on first use; SVGs cached by the hash of their figure."""

    def __init__(self, memory_items: int = 256):
        self.lock = threading.Lock()
        self.started = False
        self.memory = Cache(memory_items)
        self.renders = 0  # how many charts were actually drawn (tests check the cache with it)

    def _start(self) -> None:
        import kaleido

        if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
            raise ReportError(chromium_hint(), status=503)
        bundle = Path(current_app.static_folder) / "vendor" / "plotly.min.js"
        # mathjax=False and a local plotly.js: the exporter must not reach for a CDN.
        kaleido.start_sync_server(mathjax=False, plotlyjs=str(bundle), silence_warnings=True)
        self.started = True

    def svg(self, fig: go.Figure, width: int, height: int) -> bytes:
        """Return the figure as SVG, from the cache (in memory only) when the same figure was drawn before."""
        spec = fig.to_dict()
        spec["layout"].update(width=width, height=height)
        key = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
        cached = self.memory.get(key)
        if cached is not None:
            return cached
        # Never on disk: a chart file would outlive a deleted survey.
        data = self._render(spec, width, height)
        self.memory.put(key, data)
        return data

    def _render(self, spec: dict, width: int, height: int) -> bytes:
        import kaleido

        # kaleido's sync server is one browser tab: one chart at a time.
        with self.lock:
            if not self.started:
                self._start()
            try:
                data = kaleido.calc_fig_sync(spec, opts={"format": "svg", "width": width, "height": height})
            except Exception as exc:  # kaleido raises several types when Chromium fails
                self.started = False
                if shutil.which("chromium") is None:
                    raise ReportError(chromium_hint(), status=503) from exc
                raise ReportError(_("A chart could not be drawn: %(error)s", error=exc), status=500) from exc
            self.renders += 1
        if not data or not data.lstrip().startswith(b"<svg"):
            raise ReportError(_("A chart could not be drawn (the exporter returned no SVG)."), status=500)
        return data


EXPORTER = ChartExporter()


class StaticFetcher(URLFetcher):
    """Serve only the app's static files and this report's own chart images; refuse every other URL."""

    def __init__(self, static_folder: str, images: dict[str, bytes]):
        super().__init__(allowed_protocols=("file", "chart"))
        self.root = Path(static_folder).resolve()
        self.images = images
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """Return the resource, or raise ValueError (WeasyPrint then skips it)."""
        parts = urlsplit(url)
        if parts.scheme == "chart" and parts.path in self.images:
            kind = {"png": "image/png", "jpeg": "image/jpeg"}.get(parts.path.rsplit(".", 1)[-1], "image/svg+xml")
            return URLFetcherResponse(url, self.images[parts.path], {"Content-Type": kind})
        if parts.scheme == "file" and not parts.netloc:
            path = Path(unquote(parts.path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                kind = "text/css" if path.suffix == ".css" else "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        raise ValueError(f"The report may only use the app's own files; refused {url[:200]!r}")


_DATA_URI = re.compile(rb'(?:xlink:)?href="data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)"')


def externalise_images(name: str, svg: bytes, images: dict[str, bytes]) -> bytes:
    """Move raster images embedded in a chart's SVG (plotly draws heatmaps as PNG) into `images`.

    The SVG then points at chart:<name>-<n>.<ext>, served by StaticFetcher from this report's
    own images, so the fetcher can refuse every data: URL without losing the app's own pictures.
    """
    counter = iter(range(1_000_000))

    def replace(match: re.Match) -> bytes:
        ext = match.group(1).decode()
        key = f"{name}-{next(counter)}.{ext}"
        images[key] = base64.b64decode(match.group(2))
        return f'href="chart:{key}"'.encode()

    return _DATA_URI.sub(replace, svg)


def embed_charts(figs: dict[str, go.Figure], widths: dict[str, int]) -> tuple[dict[str, str], dict[str, bytes]]:
    """Export figures to SVG (cached) and return their chart: URLs and the report's images.

    Widths default to the page's full width; heights come from the figure builders, which
    size each chart by its content (rows of items or departments).
    """
    urls: dict[str, str] = {}
    images: dict[str, bytes] = {}
    for name, fig in figs.items():
        svg = EXPORTER.svg(fig, widths.get(name, 1000), int(fig.layout.height))
        images[name] = externalise_images(name, svg, images)
        urls[name] = f"chart:{name}"
    return urls, images


def check_lang(lang: str) -> None:
    """Refuse a report language other than nb, nn or en."""
    if lang not in LANGUAGES:
        raise ReportError(_("Choose the report language 'nb', 'nn' or 'en'."), 400)


def too_few(survey: Survey) -> ReportError:
    """Return the error for a survey whose organisation is still below the threshold."""
    return ReportError(
        _(
            "The survey has fewer than %(k)s responses, so no figures may be shown yet.",
            k=i18n.number(survey.min_group_size),
        ),
        409,
    )


def pdf_response(pdf: bytes, name: str) -> Response:
    """Send a PDF as a download (never cached: it may hold comments)."""
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _period(survey: Survey) -> str:
    # The same period as the survey list and the trend (Survey.starts_on, closed_on).
    end = i18n.day(survey.closed_on) if survey.closed_on else _("still open")
    return f"{i18n.day(survey.starts_on)} – {end}"


def _top_two(dims: list[dict], reverse: bool) -> list[dict]:
    scored = [d for d in dims if "score" in d]
    return sorted(scored, key=lambda d: d["score"], reverse=reverse)[:2]


focus_level = results.focus_level  # one definition for every output


def build_context(
    db: Database, survey: Survey, lang: str, department: str | None = None, with_comments: bool = True
) -> dict:
    """Gather the shown figures, texts and charts of one report."""
    inst = survey.instrument
    org = results.survey_results(db, survey)
    if org["suppressed"]:
        raise too_few(survey)
    group, dept = org, None
    if department:
        try:
            group = results.survey_results(db, survey, department)
        except results.UnknownDepartment as exc:
            message = _("Survey '%(slug)s' has no department '%(code)s'.", slug=survey.slug, code=department)
            raise ReportError(message, 404) from exc
        if group["suppressed"]:
            if group.get("reason") == "too_few":
                message = _(
                    "The department '%(name)s' is hidden (too few responses); no report can be made for it.",
                    name=group["department"],
                )
            else:
                message = _(
                    "The department '%(name)s' is hidden (protecting a smaller department); "
                    "no report can be made for it.",
                    name=group["department"],
                )
            raise ReportError(message, 403)
        dept = surveys.department_by_code(db, survey, department)
    series = [(charts.organisation_label(lang), org["dimensions"])]
    if dept:
        series.insert(0, (dept.name, group["dimensions"]))
        parent = group.get("parent")
        if parent and not parent["suppressed"]:
            series.insert(1, (parent["name"], parent["dimensions"]))
    figs = {
        "radar": charts.radar_figure(series, inst, lang),
        "items": charts.item_bars_figure(group["items"], inst, lang),
    }
    if group["pyramid"]:
        figs["pyramid"] = charts.pyramid_figure(group["pyramid"], inst, lang)
    # Every unit (or, for a unit's report, its sub-tree) in a table that pages: none is ever cut off.
    units = unit_rows(org["departments"], surveys.departments(db, survey), dept.code if dept else None)
    if dept and len(units) < 2:
        units = []  # a unit without sub-units: its own figures are the whole report
    # Errors (a chart that cannot be drawn) speak the reader's language; the report's texts its own.
    figures, images = embed_charts(figs, {"pyramid": 520, "radar": 520})
    focus = group.get("focus_level")
    comment_list, comments_left = None, 0
    if with_comments and inst.comment is not None:
        comment_list = comments.comments_for(db, survey, dept.code if dept else None)
    if comment_list is not None:
        config = current_app.config
        comment_list, comments_left = bounded_comments(
            comment_list, int(config["PDF_COMMENT_CHARS"]), int(config["PDF_MAX_COMMENTS"])
        )
    with i18n.language(lang):
        period, pyramid_title = _period(survey), _("The organisation's pyramid")
    return {
        "survey": survey,
        "inst": inst,
        "lang": lang,
        "org": org,
        "group": group,
        "dept": dept,
        "figures": figures,
        "images": images,
        "strengths": _top_two(group["dimensions"], reverse=True),
        "weaknesses": _top_two(group["dimensions"], reverse=False),
        "focus": inst.level(focus) if focus else None,
        "levels": {lv.id: lv for lv in inst.levels},
        "departments": [row for row, _ in units],
        "units": units,
        "with_comments": with_comments and inst.comment is not None,
        "comments": comment_list,
        "comments_left": comments_left,
        "period": period,
        "today": dt.date.today(),
        "today_iso": dt.date.today().isoformat(),
        "pyramid_title": pyramid_title,
        "level_name": lambda level_id: charts.level_label(inst, level_id, lang),
        "k": survey.min_group_size,
        "band": scoring.band,
        "alpha_warning": scoring.ALPHA_WARNING,
        "alpha_min_n": scoring.ALPHA_MIN_RESPONDENTS,
        # The organisation's report: its action plan and what became of the previous round's.
        "action_plan": "" if dept else action_section(db, survey, lang),
    }


# WeasyPrint breaks a word too long for its line by laying out the rest of the word again for
# every line: the cost grows with the square of the word's length (10 words of 5,000 letters took
# 20 s, with hyphenation several minutes). A zero-width space after every RUN characters without a
# space gives the line breaker ordinary break opportunities, so the layout stays linear.
RUN = 30
_LONG_RUN = re.compile(rf"(\S{{{RUN}}})(?=\S)")


def bounded_comments(texts: list[str], max_chars: int, max_count: int) -> tuple[list[dict], int]:
    """Return what the PDF shows of the comments (each at most max_chars, at most max_count) and how many are left.

    Bounding the length and the number of comments, and breaking long runs of characters,
    bounds the work of a report whatever respondents write. The export holds every comment in full.
    """
    shown = []
    for comment in texts[:max_count]:
        shortened = len(comment) > max_chars
        cut = comment[:max_chars].rstrip() if shortened else comment
        shown.append({"text": _LONG_RUN.sub("\\1\u200b", cut), "shortened": shortened})
    return shown, max(0, len(texts) - max_count)


def unit_rows(rows: list[dict], depts: list[surveys.Department], top: str | None = None) -> list[tuple[dict, int]]:
    """Return the units' table rows depth first with their depth (from 0), all of them or `top`'s sub-tree."""
    by_code = {row["code"]: row for row in rows}
    ordered = surveys.tree_order(depts)
    depth: dict[str, int] = {}
    for d in ordered:
        depth[d.code] = depth[d.parent] + 1 if d.parent in depth else 0
    if top is not None:
        inside = set(surveys.subtree_codes(depts, top))
        ordered = [d for d in ordered if d.code in inside]
        offset = depth[top]
        return [(by_code[d.code], depth[d.code] - offset) for d in ordered if d.code in by_code]
    return [(by_code[d.code], depth[d.code]) for d in ordered if d.code in by_code]


def render_html(context: dict) -> str:
    """Render the report's HTML (print layout), in the report's language."""
    with i18n.language(context["lang"]):
        return render_template("report/report.html", **context)


def write_pdf(html: str, images: dict[str, bytes]) -> bytes:
    """Lay the HTML out as a tagged PDF (PDF/UA) with WeasyPrint, fetching only the app's own files."""
    static = current_app.static_folder
    fetcher = StaticFetcher(static, images)
    document = HTML(string=html, base_url=Path(static).as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def make_report(
    db: Database, survey: Survey, lang: str | None = None, department: str | None = None, with_comments: bool = True
) -> bytes:
    """Return the PDF report of a survey (or of one department against the organisation)."""
    lang = lang or survey.language
    check_lang(lang)
    context = build_context(db, survey, lang, department, with_comments)
    return write_pdf(render_html(context), context["images"])


def report_filename(survey: Survey, lang: str, department: str | None) -> str:
    """Return a descriptive file name for a report."""
    parts = [survey.slug, department.lower() if department else None, lang, dt.date.today().isoformat()]
    return "report-" + "-".join(p for p in parts if p) + ".pdf"


def save_report(pdf: bytes, name: str) -> Path:
    """Write a report made on the command line under reports/ (owner-only); web downloads are never kept."""
    folder = Path(current_app.config["REPORTS_DIR"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return write_private(folder / name, pdf)


def write_private(path: Path, data: bytes) -> Path:
    """Write a file readable by its owner only (reports and exports hold what respondents wrote)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
    return path


def make_comparison(
    db: Database, survey: Survey, lang: str | None = None, codes: list[str] | None = None, sort: str | None = None
) -> bytes:
    """Return the workshop comparison (departments side by side, change since the last round) as a PDF."""
    from . import compare

    lang = lang or survey.language
    check_lang(lang)
    body = compare.comparison(db, survey, sort)
    if body["suppressed"]:
        raise too_few(survey)
    inst = survey.instrument
    picked = compare.chosen_departments(body, codes or [])
    figs = compare.comparison_figures(body, picked, inst, lang)
    # Each chart has a landscape page of its own, at the width it is drawn for.
    figures, images = embed_charts(figs, {"radar": 700, "pyramids": 1100, "trend": 1100})
    gaps = compare.reading([compare.Gap(**g) for g in body["gaps"]], inst, lang)
    if sort:
        units = [(row, 0) for row in body["departments"]]  # sorted by a figure: depth would mislead
    else:
        units = unit_rows(body["departments"], surveys.departments(db, survey))
    with i18n.language(lang):
        html = render_template(
            "report/compare.html",
            survey=survey,
            inst=inst,
            lang=lang,
            body=body,
            picked=picked,
            figures=figures,
            units=units,
            reading=gaps,
            levels={lv.id: lv for lv in inst.levels},
            today_iso=dt.date.today().isoformat(),
            k=survey.min_group_size,
        )
    return write_pdf(html, images)
