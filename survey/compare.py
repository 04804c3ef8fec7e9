"""Comparisons for workshops: departments side by side, and survey rounds over time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlite_utils import Database

from . import charts, i18n, privacy, results, scoring
from .questionnaire import Instrument
from .surveys import Survey, get_survey_by_id

POINTS_PER_UNIT = 25  # one step on the 1-5 scale is 25 points on the 0-100 score scale


SORT_KEYS = ("index", "n", "name")  # besides a level id


def sort_departments(departments: list[dict], level: str | None, descending: bool | None = None) -> list[dict]:
    """Order units by a level's score, the index or the number of answers (highest first), or by name (A-Z).

    Units hidden (or whose figure is hidden) come last, in their own order. `descending`
    overrides the direction (None: numbers from the highest, names from A).
    """
    if not level:
        return list(departments)
    if level == "name":
        return sorted(departments, key=lambda d: d["name"].casefold(), reverse=bool(descending))

    def value(dept: dict) -> float | None:
        if dept["suppressed"]:
            return None
        if level in ("index", "n"):
            return dept.get(level)
        cell = next((d for d in dept["dimensions"] if d["id"] == level), {})
        return None if cell.get("suppressed") else cell.get("score")

    shown = [d for d in departments if value(d) is not None]
    rest = [d for d in departments if value(d) is None]
    return sorted(shown, key=value, reverse=descending is not False) + rest


@dataclass(frozen=True)
class Gap:
    """A significant difference between a department and the rest of the organisation."""

    department: str
    level: str
    points: float
    p_adj: float
    d: float | None


def significant_cells(departments: list[dict]) -> Iterator[tuple[dict, dict]]:
    """Yield (department, level cell) for every shown cell that differs significantly from the rest."""
    for dept in departments:
        if dept["suppressed"]:
            continue
        for cell in dept["dimensions"]:
            if not cell.get("suppressed") and cell.get("significant") and "diff" in cell:
                yield dept, cell


def biggest_gaps(departments: list[dict], limit: int = 5) -> list[Gap]:
    """Return the largest significant differences from the rest, biggest first (shown cells only)."""
    gaps = [
        Gap(dept["name"], cell["id"], cell["diff"] * POINTS_PER_UNIT, cell["p_adj"], cell.get("d"))
        for dept, cell in significant_cells(departments)
    ]
    return sorted(gaps, key=lambda g: abs(g.points), reverse=True)[:limit]


def reading(gaps: list[Gap], instrument: Instrument, lang: str) -> list[str]:
    """Write the biggest gaps as plain sentences, in the language given."""
    name = {lv.id: lv.name[lang] for lv in instrument.levels}
    lines = []
    with i18n.language(lang):
        for g in gaps:
            size = abs(g.d) if g.d is not None else 0.0
            strength = "clear" if size >= 0.5 else "moderate" if size >= 0.2 else "small"
            values = {
                "department": g.department,
                "points": i18n.number(abs(g.points), lang=lang),
                "level": name[g.level],
            }
            lines.append(_SENTENCES[(g.points > 0, strength)](**values))
    return lines


# One whole sentence per direction and size of a difference, so that each language can word it its own way.
_SENTENCES = {
    (True, "clear"): lambda **v: _(
        "%(department)s scores %(points)s points higher than the rest of the organisation on %(level)s "
        "(a clear difference).",
        **v,
    ),
    (True, "moderate"): lambda **v: _(
        "%(department)s scores %(points)s points higher than the rest of the organisation on %(level)s "
        "(a moderate difference).",
        **v,
    ),
    (True, "small"): lambda **v: _(
        "%(department)s scores %(points)s points higher than the rest of the organisation on %(level)s "
        "(a small difference).",
        **v,
    ),
    (False, "clear"): lambda **v: _(
        "%(department)s scores %(points)s points lower than the rest of the organisation on %(level)s "
        "(a clear difference).",
        **v,
    ),
    (False, "moderate"): lambda **v: _(
        "%(department)s scores %(points)s points lower than the rest of the organisation on %(level)s "
        "(a moderate difference).",
        **v,
    ),
    (False, "small"): lambda **v: _(
        "%(department)s scores %(points)s points lower than the rest of the organisation on %(level)s "
        "(a small difference).",
        **v,
    ),
}


def rounds(db: Database, survey: Survey, limit: int = 12) -> list[Survey]:
    """Return the survey's closed series, oldest first, following previous rounds (at most `limit`).

    A round that is not closed has no released results, so the series stops before it.
    """
    chain, seen, current = [survey], {survey.id}, survey
    while current.previous_id and len(chain) < limit:
        current = get_survey_by_id(db, current.previous_id)
        if current is None or current.id in seen or not current.is_closed:
            break
        chain.append(current)
        seen.add(current.id)
    return list(reversed(chain))


def _item_key(item) -> tuple:
    return (item.id, item.level, item.text["nb"], item.text["en"], item.reverse)


def shared(a: Instrument, b: Instrument) -> tuple[list[str], list[str]]:
    """Return the level ids and item ids two instruments share (same items, same wording)."""
    keys_b = {_item_key(it) for it in b.items}
    items = [it.id for it in a.items if _item_key(it) in keys_b]
    levels = []
    for lv in a.levels:
        other = b.level(lv.id)
        if other and [_item_key(i) for i in lv.items] == [_item_key(i) for i in other.items]:
            levels.append(lv.id)
    return levels, items


def _hidden_cells(res: dict) -> dict[tuple[str, str], str]:
    """Return the (department code, level) cells a survey's results hide, with why; "" is the organisation."""
    cells = {("", d["id"]): d.get("reason") for d in res.get("dimensions", []) if d.get("suppressed")}
    for dept in res.get("departments", []):
        cells |= {(dept["code"], d["id"]): d.get("reason") for d in dept.get("dimensions", []) if d.get("suppressed")}
    return cells


