"""Confidentiality rules, in one place for every output: thresholds and complementary suppression."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

MIN_GROUP_FLOOR = 3  # SCORING.md: min_group_size is never below 3


def effective_k(min_group_size: int) -> int:
    """Return the threshold actually applied (never below the floor of 3)."""
    return max(MIN_GROUP_FLOOR, int(min_group_size))


def hidden_groups(counts: Mapping[Hashable, int], k: int) -> dict[Hashable, str]:
    """Return the groups to hide among those shown side by side, with the reason for each.

    A group below k is hidden ("too_few"). When exactly one group is hidden that way,
    the next-smallest group is hidden too ("complementary"): otherwise its count or
    figures could be recovered by subtracting the shown groups from the total.
    Groups with no responses at all reveal nothing and do not need a partner.
    """
    k = effective_k(k)
    hidden = {g: "too_few" for g, n in counts.items() if n < k}
    # A group with zero responses has nothing to protect, but an empty group is also
    # no protection for another: it must not count as the hidden partner.
    exposed = [g for g in hidden if counts[g] > 0]
    if len(exposed) == 1:
        candidates = sorted((n, str(g), g) for g, n in counts.items() if g not in hidden)
        if candidates:
            hidden[candidates[0][2]] = "complementary"
    return hidden


def cell_hidden(n: int, k: int) -> bool:
    """Return True when a single figure based on n respondents must not be shown."""
    return n < effective_k(k)


def hidden_cells(cells: Mapping[tuple[Hashable, Hashable], int], k: int) -> dict[tuple, str]:
    """Hide department x dimension cells below k, with complementary suppression per dimension column.

    cells maps (group, dimension) to that cell's n. Within each dimension the groups are
    shown side by side with the organisation's total, so the same next-smallest rule applies.
    """
    hidden: dict[tuple, str] = {}
    dims = {d for _, d in cells}
    for dim in dims:
        column = {g: n for (g, d), n in cells.items() if d == dim}
        for g, reason in hidden_groups(column, k).items():
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
