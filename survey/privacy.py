"""Confidentiality rules, in one place for every output: thresholds and complementary suppression."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

MIN_GROUP_FLOOR = 3  # SCORING.md: min_group_size is never below 3


def effective_k(min_group_size: int) -> int:
    """Return the threshold actually applied (never below the floor of 3)."""
    return max(MIN_GROUP_FLOOR, int(min_group_size))


def hidden_groups(
    counts: Mapping[Hashable, int], k: int, forced: Mapping[Hashable, str] | None = None
) -> dict[Hashable, str]:
    """Return the groups to hide among those shown side by side, with the reason for each.

    A group below k is hidden ("too_few"). When exactly one group is hidden that way,
    the next-smallest group is hidden too ("complementary"): otherwise its count or
    figures could be recovered by subtracting the shown groups from the total.
    Groups with no responses at all reveal nothing and do not need a partner.
    `forced` names groups hidden already for another reason (e.g. a hidden department in
    a column of department x dimension cells); they count as hidden partners.
    """
    k = effective_k(k)
    hidden = dict(forced or {})
    hidden.update({g: "too_few" for g, n in counts.items() if n < k and g not in hidden})
    # A group with zero responses has nothing to protect, but an empty group is also
    # no protection for another: it must not count as the hidden partner.
    exposed = [g for g in hidden if counts[g] > 0]
    if len(exposed) == 1:
        candidates = sorted((n, str(g), g) for g, n in counts.items() if g not in hidden)
        if candidates:
            hidden[candidates[0][2]] = "complementary"
    return hidden


def hidden_cells(
    cells: Mapping[tuple[Hashable, Hashable], int], k: int, hidden_rows: Mapping[Hashable, str] | None = None
) -> dict[tuple, str]:
    """Hide department x dimension cells below k, with complementary suppression per dimension column.

    cells maps (group, dimension) to that cell's n. Within each dimension the groups are
    shown side by side with the organisation's total, so the same next-smallest rule applies;
    rows in `hidden_rows` (hidden departments) are hidden in every column.
    """
    hidden: dict[tuple, str] = {}
    dims = sorted({d for _, d in cells}, key=str)
    for dim in dims:
        column = {g: n for (g, d), n in cells.items() if d == dim}
        forced = {g: r for g, r in (hidden_rows or {}).items() if g in column}
        for g, reason in hidden_groups(column, k, forced).items():
            hidden[(g, dim)] = reason
    return hidden


def visible_count(n: int, k: int, survey_open: bool, hidden: bool) -> int | None:
    """Return a group's response count if it may be shown, else None.

    While a survey is open the exact count of a hidden group is not shown: it would
    tell colleagues who has answered. Once closed, counts are part of the response rate.
    """
    if hidden and survey_open:
        return None
    return n


def comments_visible(n: int, comment_k: int) -> bool:
    """Return True when a group's comments may be shown."""
    return n >= max(MIN_GROUP_FLOOR, int(comment_k))


DIMENSION_KEYS = ("id", "n", "mean", "score", "ci_low", "ci_high", "favourable", "alpha", "alpha_n")


def public_dimension(dim: dict) -> dict:
    """Return the publishable figures of one dimension (a copy, never the scoring dict itself)."""
    return {key: dim[key] for key in DIMENSION_KEYS if key in dim}


def shown_group(result: dict, k: int, survey_open: bool, reason: str | None) -> dict:
    """Filter one group's scoring result: all of it when it may be shown, else only that it is hidden.

    A hidden group keeps no score of any kind, no pyramid and no item figure; its exact count
    is left out while the survey is open. Inside a shown group, a dimension, item or eNPS figure
    resting on fewer than k answers is hidden on its own.
    """
    k = effective_k(k)
    n = result["n"]
    if reason is not None or n < k:
        hidden = {"suppressed": True, "reason": reason or "too_few"}
        if not survey_open:
            hidden["n"] = n
        return hidden
    dims = [public_dimension(d) if d["n"] >= k else {"id": d["id"], "suppressed": True} for d in result["dimensions"]]
    out = {"n": n, "suppressed": False}
    if "index" in result and all(not d.get("suppressed") for d in dims):
        out["index"] = result["index"]
    if "enps" in result and result["enps_n"] >= k:
        out["enps"] = result["enps"]
        out["enps_n"] = result["enps_n"]
    out["dimensions"] = dims
    out["pyramid"] = [dict(p) for p in result["pyramid"]]
    out["items"] = [
        {key: item[key] for key in ("id", "level", "n", "mean", "favourable", "counts") if key in item}
        if item["n"] >= k
        else {"id": item["id"], "level": item["level"], "suppressed": True}
        for item in result["items"]
    ]
    return out


def lone_hidden(column: Mapping[Hashable, int], hidden: Mapping[tuple, str], key: Hashable) -> Hashable | None:
    """Return `key` when exactly one hidden cell of this column has answers (else None).

    `column` maps group to its n in the column; `hidden` holds the hidden (group, key) cells.
    Such a lone cell equals the total minus the shown cells, so the total must not be shown.
    """
    with_answers = [g for g, n in column.items() if (g, key) in hidden and n > 0]
    return key if len(with_answers) == 1 else None


def hide_like_row(group: dict, row: dict) -> None:
    """Hide in one department's own results every figure its row in the departments table hides."""
    hidden_levels = {d["id"] for d in row.get("dimensions", []) if d.get("suppressed")}
    if row.get("suppressed"):
        hidden_levels = {d["id"] for d in group["dimensions"]}
    if not hidden_levels:
        return
    group["dimensions"] = [
        {"id": d["id"], "suppressed": True} if d["id"] in hidden_levels else d for d in group["dimensions"]
    ]
    group.pop("index", None)
    # Item figures of a hidden level would give its score away nearly as well.
    group["items"] = [
        {"id": it["id"], "level": it["level"], "suppressed": True} if it["level"] in hidden_levels else it
        for it in group["items"]
    ]
