"""Confidentiality rules: thresholds and complementary suppression in tables that add up, flat and nested."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.privacy import (
    COMPLEMENTARY,
    DIRECT,
    ROOT,
    TOO_FEW,
    Tree,
    comment_atoms,
    comments_visible,
    decide,
    direct_node,
    effective_k,
    is_direct,
    suppress_column,
)


def flat(counts: dict) -> tuple[Tree, dict]:
    tree = Tree.flat(list(counts))
    return tree, tree.subtree_sums(counts)


def hidden_units(counts: dict, k: int) -> dict:
    tree, n = flat(counts)
    return {g: r for g, r in suppress_column(tree, n, k).items() if g != ROOT}


@pytest.mark.parametrize(
    ("counts", "k", "expected"),
    [
        ({"a": 10, "b": 7, "c": 5}, 5, {}),  # exactly at k is shown
        ({"a": 10, "b": 7, "c": 4}, 5, {"c": TOO_FEW, "b": COMPLEMENTARY}),  # one below k: the next smallest too
        ({"a": 10, "b": 3, "c": 4}, 5, {"b": TOO_FEW, "c": TOO_FEW}),  # together 7 >= 5: no partner needed
        ({"a": 10, "b": 1, "c": 1, "d": 20}, 5, {"b": TOO_FEW, "c": TOO_FEW, "a": COMPLEMENTARY}),  # 1 + 1 < 5
        ({"a": 10, "b": 0, "c": 4}, 5, {"b": TOO_FEW, "c": TOO_FEW, "a": COMPLEMENTARY}),  # empty: no cover
        ({"a": 9, "b": 2}, 2, {"b": TOO_FEW, "a": COMPLEMENTARY}),  # k is never below 3
    ],
)
def test_flat_suppression(counts, k, expected):
    assert hidden_units(counts, k) == expected


def test_the_organisation_is_hidden_when_no_partner_is_left():
    tree, n = flat({"a": 4})
    assert suppress_column(tree, n, 5) == {"a": TOO_FEW, ROOT: TOO_FEW}
    tree, n = flat({"a": 2, "b": 1})
    assert suppress_column(tree, n, 5)[ROOT] == TOO_FEW


def test_effective_k_floor():
    assert effective_k(1) == 3 and effective_k(5) == 5


def test_comment_threshold():
    assert not comments_visible(9, 10) and comments_visible(10, 10) and not comments_visible(2, 1)


def test_complementary_partner_is_the_smallest_shown_whatever_the_order():
    counts = {"a": 50, "b": 12, "c": 30, "d": 2}
    for perm in itertools.permutations(counts):
        assert hidden_units({g: counts[g] for g in perm}, 5) == {"d": TOO_FEW, "b": COMPLEMENTARY}


def test_a_units_own_respondents_are_a_hidden_group_of_their_own():
    """Two people answered for a division itself: the division minus its departments would show them."""
    tree = Tree.from_parents({"div": None, "x": "div", "y": "div", "other": None})
    n = tree.subtree_sums({"div": 2, "x": 20, "y": 30, "other": 40})
    assert n["div"] == 52 and n[direct_node("div")] == 2
    hidden = suppress_column(tree, n, 5)
    assert hidden[direct_node("div")] == DIRECT
    assert hidden["x"] == COMPLEMENTARY  # 2 + 20 >= 5: the smallest department covers them
    assert "div" not in hidden and "y" not in hidden


def test_a_hidden_parent_cannot_be_worked_out_from_its_shown_children():
    """A parent hidden to protect a sibling must not equal the sum of its own shown children."""
    tree = Tree.from_parents({"p": None, "p1": "p", "p2": "p", "q": None})
    n = tree.subtree_sums({"p1": 10, "p2": 12, "q": 3})
    hidden = suppress_column(tree, n, 5)
    assert hidden["q"] == TOO_FEW and hidden["p"] == COMPLEMENTARY
    assert hidden["p1"] == COMPLEMENTARY  # else p = p1 + p2 would give p, and with it q
    assert not recoverable(tree, hidden, n)


def test_decide_hides_items_and_pyramid_of_a_hidden_level():
    tree = Tree.flat(["a", "b", "c"])
    counts = tree.subtree_sums({"a": 10, "b": 9, "c": 8})
    level = tree.subtree_sums({"a": 10, "b": 9, "c": 2})  # few in c answered enough of the level
    item = tree.subtree_sums({"a": 10, "b": 9, "c": 8})
    rules = decide(tree, 5, counts, {"lv": level, "it": item, "pyramid": counts}, {"it": "lv"})
    assert rules.cell_hidden("c", "lv") == TOO_FEW and rules.cell_hidden("b", "lv") == COMPLEMENTARY
    assert rules.cell_hidden("c", "it") and rules.cell_hidden("c", "pyramid")
    assert rules.cell_hidden("a", "lv") is None and rules.cell_hidden("a", "pyramid") is None
    assert rules.row_hidden("c") is None  # the group itself, and its count, are shown


def test_comment_atoms():
    tree = Tree.from_parents({"div": None, "x": "div", "y": "div"})
    counts = {"x": 12, "y": 4, direct_node("div"): 10}
    assert comment_atoms(tree, counts, 10) == {"x", direct_node("div")}


# --- the property: nothing hidden can be worked out, on random trees --------------------------------


def recoverable(tree: Tree, hidden: dict, n: dict) -> list:
    """Return the hidden cells with answers that linear algebra on all the sums can pin down exactly.

    Independent of the rules' own reasoning: every parent = sum of children is an equation, the
    shown cells are known, and a hidden cell is determined iff its unit vector lies in the row
    space of the equations restricted to the unknowns.
    """
    nodes = tree.nodes_bottom_up()
    unknown = [x for x in nodes if x in hidden and n.get(x, 0) > 0]
    index = {x: i for i, x in enumerate(unknown)}
    rows = []
    for parent in nodes:
        kids = tree.children.get(parent, ())
        if not kids:
            continue
        row = np.zeros(len(unknown))
        if parent in index:
            row[index[parent]] += 1
        for kid in kids:
            if kid in index:
                row[index[kid]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    found = []
    for x, i in index.items():
        unit = np.zeros(len(unknown))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.append(x)
    return found


def residual_people(tree: Tree, hidden: dict, n: dict, parent) -> int:
    """Return how many answers a shown parent minus its shown children stands for, down to the smallest groups."""
    total, stack = 0, [kid for kid in tree.children.get(parent, ()) if kid in hidden]
    while stack:
        node = stack.pop()
        kids = [kid for kid in tree.children.get(node, ()) if kid in hidden and n.get(kid, 0) > 0]
        if kids:
            stack.extend(kids)
        else:
            total += n.get(node, 0)
    return total


@st.composite
def trees(draw):
    size = draw(st.integers(1, 14))
    parents = {}
    for i in range(size):
        unit = f"u{i}"
        choices = [None] + [f"u{j}" for j in range(i)]
        parents[unit] = draw(st.sampled_from(choices))
    answered = {unit: draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40])) for unit in parents}
    return Tree.from_parents(parents), answered


@settings(max_examples=400, deadline=None)
@given(trees(), st.integers(3, 8))
def test_no_hidden_cell_can_be_worked_out_on_random_trees(drawn, k):
    tree, answered = drawn
    n = tree.subtree_sums(answered)
    hidden = suppress_column(tree, n, k)
    # Every cell below k (with answers) is hidden, and pseudo-children are never shown.
    assert all(x in hidden for x, c in n.items() if 0 < c < k or is_direct(x))
    # No hidden cell with answers below k can be pinned down by any combination of the sums.
    assert [x for x in recoverable(tree, hidden, n) if 0 < n[x] < k] == []
    # What subtracting the shown children from a shown parent leaves covers at least k answers.
    for parent, kids in tree.children.items():
        if kids and parent not in hidden and any(kid in hidden and n.get(kid, 0) > 0 for kid in kids):
            assert residual_people(tree, hidden, n, parent) >= effective_k(k)
