"""Confidentiality rules: thresholds and complementary suppression."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.privacy import comments_visible, effective_k, hidden_cells, hidden_groups, visible_count


@pytest.mark.parametrize(
    ("counts", "k", "expected"),
    [
        ({"a": 10, "b": 7, "c": 5}, 5, {}),  # exactly at k is shown
        ({"a": 10, "b": 7, "c": 4}, 5, {"c": "too_few", "b": "complementary"}),  # one below k
        ({"a": 10, "b": 3, "c": 4}, 5, {"b": "too_few", "c": "too_few"}),  # two hidden: no partner needed
        ({"a": 10, "b": 0, "c": 4}, 5, {"b": "too_few", "c": "too_few", "a": "complementary"}),
        ({"a": 4}, 5, {"a": "too_few"}),
        ({"a": 9, "b": 2}, 2, {"b": "too_few", "a": "complementary"}),  # k is never below 3
    ],
)
def test_hidden_groups(counts, k, expected):
    assert hidden_groups(counts, k) == expected


def test_effective_k_floor():
    assert effective_k(1) == 3 and effective_k(5) == 5


def test_visible_count_only_after_close():
    assert visible_count(2, 5, survey_open=True, hidden=True) is None
    assert visible_count(2, 5, survey_open=False, hidden=True) == 2
    assert visible_count(9, 5, survey_open=True, hidden=False) == 9


def test_comment_threshold():
    assert not comments_visible(9, 10) and comments_visible(10, 10) and not comments_visible(2, 1)


def test_cells_suppressed_per_dimension():
    cells = {("a", "x"): 10, ("b", "x"): 4, ("c", "x"): 8, ("a", "y"): 10, ("b", "y"): 9, ("c", "y"): 8}
    assert hidden_cells(cells, 5) == {("b", "x"): "too_few", ("c", "x"): "complementary"}


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 30), min_size=1), st.integers(3, 10))
def test_no_hidden_count_can_be_recovered_from_total(counts, k):
    """Whatever the counts, the total minus the shown groups never pins down one hidden group."""
    hidden = hidden_groups(counts, k)
    assert all(counts[g] >= k for g in counts if g not in hidden)
    below = [g for g, n in counts.items() if 0 < n < k]
    for g in below:
        assert g in hidden
    # Total minus the shown groups gives the sum of the hidden ones; that sum must never
    # belong to a single group with answers: at least two hidden groups carry answers.
    with_answers = [g for g in hidden if counts[g] > 0]
    # (When the whole organisation is below k, the organisation itself is hidden.)
    if with_answers and sum(counts.values()) >= effective_k(k):
        assert len(with_answers) >= 2


def test_complementary_partner_is_the_smallest_shown():
    counts = {"a": 50, "b": 12, "c": 30, "d": 2}
    assert hidden_groups(counts, 5) == {"d": "too_few", "b": "complementary"}
    for perm in itertools.permutations(counts):
        assert hidden_groups({g: counts[g] for g in perm}, 5) == {"d": "too_few", "b": "complementary"}


def test_lone_hidden_cell_with_answers():
    from survey.privacy import lone_hidden

    hidden = {("a", "x"): "too_few", ("b", "x"): "too_few"}
    assert lone_hidden({"a": 4, "b": 0, "c": 9}, hidden, "x") == "x"  # b has no answers: a stands alone
    assert lone_hidden({"a": 4, "b": 2, "c": 9}, hidden, "x") is None
    assert lone_hidden({"a": 9, "c": 9}, {}, "x") is None
