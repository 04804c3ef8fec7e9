"""Comparisons for workshops: departments side by side, and survey rounds over time."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlite_utils import Database

from . import charts, i18n, privacy, results, scoring
from .questionnaire import Instrument
from .surveys import Survey, departments, get_survey_by_id

POINTS_PER_UNIT = 25  # one step on the 1-5 scale is 25 points on the 0-100 score scale


def sort_departments(departments: list[dict], level: str | None) -> list[dict]:
    """Order departments by one level's score (highest first); hidden ones last, in their order."""
    if not level:
        return list(departments)

    def score(dept: dict) -> float | None:
        if dept["suppressed"]:
            return None
        cell = next((d for d in dept["dimensions"] if d["id"] == level), {})
        return None if cell.get("suppressed") else cell.get("score")

    shown = [d for d in departments if score(d) is not None]
    rest = [d for d in departments if score(d) is None]
    return sorted(shown, key=score, reverse=True) + rest


@dataclass(frozen=True)
class Gap:
    """A significant difference between a department and the rest of the organisation."""

    department: str
    level: str
    points: float
    p_adj: float
    d: float | None


def biggest_gaps(departments: list[dict], limit: int = 5) -> list[Gap]:
    """Return the largest significant differences from the rest, biggest first (shown cells only)."""
    gaps = []
    for dept in departments:
        if dept["suppressed"]:
            continue
        for cell in dept["dimensions"]:
            if cell.get("suppressed") or not cell.get("significant") or "diff" not in cell:
                continue
            gaps.append(Gap(dept["name"], cell["id"], cell["diff"] * POINTS_PER_UNIT, cell["p_adj"], cell.get("d")))
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


def _level_columns(instrument: Instrument, level_ids: list[str]) -> Instrument:
    """Return the instrument restricted to some levels (for scoring only those)."""
    return replace(instrument, levels=tuple(lv for lv in instrument.levels if lv.id in level_ids))


def _columns(instrument: Instrument, level_ids: list[str]) -> list[int]:
    position = {it.id: n for n, it in enumerate(instrument.items)}
    return [position[it.id] for lv in instrument.levels if lv.id in level_ids for it in lv.items]


def _hidden_cells(res: dict) -> dict[tuple[str, str], str]:
    """Return the (department code, level) cells a survey's results hide, with why; "" is the organisation."""
    cells = {("", d["id"]): d.get("reason") for d in res.get("dimensions", []) if d.get("suppressed")}
    for dept in res.get("departments", []):
        cells |= {(dept["code"], d["id"]): d.get("reason") for d in dept.get("dimensions", []) if d.get("suppressed")}
    return cells


def trend(db: Database, survey: Survey) -> dict:
    """Compare the survey with its previous round, organisation and departments, on shared levels.

    Rounds are independent samples (answers are anonymous), so differences use Welch's t-test;
    the p-values of the table (organisation and every department shown in both rounds) are
    adjusted together with Benjamini-Hochberg. Departments are matched by code; a department
    hidden in either round is left out. Also returns the organisation's scores in every round.
    """
    series = rounds(db, survey)
    # Scoring two rounds reads every answer twice: keep the result until any round changes.
    key = ("trend", tuple(results.stamp(db, rnd) for rnd in series))
    cached = results.CACHE.get(key)
    if cached is None:
        cached = _trend(db, survey, series)
        results.CACHE.put(key, cached)
    return cached


def _trend(db: Database, survey: Survey, series: list[Survey]) -> dict:
    history = []
    for rnd in series:
        res = results.survey_results(db, rnd)
        history.append(
            {
                "slug": rnd.slug,
                "title": rnd.title,
                # A round is named by the day it closed, as in the survey list's period (Survey.ends_on).
                "date": rnd.ends_on or rnd.starts_on,
                "suppressed": res["suppressed"],
                "index": res.get("index"),
                "scores": {d["id"]: d.get("score") for d in res.get("dimensions", []) if not d.get("suppressed")},
            }
        )
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
    now_data, prev_data = results.load_answers(db, survey), results.load_answers(db, prev)
    inst_now = _level_columns(survey.instrument, levels)
    now_vals = now_data.values[:, _columns(survey.instrument, levels)]
    prev_vals = prev_data.values[:, _columns(prev.instrument, levels)]
    k = max(privacy.effective_k(survey.min_group_size), privacy.effective_k(prev.min_group_size))

    now_res = results.survey_results(db, survey)
    prev_res = results.survey_results(db, prev)
    tables = []
    if not now_res["suppressed"] and not prev_res["suppressed"]:
        tables.append(("", scoring.compare(now_vals, prev_vals, inst_now)))
    codes_now = {d.code: d.id for d in departments(db, survey)}
    codes_prev = {d.code: d.id for d in departments(db, prev)}
    shown_now = {d["code"] for d in now_res["departments"] if not d["suppressed"]}
    shown_prev = {d["code"] for d in prev_res["departments"] if not d["suppressed"]}
    names = {d["code"]: d["name"] for d in now_res["departments"]}
    for code in [c for c in codes_now if c in codes_prev and c in shown_now and c in shown_prev]:
        a = now_vals[now_data.department == codes_now[code]]
        b = prev_vals[prev_data.department == codes_prev[code]]
        tables.append((code, scoring.compare(a, b, inst_now)))
    # One Benjamini-Hochberg family for the whole trend table.
    tested = [row for _, rows in tables for row in rows if "p" in row]
    for row, p_adj in zip(tested, scoring.benjamini_hochberg([r["p"] for r in tested]), strict=True):
        row["p_adj"] = float(p_adj)
    org_rows, dept_rows = [], []
    # A cell hidden in either round's own results (too few, or protecting another group) stays
    # hidden here too: its mean in that round would otherwise come out of the trend.
    hidden = _hidden_cells(prev_res) | _hidden_cells(now_res)
    for code, rows in tables:
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
        if code:
            dept_rows.append({"code": code, "name": names[code], "levels": cells})
        else:
            org_rows = cells
    out["organisation"] = org_rows
    out["departments"] = dept_rows
    return out


def comparison(db: Database, survey: Survey, sort: str | None = None) -> dict:
    """Return everything the comparison page, PDF and API show (privacy already applied)."""
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
    rows = sort_departments(res["departments"], sort if sort and inst.level(sort) else None)
    body["organisation"] = {k: res[k] for k in ("n", "index", "dimensions", "pyramid") if k in res}
    body["departments"] = rows
    body["gaps"] = [g.__dict__ for g in biggest_gaps(rows)]
    body["trend"] = trend(db, survey)
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


def comparison_figures(
    body: dict, picked: list[dict], inst: Instrument, lang: str, hidden_label: str, marks: dict | None = None
) -> dict:
    """Build the comparison's plotly figures from already filtered figures (`marks`: reasons on hidden cells)."""
    org_label = charts.organisation_label(lang)
    figures = {
        "heatmap": charts.heatmap_figure(body["departments"], inst, lang, hidden_label, marks),
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