def trend(db: Database, survey: Survey) -> dict:
    """Compare the survey with its previous round, organisation and units, on shared levels.

    Rounds are independent samples (answers are anonymous), so differences use Welch's t-test;
    the p-values of the table (organisation and every unit shown in both rounds) are adjusted
    together with Benjamini-Hochberg. Units are matched by code, each with its whole sub-tree;
    a unit hidden in either round is left out. Also returns the organisation's scores in every round.
    """
    series = rounds(db, survey)
    # Scoring two rounds reads every answer twice: keep the result until any round changes.
    key = ("trend", tuple(results.stamp(db, rnd) for rnd in series))
    cached = results.CACHE.get(key)
    if cached is None:
        cached = _trend(db, survey, series)
        results.CACHE.put(key, cached)
    return cached


def _round_scores(rnd: Survey, figures: dict) -> dict:
    return {
        "slug": rnd.slug,
        "title": rnd.title,
        # A round is named by the day it closed, as in the survey list's period (Survey.ends_on).
        "date": rnd.ends_on or rnd.starts_on,
        "suppressed": figures["suppressed"],
        "index": figures.get("index"),
        "scores": {d["id"]: d.get("score") for d in figures.get("dimensions", []) if not d.get("suppressed")},
    }


def _trend(db: Database, survey: Survey, series: list[Survey]) -> dict:
    history = [_round_scores(rnd, results.survey_results(db, rnd)) for rnd in series]
    out: dict = {"rounds": history, "previous": None}
    if len(series) < 2:
        return out
    prev = series[-2]
    levels, items = shared(survey.instrument, prev.instrument)
    out["previous"] = {"slug": prev.slug, "title": prev.title}
    out["shared_levels"] = levels
    out["shared_items"] = items
    out["same_instrument"] = len(levels) == len(survey.instrument.levels) and len(items) == len(survey.instrument.items)
    if not levels:
        out["organisation"], out["departments"] = [], []
        return out
    k = max(privacy.effective_k(survey.min_group_size), privacy.effective_k(prev.min_group_size))
    now_res, prev_res = results.survey_results(db, survey), results.survey_results(db, prev)
    now, before = results.survey_state(db, survey), results.survey_state(db, prev)
    pairs = []
    if not now_res["suppressed"] and not prev_res["suppressed"]:
        pairs.append(privacy.ROOT)
    shown_prev = {d["code"] for d in prev_res["departments"] if not d["suppressed"]}
    parent = {}
    for d in now_res["departments"]:
        if not d["suppressed"] and d["code"] in shown_prev:
            pairs.append(d["code"])
            parent[d["code"]] = d.get("parent")
    names = {d["code"]: d["name"] for d in now_res["departments"]}
    table = _round_differences(now, before, pairs, levels)
    # A cell hidden in either round's own results (too few, or protecting another group) stays
    # hidden here too: its mean in that round would otherwise come out of the trend.
    hidden = _hidden_cells(prev_res) | _hidden_cells(now_res)
    org_rows, dept_rows = [], []
    for code, rows in zip(pairs, table, strict=True):
        cells = []
        for row in rows:
            cell = {"id": row["id"], "n_now": row["n_a"], "n_previous": row["n_b"]}
            if row["n_a"] < k or row["n_b"] < k or (code, row["id"]) in hidden:
                reason = hidden.get((code, row["id"])) or privacy.TOO_FEW
                cell = {"id": row["id"], "suppressed": True, "reason": reason}
            else:
                for key in ("mean_a", "mean_b", "diff", "p", "p_adj", "d"):
                    if key in row:
                        cell[{"mean_a": "mean_now", "mean_b": "mean_previous"}.get(key, key)] = row[key]
                if "diff" in row:
                    cell["points"] = row["diff"] * POINTS_PER_UNIT
                cell["significant"] = bool(row.get("p_adj", 1.0) < scoring.SIGNIFICANCE)
            cells.append(cell)
        if code == privacy.ROOT:
            org_rows = cells
        else:
            row_out = {"code": code, "name": names[code], "levels": cells}
            if parent.get(code):
                row_out["parent"] = parent[code]
            dept_rows.append(row_out)
    out["organisation"] = org_rows
    out["departments"] = dept_rows
    return out


