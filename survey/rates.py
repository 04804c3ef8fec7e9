"""Response rates, overall and per department, with the confidentiality rules of privacy.py applied."""

from __future__ import annotations

from sqlite_utils import Database

from . import invitations, privacy, responses
from .surveys import Survey, departments


def _rate(count: int | None, base: int | None) -> float | None:
    if count is None or not base:
        return None
    # Answers through the open link can outnumber a department's invitations; a rate
    # above 100 % would only confuse, so it is capped.
    return min(1.0, count / base)


def response_rates(db: Database, survey: Survey) -> dict:
    """Return the response rate overall and per department, as it may be shown while the survey is open.

    A department's base is its number of invitations when it has any, else the headcount
    given when the survey was created. A department hidden by privacy.hidden_groups shows
    neither its count nor its rate (the rate would give the count away); the overall rate
    is given only when every department has a base, so it cannot be combined with the
    shown departments to recover a hidden one.
    """
    depts = departments(db, survey)
    counts = responses.counts_by_department(db, survey)
    invited = invitations.invited_by_department(db, survey)
    hidden = privacy.hidden_groups({d.id: counts.get(d.id, 0) for d in depts}, survey.min_group_size)
    rows = []
    for d in depts:
        shown = privacy.visible_count(counts.get(d.id, 0), survey.min_group_size, survey.is_open, d.id in hidden)
        if invited.get(d.id):
            base, source = invited[d.id], "invitations"
        elif d.headcount:
            base, source = d.headcount, "headcount"
        else:
            base, source = None, None
        rows.append(
            {
                "department": d,
                "responses": shown,
                "hidden": hidden.get(d.id),
                "invited": invited.get(d.id, 0),
                "base": base,
                "source": source,
                "rate": _rate(shown, base),
            }
        )
    total = sum(counts.values())
    base = sum(r["base"] for r in rows) if rows and all(r["base"] for r in rows) else None
    return {
        "responses": total,
        "invited": sum(invited.values()),
        "base": base,
        "rate": _rate(total, base),
        "departments": rows,
    }


def rates_json(survey: Survey, rates: dict) -> dict:
    """Return response rates in the API's shape (department codes, no objects)."""
    depts = []
    for row in rates["departments"]:
        d = row["department"]
        out = {"code": d.code, "name": d.name, "suppressed": row["hidden"] is not None, "invited": row["invited"]}
        if row["hidden"]:
            out["reason"] = row["hidden"]
        if d.headcount is not None:
            out["headcount"] = d.headcount
        if row["base"]:
            out["base"] = row["base"]
            out["base_source"] = row["source"]
        if row["responses"] is not None:
            out["responses"] = row["responses"]
        if row["rate"] is not None:
            out["rate"] = round(row["rate"], 4)
        depts.append(out)
    body = {
        "slug": survey.slug,
        "status": survey.status,
        "min_group_size": survey.min_group_size,
        "responses": rates["responses"],
        "invited": rates["invited"],
        "departments": depts,
    }
    if rates["base"]:
        body["base"] = rates["base"]
    if rates["rate"] is not None:
        body["rate"] = round(rates["rate"], 4)
    return body
