"""Response counts and rates, overall and per department, with the confidentiality rules of privacy.py applied."""

from __future__ import annotations

from sqlite_utils import Database

from . import invitations, privacy, responses
from .surveys import Department, Survey, departments


def forced_rows(db: Database, survey: Survey) -> dict[str, str]:
    """Return the units hidden whatever their answers: in an invitation-only survey, those with < k invited.

    A unit's invited are those of its whole sub-tree.
    """
    if not survey.invitation_only:
        return {}
    k = privacy.effective_k(survey.min_group_size)
    depts = departments(db, survey)
    invited = subtree_invited(depts, invitations.invited_by_department(db, survey))
    return {d.code: privacy.FEW_INVITED for d in depts if invited[d.code] < k}


def subtree_invited(depts: list[Department], invited: dict[int, int]) -> dict[str, int]:
    """Return each unit's invitations together with those of every unit below it."""
    tree = privacy.Tree.from_parents({d.code: d.parent for d in depts})
    return tree.subtree_sums({d.code: invited.get(d.id, 0) for d in depts})


def group_size(headcount: int | None, invited: int) -> tuple[int | None, str | None]:
    """Return a group's size and where it comes from: the headcount when given, else its invitations; the larger."""
    candidates = [(headcount, "headcount"), (invited or None, "invitations")]
    known = [(size, source) for size, source in candidates if size]
    if not known:
        return None, None
    return max(known, key=lambda pair: pair[0])


def rate(count: int | None, size: int | None) -> float | None:
    """Return count / size, never above 1 (more answers than people is reported as a warning, not a rate)."""
    if count is None or not size:
        return None
    return min(1.0, count / size)


def response_rates(db: Database, survey: Survey) -> dict:
    """Return response counts and rates overall and per unit, as they may be shown (open or closed).

    A unit counts the answers, invitations and size of its whole sub-tree (its headcount is
    taken to include its sub-units).

    The counts form a table that adds up (the organisation is the sum of its departments), so
    they go through the same suppression as every figure: a department below the threshold,
    or hidden so that it cannot be worked out from the total, shows neither its count nor its
    rate (the rate would give the count away).
    """
    depts = departments(db, survey)
    counts = responses.counts_by_department(db, survey)
    invited = subtree_invited(depts, invitations.invited_by_department(db, survey))
    tree = privacy.Tree.from_parents({d.code: d.parent for d in depts})
    totals = tree.subtree_sums({d.code: counts.get(d.id, 0) for d in depts})
    hidden = privacy.suppress_column(tree, totals, survey.min_group_size, forced_rows(db, survey))
    for code, count in totals.items():
        # That nobody in a group answered is kept to oneself as well: "fewer than k".
        if count == 0 and code not in hidden and not privacy.is_direct(code):
            hidden[code] = privacy.TOO_FEW
    rows = []
    for d in depts:
        reason = hidden.get(d.code)
        shown = None if reason else totals[d.code]
        size, source = group_size(d.headcount, invited[d.code])
        rows.append(
            {
                "department": d,
                "responses": shown,
                "hidden": reason,
                "invited": invited[d.code],
                "base": size,
                "source": source,
                "rate": rate(shown, size),
                "over": shown is not None and size is not None and shown > size,
            }
        )
    total = totals[privacy.ROOT]
    total_shown = None if privacy.ROOT in hidden else total
    # The organisation's size is that of its top-level units (each counts its sub-units already).
    sizes = [r["base"] for r in rows if not r["department"].parent]
    base = sum(sizes) if sizes and all(sizes) else None
    return {
        "responses": total_shown,
        "invited": invited[privacy.ROOT],
        "base": base,
        "rate": rate(total_shown, base),
        "over": total_shown is not None and base is not None and total_shown > base,
        "departments": rows,
    }


def rates_json(survey: Survey, rates: dict) -> dict:
    """Return response rates in the API's shape (department codes, no objects)."""
    depts = []
    for row in rates["departments"]:
        d = row["department"]
        out = {"code": d.code, "name": d.name, "suppressed": row["hidden"] is not None, "invited": row["invited"]}
        if d.parent:
            out["parent"] = d.parent
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
        if row["over"]:
            out["more_responses_than_size"] = True
        depts.append(out)
    body = {
        "slug": survey.slug,
        "status": survey.status,
        "min_group_size": survey.min_group_size,
        "invited": rates["invited"],
        "departments": depts,
    }
    if rates["responses"] is not None:
        body["responses"] = rates["responses"]
    if rates["base"]:
        body["base"] = rates["base"]
    if rates["rate"] is not None:
        body["rate"] = round(rates["rate"], 4)
    if rates["over"]:
        body["more_responses_than_size"] = True
    return body
