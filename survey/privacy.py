"""Confidentiality rules, decided in one place for every output: thresholds and complementary suppression.

Every figure the app shows is a *cell*: one group (the organisation, a unit) in one *column*
(the response count, a level's score, an item's distribution, the pyramid, eNPS). Groups
form a tree: the organisation is the root, units hang below it (a flat survey is a tree of
depth one), and respondents who answered for a unit that has sub-units form a pseudo-child
of their own that is never displayed. Each column is additive over the tree: a parent's cell
is the sum of its children's cells. Anyone who reads two cells can subtract them, so hiding
a small cell is not enough; the rules below make sure no hidden cell can be worked out.

For each column:
1. Primary suppression: a cell with fewer than k answers (but some) is hidden ("too_few").
2. No hidden cell may be the only unknown of a sum. A hidden cell is worked out from below
   when all its children are shown, so a hidden parent gets a hidden child too; and from
   above when it is its parent's only hidden child, so a shown parent's hidden children,
   expanded down to the smallest hidden groups they are made of ("atoms"), must hold at
   least k answers together. Where they do not, the next-smallest shown sibling is hidden
   as well ("complementary"), or, when no sibling is left, the parent itself.
These two conditions are settled in one pass from the leaves up. Because the sums form a tree, a
hidden cell is then never the only unknown of any combination of sums, and what can be
learnt by subtracting (the total of the atoms under a shown parent) covers at least k
answers. tests/test_disclosure.py checks this by linear algebra on random trees.

A group hidden in the response-count column is hidden in every column, and a group with a
hidden level also hides that level's items and its pyramid (both would give the level away).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

MIN_GROUP_FLOOR = 3  # min_group_size is never below 3
ROOT = ""  # the organisation, the root of every tree
COUNT = "count"  # the response-count column
PYRAMID = "pyramid"
ENPS = "enps"

# Why a group or cell is hidden; the pages say it in plain words.
TOO_FEW = "too_few"  # fewer than k answers
COMPLEMENTARY = "complementary"  # hidden so that another hidden group cannot be worked out
FEW_INVITED = "few_invited"  # invitation-only survey: fewer than k people invited
LEVEL_HIDDEN = "level_hidden"  # an item or the pyramid of a group whose level is hidden
DIRECT = "direct"  # respondents who answered for a unit with sub-units: never shown on their own


REASONS = (TOO_FEW, COMPLEMENTARY, FEW_INVITED, LEVEL_HIDDEN)  # in the order the pages explain them


def reasons_in(figures: object) -> list[str]:
    """Return the reasons for hidden groups and cells found anywhere in shown figures, in REASONS order.

    Outputs list under a table what its hidden cells' reasons mean; they read them from the
    figures this module decided, never work them out again.
    """
    found: set[str] = set()
    stack = [figures]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in ("reason", "pyramid_hidden"):
                if item.get(key) in REASONS:
                    found.add(item[key])
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return [reason for reason in REASONS if reason in found]


def effective_k(min_group_size: int) -> int:
    """Return the threshold actually applied (never below the floor of 3)."""
    return max(MIN_GROUP_FLOOR, int(min_group_size))


def direct_node(unit: Hashable) -> tuple:
    """Return the pseudo-child that holds the respondents of `unit` itself (not of its sub-units)."""
    return (DIRECT, unit)


@dataclass(frozen=True)
class Tree:
    """The groups of a survey as a tree: children of each node, in display order; ROOT is the organisation."""

    children: Mapping[Hashable, tuple]

    @classmethod
    def from_parents(cls, parents: Mapping[Hashable, Hashable | None]) -> Tree:
        """Build the tree from unit -> parent unit (None or ROOT: a top-level unit), keeping the given order."""
        children: dict[Hashable, list] = {ROOT: []}
        for unit in parents:
            children.setdefault(unit, [])
        for unit, parent in parents.items():
            children[parent if parent not in (None, ROOT) else ROOT].append(unit)
        # Units with sub-units get a pseudo-child for the people who answered for the unit itself.
        for unit, kids in list(children.items()):
            if unit != ROOT and kids:
                kids.append(direct_node(unit))
                children[direct_node(unit)] = []
        return cls({node: tuple(kids) for node, kids in children.items()})

    @classmethod
    def flat(cls, units: Iterable[Hashable]) -> Tree:
        """Return the tree of a survey whose units all hang directly below the organisation."""
        return cls.from_parents({unit: None for unit in units})

    @functools.cached_property
    def order(self) -> tuple:
        """Return every node, children before their parents (the root last); computed once per tree."""
        return tuple(self.nodes_bottom_up())

    @functools.cached_property
    def position(self) -> dict:
        """Return each node's place in `order`."""
        return {node: i for i, node in enumerate(self.order)}

    def nodes_bottom_up(self) -> list:
        """Return every node, children before their parents (the root last)."""
        order: list = []
        stack = [(ROOT, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((kid, False) for kid in self.children.get(node, ()))
        return order

    def subtree_sums(self, answered_for: Mapping[Hashable, int]) -> dict:
        """Return every node's total from the counts of the unit each respondent answered for.

        A unit with sub-units keeps its own respondents in its pseudo-child, so that every
        node's total is the sum of its children's.
        """
        totals: dict = {}
        for node in self.nodes_bottom_up():
            kids = self.children.get(node, ())
            if is_direct(node):
                own = int(answered_for.get(node[1], 0))
            else:
                own = 0 if kids or node == ROOT else int(answered_for.get(node, 0))
            totals[node] = own + sum(totals[kid] for kid in kids)
        return totals

    def atoms(self) -> list:
        """Return the smallest groups: units without sub-units, and the pseudo-children."""
        return [node for node in self.nodes_bottom_up() if node != ROOT and not self.children.get(node)]


def is_direct(node: Hashable) -> bool:
    """Return True for the pseudo-child of a unit's own respondents."""
    return isinstance(node, tuple) and len(node) == 2 and node[0] == DIRECT


def suppress_column(
    tree: Tree, n: Mapping[Hashable, int], k: int, forced: Mapping[Hashable, str] | None = None
) -> dict:
    """Return the hidden cells of one additive column, with the reason for each.

    `n` maps every node (pseudo-children included) to its number of answers in this column;
    `forced` names cells hidden already for another reason (e.g. a hidden group).
    Pseudo-children are always hidden (they are never displayed).

    One pass from the leaves up settles each node's sub-tree for good: when hiding a child to
    protect a sibling makes that child a hidden total with every part shown, the chain of
    partners below it is hidden at once (smallest first), so nothing below needs a second look.
    The result is the one of checking the two conditions again and again until nothing changes.
    """
    k = effective_k(k)
    hidden: dict = dict(forced or {})
    order, position = tree.order, tree.position
    children = tree.children
    count = {node: int(n.get(node, 0)) for node in order}
    for node in order:
        if is_direct(node):
            hidden.setdefault(node, DIRECT)
        elif count[node] < k:
            # Nobody at all is "fewer than k" too: a figure needs k answers of its own to be shown.
            hidden.setdefault(node, TOO_FEW)

    def rank(node) -> tuple:
        # The next smallest, so that as little as possible is hidden; ties in display order.
        return (count[node], position[node])

    atoms: dict = {}  # a node's answers, expanded through its hidden children down to the smallest hidden groups

    def expand(node) -> None:
        hidden_kids = [kid for kid in children.get(node, ()) if kid in hidden and count[kid] > 0]
        atoms[node] = sum(atoms[kid] for kid in hidden_kids) if hidden_kids else count[node]

    def settle(node) -> None:
        # A hidden node whose children are all shown is their sum: hide the smallest, and so on down.
        chain = [node]
        while True:
            kids = [kid for kid in children.get(node, ()) if count[kid] > 0]
            if count[node] == 0 or not kids or any(kid in hidden for kid in kids):
                break
            node = min(kids, key=rank)
            hidden[node] = COMPLEMENTARY
            chain.append(node)
        for node in reversed(chain):
            expand(node)

    for node in order:
        kids = children.get(node, ())
        if not kids:
            atoms[node] = count[node]
            continue
        if node in hidden:
            settle(node)
            continue
        hidden_kids = [kid for kid in kids if kid in hidden and count[kid] > 0]
        cover = sum(atoms[kid] for kid in hidden_kids)
        if hidden_kids and cover < k:
            candidates = sorted((kid for kid in kids if kid not in hidden and count[kid] > 0), key=rank)
            for kid in candidates:
                hidden[kid] = COMPLEMENTARY
                settle(kid)
                cover += atoms[kid]
                if cover >= k:
                    break
            else:
                hidden[node] = COMPLEMENTARY
        expand(node)
    return hidden


@dataclass
class Disclosure:
    """What may be shown: hidden groups (every column) and hidden cells (one column), with reasons."""

    k: int
    rows: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)

    def row_hidden(self, node: Hashable) -> str | None:
        """Return why a whole group is hidden, or None when it is shown."""
        return self.rows.get(node)

    def cell_hidden(self, node: Hashable, column: str) -> str | None:
        """Return why one figure of a group is hidden, or None when it may be shown."""
        return self.rows.get(node) or self.cells.get((node, column))


def decide(
    tree: Tree,
    k: int,
    counts: Mapping[Hashable, int],
    columns: Mapping[str, Mapping[Hashable, int]],
    item_levels: Mapping[str, str] | None = None,
    forced_rows: Mapping[Hashable, str] | None = None,
) -> Disclosure:
    """Decide, for every group and column of a survey, what may be shown.

    `counts` maps every node to its number of responses (subtree totals); `columns` maps a
    column id (a level id, an item id, PYRAMID, ENPS) to each node's number of answers in it.
    `item_levels` maps item columns to their level, so that a hidden level hides its items;
    `forced_rows` names groups hidden whatever their size (e.g. too few invited).
    """
    k = effective_k(k)
    rows = suppress_column(tree, counts, k, forced_rows)
    for node, count in counts.items():
        # Nobody answered is also something to keep to oneself: "fewer than k", like any small group.
        if count == 0 and node not in rows and not is_direct(node):
            rows[node] = TOO_FEW
    out = Disclosure(k, rows)
    item_levels = item_levels or {}
    row_forced = dict(rows)
    levels = [c for c in columns if c not in item_levels and c not in (PYRAMID, ENPS)]
    decided: dict = {}

    def suppress(values: Mapping[Hashable, int], forced: dict) -> dict:
        # Columns often hold the same counts (everyone answered every statement of a level): decide once.
        key = (tuple(int(values.get(node, 0)) for node in tree.order), frozenset(forced.items()))
        if key not in decided:
            decided[key] = suppress_column(tree, values, k, forced)
        return decided[key]

    for column in levels:
        for node, reason in suppress(columns[column], row_forced).items():
            if node not in rows:
                out.cells[(node, column)] = reason
    level_hidden = {node for (node, column) in out.cells if column in levels}
    for column, values in columns.items():
        if column in levels:
            continue
        forced = dict(row_forced)
        if column == PYRAMID:
            forced.update({node: LEVEL_HIDDEN for node in level_hidden if node not in forced})
        elif column in item_levels:
            level = item_levels[column]
            forced.update({node: LEVEL_HIDDEN for (node, col) in out.cells if col == level and node not in forced})
        for node, reason in suppress(values, forced).items():
            if node not in rows:
                out.cells[(node, column)] = reason
    return out


def comments_visible(n: int, comment_k: int) -> bool:
    """Return True when a group of n respondents is large enough to show its comments."""
    return n >= max(MIN_GROUP_FLOOR, int(comment_k))


def comment_atoms(tree: Tree, totals: Mapping[Hashable, int], comment_k: int) -> set:
    """Return the smallest groups (see Tree.atoms) large enough for their comments to be shown.

    Every comment list (the organisation's, a unit's) holds only the comments of such atoms
    below it, so no list minus another isolates the comments of a group below the threshold.
    """
    return {node for node in tree.atoms() if comments_visible(int(totals.get(node, 0)), comment_k)}