def _round_differences(now: results.State, before: results.State, nodes: list, levels: list[str]) -> list[list[dict]]:
    """Compare each node (a unit's code, matched in both rounds, or the organisation) now and before, per shared level.

    Every p-value of the table forms one Benjamini-Hochberg family.
    """
    if not nodes:
        return []
    cols_now = [[lv.id for lv in now.survey.instrument.levels].index(lv) for lv in levels]
    cols_before = [[lv.id for lv in before.survey.instrument.levels].index(lv) for lv in levels]
    rows_now = [now.groups.row[node] for node in nodes]
    rows_before = [before.groups.row[node] for node in nodes]
    a, b = now.figures, before.figures
    na, ma, va = (x[rows_now][:, cols_now] for x in (a.dim_n, a.dim_mean, a.dim_var))
    nb, mb, vb = (x[rows_before][:, cols_before] for x in (b.dim_n, b.dim_mean, b.dim_var))
    p, d = scoring.welch_moments(na, ma, va, nb, mb, vb)
    table = []
    for g in range(len(nodes)):
        rows = []
        for j, level in enumerate(levels):
            row = {"id": level, "n_a": int(na[g, j]), "n_b": int(nb[g, j])}
            if na[g, j] > 0:
                row["mean_a"] = float(ma[g, j])
            if nb[g, j] > 0:
                row["mean_b"] = float(mb[g, j])
            if na[g, j] > 0 and nb[g, j] > 0:
                row["diff"] = float(ma[g, j] - mb[g, j])
            for key, value in (("p", p[g, j]), ("d", d[g, j])):
                if math.isfinite(value):
                    row[key] = float(value)
            rows.append(row)
        table.append(rows)
    tested = [row for rows in table for row in rows if "p" in row]
    for row, p_adj in zip(tested, scoring.benjamini_hochberg([r["p"] for r in tested]).tolist(), strict=True):
        row["p_adj"] = float(p_adj)
    return table


