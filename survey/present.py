"""The workshop presentation: one view per screen, built from figures that passed the confidentiality rules.

Everything here comes from results.survey_results() and compare.comparison() (privacy already
applied): a hidden group or cell stays hidden on every slide. Charts are the pages' own
plotly figures, with larger type and no fixed size, so that they fill a projector screen.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import actions, charts, compare, followup, results
from .surveys import Survey

POINTS = compare.POINTS_PER_UNIT
MAX_LISTED = 10  # differences listed per column of the strengths-and-concerns slide


def projector(fig) -> dict:
    """Return a figure for a projector: large type, thicker lines, sized by its slide (no fixed height)."""
    fig.update_layout(font={"size": 24}, legend={"font": {"size": 22}}, height=None, width=None, autosize=True)
    fig.update_layout(margin={"l": 40, "r": 40, "t": 40, "b": 40})
    return fig.to_dict()


def _differences(departments: list[dict]) -> tuple[list[dict], list[dict]]:
    """Return the significant differences from the rest: higher ones and lower ones, each biggest first."""
    higher, lower = [], []
    for dept, cell in compare.significant_cells(departments):
        row = {"department": dept["name"], "code": dept["code"], "level": cell["id"], "points": cell["diff"] * POINTS}
        (higher if cell["diff"] > 0 else lower).append(row)
    higher.sort(key=lambda r: -r["points"])
    lower.sort(key=lambda r: r["points"])
    return higher, lower


def _item_cells(db: Database, survey: Survey, body: dict, org: dict) -> dict:
    """Return (code or "" for the organisation, item id) -> the item's shown figures or {"suppressed": True}."""
    cells = {("", item["id"]): item for item in org.get("items", [])}
    for dept in body["departments"]:
        if dept["suppressed"]:
            continue
        own = results.survey_results(db, survey, dept["code"])
        for item in own.get("items", []):
            cells[(dept["code"], item["id"])] = item
    return cells


def deck(db: Database, survey: Survey, codes: list[str], lang: str) -> dict:
    """Return what the slides show: figures, tables, differences, trend, follow-up and the current plan."""
    org = results.survey_results(db, survey)
    if org["suppressed"]:
        return {"suppressed": True}
    body = compare.comparison(db, survey)
    inst = survey.instrument
    picked = compare.chosen_departments(body, codes)
    clang = lang
    org_label = charts.organisation_label(clang)
    figures = {
        "radar": projector(
            charts.radar_figure(
                [(org_label, org["dimensions"])] + [(d["name"], d["dimensions"]) for d in picked], inst, clang
            )
        )
    }
    if org.get("pyramid"):
        figures["pyramid"] = projector(charts.pyramid_figure(org["pyramid"], inst, clang))
    if len(body["trend"]["rounds"]) > 1:
        figures["trend"] = projector(charts.trend_figure(body["trend"]["rounds"], inst, clang))
    higher, lower = _differences(body["departments"])
    scored = [d for d in org["dimensions"] if not d.get("suppressed") and "score" in d]
    return {
        "suppressed": False,
        "org": org,
        "body": body,
        "picked": picked,
        "figures": figures,
        "items": _item_cells(db, survey, body, org),
        "higher": higher,
        "lower": lower,
        "max_listed": MAX_LISTED,
        "strongest": sorted(scored, key=lambda d: -d["score"])[:2],
        "weakest": sorted(scored, key=lambda d: d["score"])[:2],
        "trend": body["trend"],
        "followup": followup.since_last_time(db, survey),
        "plan": actions.list_actions(db, survey),
    }