def unit_trend(db: Database, survey: Survey, code: str) -> dict:
    """Return one unit's trend: its scores in every round where a unit of that code was shown, and the change.

    `rounds` follows the series (oldest first); a round without the unit, or where it is
    hidden, says so. `previous` is the unit's row of the trend table (null when it is not
    shown in both rounds).
    """
    history = []
    for rnd in rounds(db, survey):
        res = results.survey_results(db, rnd)
        row = next((d for d in res.get("departments", []) if d["code"].lower() == code.lower()), None)
        entry = _round_scores(rnd, row or {"suppressed": True})
        if row is None:
            entry["absent"] = True
        history.append(entry)
    table = trend(db, survey)
    mine = next((d for d in table.get("departments") or [] if d["code"].lower() == code.lower()), None)
    return {"rounds": history, "previous": table["previous"], "change": mine["levels"] if mine else None}


TOP = "*"  # ?parent=* : the top-level units


def comparison(
    db: Database,
    survey: Survey,
    sort: str | None = None,
    parent: str | None = None,
    page: int = 1,
    per_page: int | None = None,
    descending: bool | None = None,
) -> dict:
    """Return everything the comparison page, PDF and API show (privacy already applied).

    `parent` keeps the units directly below that unit (TOP: the top-level units); `sort` orders
    them (a level id, "index", "n" or "name"); `per_page` pages through them (None: all at once).
    The biggest gaps are found among every unit the filter keeps; the trend lists the units of the page.
    """
    res = results.survey_results(db, survey)
    body = {
        "slug": survey.slug,
        "title": survey.title,
        "suppressed": res["suppressed"],
        "min_group_size": survey.min_group_size,
    }
    if res["suppressed"]:
        return body
    inst = survey.instrument
    units = res["departments"]
    if parent is not None:
        wanted = None if parent == TOP else parent.lower()
        if wanted is not None and not any(d["code"].lower() == wanted for d in units):
            raise results.UnknownDepartment(survey, parent)
        units = [d for d in units if (d.get("parent") or "").lower() == (wanted or "")]
    key = sort if sort and (inst.level(sort) or sort in SORT_KEYS) else None
    rows = sort_departments(units, key, descending)
    total = len(rows)
    if per_page:
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        shown_rows = rows[(page - 1) * per_page : page * per_page]
        body["paging"] = {"page": page, "per_page": per_page, "pages": pages, "total": total}
    else:
        shown_rows = rows
    body["organisation"] = {k: res[k] for k in ("n", "index", "dimensions", "pyramid", "focus_level") if k in res}
    if parent not in (None, TOP):
        parent_row = next(d for d in res["departments"] if d["code"].lower() == parent.lower())
        body["parent"] = parent_row
    body["departments"] = shown_rows
    body["gaps"] = [g.__dict__ for g in biggest_gaps(rows)]
    full = trend(db, survey)
    if per_page or parent is not None:
        codes = {d["code"] for d in shown_rows}
        full = {**full, "departments": [d for d in full.get("departments") or [] if d["code"] in codes]}
    body["trend"] = full
    return body


MAX_OVERLAY = 4  # departments laid over the organisation in the radar and the pyramids


def chosen_departments(body: dict, codes: list[str]) -> list[dict]:
    """Return the shown departments picked for the overlay (at most MAX_OVERLAY, in the order given)."""
    shown = {d["code"].lower(): d for d in body.get("departments", []) if not d["suppressed"]}
    picked = []
    for code in codes:
        dept = shown.get(code.lower())
        if dept and dept not in picked:
            picked.append(dept)
    return picked[:MAX_OVERLAY]


def comparison_figures(body: dict, picked: list[dict], inst: Instrument, lang: str) -> dict:
    """Build the comparison's plotly figures from already filtered figures."""
    org_label = charts.organisation_label(lang)
    figures = {
        "radar": charts.radar_figure(
            [(org_label, body["organisation"]["dimensions"])] + [(d["name"], d["dimensions"]) for d in picked],
            inst,
            lang,
        ),
    }
    # A hidden pyramid (one of its levels is hidden) is left out rather than drawn.
    pyramids = [(org_label, body["organisation"].get("pyramid"))] + [(d["name"], d.get("pyramid")) for d in picked]
    pyramids = [(name, steps) for name, steps in pyramids if steps]
    if pyramids:
        figures["pyramids"] = charts.pyramids_figure(pyramids, inst, lang)
    if len(body["trend"]["rounds"]) > 1:
        figures["trend"] = charts.trend_figure(body["trend"]["rounds"], inst, lang)
    return figures
