"""Tests for survey.scoring: every figure is recomputed a second, independent way.

The reference implementations below work respondent by respondent in plain Python, with exact
fractions and the statistics module where they can, and scipy.stats only where SCORING.md names
a distribution (the t-interval, Welch's test). They never call survey.scoring.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import warnings
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from survey import scoring
from survey.questionnaire import LEVEL_IDS, Instrument, Item, Level

# --- building test instruments and data --------------------------------------------------------


def make_instrument(ks: int | list[int] = 4, reverse: set[str] | frozenset = frozenset(), threshold=3.5):
    """Build an Instrument with the six levels and ks items each (item ids '<level>_<i>', i from 1)."""
    if isinstance(ks, int):
        ks = [ks] * len(LEVEL_IDS)
    levels = []
    for order, (lid, k) in enumerate(zip(LEVEL_IDS, ks, strict=True), start=1):
        items = tuple(
            Item(
                id=f"{lid}_{i}",
                level=lid,
                text={"nb": f"{lid} {i}", "en": f"{lid} {i}"},
                reverse=f"{lid}_{i}" in reverse,
            )
            for i in range(1, k + 1)
        )
        levels.append(
            Level(
                id=lid,
                order=order,
                name={"nb": lid, "en": lid},
                description={"nb": lid, "en": lid},
                items=items,
                recommendations={},
            )
        )
    return Instrument(
        version=1,
        reach_threshold=threshold,
        scale={"nb": ("1", "2", "3", "4", "5"), "en": ("1", "2", "3", "4", "5")},
        not_applicable={"nb": "Vet ikke", "en": "Not applicable"},
        levels=tuple(levels),
        enps=None,
        comment=None,
    )


def matrix(rows, width: int | None = None) -> np.ndarray:
    """Turn lists of answers (None = missing) into the float matrix scoring expects."""
    if not rows:
        return np.empty((0, width or 0))
    return np.array([[np.nan if x is None else x for x in row] for row in rows], dtype=float)


def vector(answers) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in answers], dtype=float)


def by_level(*blocks) -> list:
    """Concatenate one tuple of answers per level into one respondent's row."""
    return [x for block in blocks for x in block]


# --- the reference: plain Python, one respondent at a time ---------------------------------------


def ref_scored(row, inst):
    return [None if x is None else (6 - x if item.reverse else x) for x, item in zip(row, inst.items, strict=True)]


def ref_blocks(row, inst):
    """Split one respondent's scored answers into one list per level."""
    out, start = [], 0
    for level in inst.levels:
        out.append(row[start : start + len(level.items)])
        start += len(level.items)
    return out


def ref_dimensions(row, inst):
    """Exact (Fraction) dimension scores of one raw row; None when fewer than half (rounded up) answered."""
    out = []
    for block in ref_blocks(ref_scored(row, inst), inst):
        answered = [x for x in block if x is not None]
        needed = (len(block) + 1) // 2  # half, rounded up, in integer arithmetic
        out.append(Fraction(sum(answered), len(answered)) if answered and len(answered) >= needed else None)
    return out


def ref_level(dims, threshold) -> int:
    """Climb the pyramid one level at a time; threshold is compared as the decimal it was written as."""
    limit = Fraction(repr(threshold))
    level = 0
    for score in dims:
        if score is None or score < limit:
            break
        level += 1
    return level


ALPHA_MINIMUM = 20  # SCORING.md: alpha needs at least 20 complete answers


def ref_alpha(block_rows, k):
    complete = [r for r in block_rows if all(x is not None for x in r)]
    if k < 2 or len(complete) < ALPHA_MINIMUM:
        return None, len(complete)
    item_var = sum(statistics.variance([Fraction(r[i]) for r in complete]) for i in range(k))
    total_var = statistics.variance([Fraction(sum(r)) for r in complete])
    if total_var == 0:
        return None, len(complete)
    return float(Fraction(k, k - 1) * (1 - item_var / total_var)), len(complete)


def ref_group(rows, enps, inst):
    """The whole group_results dict, computed respondent by respondent."""
    n = len(rows)
    scored_rows = [ref_scored(r, inst) for r in rows]
    dims = [ref_dimensions(r, inst) for r in rows]
    dimensions = []
    for j, level in enumerate(inst.levels):
        scores = [d[j] for d in dims if d[j] is not None]
        row = {"id": level.id, "n": len(scores)}
        if scores:
            mean = sum(scores) / len(scores)
            row["mean"] = float(mean)
            row["score"] = float((mean - 1) / 4 * 100)
        if len(scores) >= 2:
            sd = statistics.stdev(scores)
            if sd == 0:
                row["ci_low"] = row["ci_high"] = float(mean)
            else:
                low, high = stats.t.interval(0.95, len(scores) - 1, loc=float(mean), scale=sd / math.sqrt(len(scores)))
                row["ci_low"], row["ci_high"] = float(low), float(high)
        block_rows = [ref_blocks(r, inst)[j] for r in scored_rows]
        answers = [x for r in block_rows for x in r if x is not None]
        if answers:
            row["favourable"] = sum(1 for x in answers if x >= 4) / len(answers)
        alpha, alpha_n = ref_alpha(block_rows, len(level.items))
        if alpha is not None:
            row["alpha"] = alpha
        row["alpha_n"] = alpha_n
        dimensions.append(row)

    levels = Counter(ref_level(d, inst.reach_threshold) for d in dims)
    ids = ["none", *LEVEL_IDS]
    pyramid = [{"level": ids[i], "count": levels[i], "share": levels[i] / n if n else 0.0} for i in range(7)]

    items = []
    for i, item in enumerate(inst.items):
        answers = [r[i] for r in scored_rows if r[i] is not None]
        counts = Counter(answers)
        row = {"id": item.id, "level": item.level, "n": len(answers)}
        if answers:
            row["mean"] = float(Fraction(sum(answers), len(answers)))
            row["favourable"] = (counts[4] + counts[5]) / len(answers)
        row["counts"] = [counts[v] for v in range(1, 6)]
        items.append(row)

    result = {"n": n}
    if all("score" in d for d in dimensions):
        result["index"] = statistics.fmean(d["score"] for d in dimensions)
    answered = [x for x in enps if x is not None]
    if answered:
        promoters = sum(1 for x in answered if x in (9, 10))
        detractors = sum(1 for x in answered if 0 <= x <= 6)
        result["enps"] = 100 * (promoters - detractors) / len(answered)
    result["enps_n"] = len(answered)
    result.update(dimensions=dimensions, pyramid=pyramid, items=items)
    return result


def welch_p(a, b) -> float:
    """Welch's t-test p-value straight from scipy.stats.ttest_ind."""
    with warnings.catch_warnings():  # scipy warns "precision loss" for a constant sample
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind([float(x) for x in a], [float(x) for x in b], equal_var=False).pvalue)


def ref_compare(rows_a, rows_b, inst):
    dims_a = [ref_dimensions(r, inst) for r in rows_a]
    dims_b = [ref_dimensions(r, inst) for r in rows_b]
    out = []
    for j, level in enumerate(inst.levels):
        a = [d[j] for d in dims_a if d[j] is not None]
        b = [d[j] for d in dims_b if d[j] is not None]
        row = {"id": level.id, "n_a": len(a), "n_b": len(b)}
        if a:
            row["mean_a"] = float(statistics.mean(a))
        if b:
            row["mean_b"] = float(statistics.mean(b))
        if a and b:
            row["diff"] = float(statistics.mean(a) - statistics.mean(b))
        if len(a) >= 2 and len(b) >= 2:
            va, vb = statistics.variance(a), statistics.variance(b)
            if va > 0 or vb > 0:
                row["p"] = welch_p(a, b)
                pooled = math.sqrt(((len(a) - 1) * va + (len(b) - 1) * vb) / (len(a) + len(b) - 2))
                row["d"] = float((statistics.mean(a) - statistics.mean(b)) / Fraction(pooled))
        out.append(row)
    return out


def ref_bh(p):
    """Benjamini-Hochberg as statsmodels' fdr_bh does it: step up from the largest p, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        adjusted[i] = running
    return adjusted


# --- comparing results ---------------------------------------------------------------------------


def assert_close(actual, expected, path="result"):
    """Compare nested results: same keys, same list lengths, ints exact, floats to 1e-9."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert type(actual) is float, f"{path}: {type(actual)}"
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {actual} != {expected}"
    else:
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"


def assert_plain(obj, path="result"):
    """Check that obj holds only Python builtins (numpy floats would slip through json.dumps)."""
    assert type(obj) in (dict, list, str, int, float, bool), f"{path}: {type(obj)}"
    if isinstance(obj, dict):
        for key, value in obj.items():
            assert type(key) is str
            assert_plain(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            assert_plain(value, f"{path}[{i}]")
    elif isinstance(obj, float):
        assert math.isfinite(obj), path
    json.dumps(obj, allow_nan=False)


INST = make_instrument(4)


# --- scored / validation -------------------------------------------------------------------------


def test_scored_reverses_only_reverse_items_and_keeps_missing():
    inst = make_instrument(2, reverse={"observing_1", "leading_2"})
    raw = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, None, None]
    values = matrix([raw])
    before = values.copy()
    out = scoring.scored(values, inst)
    expected = [5, 1, 2, 2, 3, 3, 4, 4, 5, 5, None, None]
    assert [None if math.isnan(x) else x for x in out[0]] == expected
    np.testing.assert_array_equal(values, before)  # input untouched


@pytest.mark.parametrize("bad", [0, 6, 2.5, -1, np.inf])
def test_answers_outside_the_scale_are_rejected(bad):
    values = np.full((2, 24), 3.0)
    values[1, 5] = bad
    with pytest.raises(ValueError):
        scoring.scored(values, INST)
    with pytest.raises(ValueError):
        scoring.group_results(values, np.full(2, np.nan), INST)


@pytest.mark.parametrize("shape", [(3, 23), (3, 25), (24,), (1, 2, 24)])
def test_wrong_shape_is_rejected(shape):
    with pytest.raises(ValueError):
        scoring.dimension_scores(np.full(shape, 3.0), INST)


@pytest.mark.parametrize("enps", [[11.0, 5.0], [-1.0, 5.0], [9.5, 5.0], [5.0]])
def test_bad_enps_is_rejected(enps):
    with pytest.raises(ValueError):
        scoring.group_results(np.full((2, 24), 3.0), np.array(enps), INST)


def test_groups_must_be_integers():
    with pytest.raises(ValueError):
        scoring.compare_departments(np.full((2, 24), 3.0), np.array([0.0, 1.0]), INST)


# --- dimension scores ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "answered", "kept"),
    [
        (4, 0, False),
        (4, 1, False),
        (4, 2, True),  # exactly half is kept
        (4, 3, True),
        (4, 4, True),
        (3, 1, False),
        (3, 2, True),  # half of 3 rounded up is 2
        (5, 2, False),
        (5, 3, True),
        (2, 1, True),
        (1, 1, True),
        (1, 0, False),
    ],
)
def test_dimension_needs_half_of_its_items(k, answered, kept):
    inst = make_instrument(k)
    row = []
    for _ in inst.levels:
        row += [4, 5, 4, 5, 4][:answered] + [None] * (k - answered)
    dims = scoring.dimension_scores(matrix([row]), inst)[0]
    if kept:
        expected = statistics.mean([4, 5, 4, 5, 4][:answered])
        assert dims.tolist() == pytest.approx([expected] * 6)
    else:
        assert np.isnan(dims).all()


def test_dimension_scores_match_plain_python():
    rng = np.random.default_rng(7)
    inst = make_instrument([2, 3, 4, 5, 3, 2], reverse={"following_2", "owning_1", "owning_3"})
    rows = [[None if rng.random() < 0.3 else int(rng.integers(1, 6)) for _ in inst.items] for _ in range(40)]
    dims = scoring.dimension_scores(matrix(rows), inst)
    for got, row in zip(dims, rows, strict=True):
        want = ref_dimensions(row, inst)
        for g, w in zip(got, want, strict=True):
            assert (math.isnan(g) and w is None) or g == pytest.approx(float(w))


# --- pyramid -------------------------------------------------------------------------------------

N = np.nan


@pytest.mark.parametrize(
    ("dims", "threshold", "level"),
    [
        ([N, 5, 5, 5, 5, 5], 3.5, 0),  # missing level-1 score: below the pyramid
        ([3.4, 5, 5, 5, 5, 5], 3.5, 0),  # level 1 not reached: the rest does not count
        ([3.5, 3.5, 3.5, 3.5, 3.5, 3.5], 3.5, 6),  # exactly the threshold counts as reached
        ([4, 4, N, 5, 5, 5], 3.5, 2),  # a missing middle score stops the climb
        ([4, 3, 4, 4, 4, 4], 3.5, 1),
        ([5, 5, 5, 5, 5, 3.25], 3.5, 5),
        ([5, 5, 5, 5, 5, N], 3.5, 5),
        ([N, N, N, N, N, N], 3.5, 0),
        ([3, 3, 3, 2.5, 3, 3], 3.0, 3),
        ([1, 1, 1, 1, 1, 1], 1.0, 6),
        ([4.75, 5, 5, 5, 5, 5], 5.0, 0),
    ],
)
def test_pyramid_levels(dims, threshold, level):
    assert scoring.pyramid_levels(np.array([dims], dtype=float), threshold).tolist() == [level]


def test_pyramid_levels_of_many_respondents_and_of_none():
    rng = np.random.default_rng(3)
    dims = rng.choice([1.0, 2.5, 3.5, 3.75, 5.0, np.nan], size=(500, 6))
    got = scoring.pyramid_levels(dims, 3.5)
    assert got.dtype.kind == "i"
    want = [ref_level([None if math.isnan(x) else Fraction(x) for x in row], 3.5) for row in dims]
    assert got.tolist() == want
    assert scoring.pyramid_levels(np.empty((0, 6)), 3.5).shape == (0,)


@pytest.mark.parametrize(("level", "lid"), [(0, "none"), (1, "observing"), (3, "endorsing"), (6, "leading")])
def test_level_id(level, lid):
    assert scoring.level_id(level, INST) == lid
    assert scoring.pyramid_ids(INST)[level] == lid
    assert scoring.LEVEL_NONE == "none"


@pytest.mark.parametrize("level", [-1, 7])
def test_level_id_out_of_range(level):
    with pytest.raises(ValueError):
        scoring.level_id(level, INST)


# --- bands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "low"), (49.999, "low"), (50, "medium"), (69.999, "medium"), (70, "high"), (100, "high")],
)
def test_band(score, expected):
    assert scoring.band(score) == expected


def test_band_of_missing_score():
    with pytest.raises(ValueError):
        scoring.band(math.nan)


# --- group results: hand-worked figures ----------------------------------------------------------


def test_hand_worked_group(small_alpha):
    """Two items per level; every figure worked out by hand in the comments."""
    inst = make_instrument(2, reverse={"leading_2"})
    rows = [
        # observing: item answers (1,1), (2,3), (3,3): scores 1, 2.5, 3
        # following: (4,4), (4,None), (None,None): scores 4, 4, missing
        # endorsing..owning: all 4 for everyone; leading_2 is reversed: raw 2 -> 4
        by_level((1, 1), (4, 4), (4, 4), (4, 4), (4, 4), (4, 2)),
        by_level((2, 3), (4, None), (4, 4), (4, 4), (4, 4), (4, 2)),
        by_level((3, 3), (None, None), (4, 4), (4, 4), (4, 4), (4, 2)),
    ]
    result = scoring.group_results(matrix(rows), vector([10, 6, None]), inst)
    assert result["n"] == 3
    obs, fol, end, *_, lead = result["dimensions"]

    # observing: scores 1, 2.5, 3 -> mean 13/6, sd = sqrt(((-7/6)^2 + (1/3)^2 + (5/6)^2) / 2) = sqrt(13/12)
    assert obs["n"] == 3
    assert obs["mean"] == pytest.approx(13 / 6)
    assert obs["score"] == pytest.approx((13 / 6 - 1) / 4 * 100)
    half = stats.t.ppf(0.975, 2) * math.sqrt(13 / 12) / math.sqrt(3)
    assert (obs["ci_low"], obs["ci_high"]) == pytest.approx((13 / 6 - half, 13 / 6 + half))
    assert obs["favourable"] == 0.0
    # alpha by hand: item vars 1 and 4/3; totals 2, 5, 6 -> var 13/3; 2 * (1 - (7/3) / (13/3)) = 12/13
    assert obs["alpha"] == pytest.approx(12 / 13)
    assert obs["alpha_n"] == 3

    # following: the third respondent answered 0 of 2 items (missing); the second 1 of 2 (kept)
    assert fol["n"] == 2 and fol["mean"] == 4.0
    assert fol["ci_low"] == fol["ci_high"] == 4.0  # s = 0: the interval collapses to the mean
    assert fol["favourable"] == 1.0  # 3 answers, all 4
    assert "alpha" not in fol and fol["alpha_n"] == 1

    # endorsing: everyone answers 4 everywhere: total variance 0, alpha undefined
    assert end["mean"] == 4.0 and "alpha" not in end and end["alpha_n"] == 3
    assert lead["mean"] == 4.0 and lead["favourable"] == 1.0

    # reversed item counts are counts of the scored value
    lead_2 = next(i for i in result["items"] if i["id"] == "leading_2")
    assert lead_2 == {
        "id": "leading_2",
        "level": "leading",
        "n": 3,
        "mean": 4.0,
        "favourable": 1.0,
        "counts": [0, 0, 0, 3, 0],
    }
    obs_2 = result["items"][1]
    assert obs_2 == {
        "id": "observing_2",
        "level": "observing",
        "n": 3,
        "mean": 7 / 3,
        "favourable": 0.0,
        "counts": [1, 0, 2, 0, 0],
    }

    # pyramid: nobody reaches observing (scores 1, 2.5, 3 < 3.5)
    assert result["pyramid"][0] == {"level": "none", "count": 3, "share": 1.0}
    assert [p["count"] for p in result["pyramid"]] == [3, 0, 0, 0, 0, 0, 0]

    # index: mean of the six scores
    scores = [(13 / 6 - 1) * 25, 75, 75, 75, 75, 75]
    assert result["index"] == pytest.approx(sum(scores) / 6)
    # eNPS: one promoter (10), one detractor (6) out of 2 answers
    assert result["enps"] == 0.0 and result["enps_n"] == 2
    assert_close(result, ref_group(rows, [10, 6, None], inst))
    assert_plain(result)


def test_pyramid_counts_in_a_group():
    inst = make_instrument(1, threshold=3.5)
    rows = [
        [4, 4, 4, 4, 4, 4],  # leading
        [4, 4, None, 5, 5, 5],  # following: the missing endorsing score stops the climb
        [None, 5, 5, 5, 5, 5],  # none: missing level-1 score
        [3, 5, 5, 5, 5, 5],  # none: level 1 not reached
        [4, 4, 3, 4, 4, 4],  # following
    ]
    result = scoring.group_results(matrix(rows), None, inst)
    counts = {p["level"]: p["count"] for p in result["pyramid"]}
    assert counts == {
        "none": 2,
        "observing": 0,
        "following": 2,
        "endorsing": 0,
        "contributing": 0,
        "owning": 0,
        "leading": 1,
    }
    assert [p["share"] for p in result["pyramid"]] == [0.4, 0.0, 0.4, 0.0, 0.0, 0.0, 0.2]
    assert "enps" not in result and result["enps_n"] == 0


def test_threshold_reached_exactly_within_a_group():
    inst = make_instrument(2, threshold=3.5)
    row = by_level((3, 4), (4, 3), (3, 4), (4, 3), (3, 4), (4, 3))  # every score exactly 3.5
    result = scoring.group_results(matrix([row]), None, inst)
    assert result["pyramid"][-1] == {"level": "leading", "count": 1, "share": 1.0}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([10, 9, 8, 7, 6, 0], 0.0),  # 2 promoters, 2 passives, 2 detractors
        ([9, 9, 9], 100.0),
        ([0, 3, 6], -100.0),
        ([7, 8], 0.0),  # passives only
        ([10, None, 7, 8, None], 100 / 3),
        ([6, 7, 9, 10], 25.0),
        ([5], -100.0),
    ],
)
def test_enps(answers, expected):
    rows = [[3] * 24 for _ in answers]
    result = scoring.group_results(matrix(rows), vector(answers), INST)
    assert result["enps"] == pytest.approx(expected)
    assert result["enps_n"] == sum(a is not None for a in answers)


def test_enps_absent_when_nobody_answered():
    result = scoring.group_results(matrix([[3] * 24] * 2), vector([None, None]), INST)
    assert "enps" not in result and result["enps_n"] == 0


def test_single_respondent_has_no_ci_and_no_alpha():
    result = scoring.group_results(matrix([[2, 3, 4, 5] * 6]), vector([9]), INST)
    for dim in result["dimensions"]:
        assert dim["n"] == 1 and dim["mean"] == 3.5 and dim["score"] == 62.5
        assert dim["favourable"] == 0.5
        assert not {"ci_low", "ci_high", "alpha"} & set(dim)
        assert dim["alpha_n"] == 1
    assert sum(p["share"] for p in result["pyramid"]) == 1.0
    assert result["pyramid"][-1]["count"] == 1
    assert_plain(result)


@pytest.mark.parametrize("answer", [1, 3, 5])
def test_all_identical_answers(answer):
    """Zero variance everywhere: no crash, no nan, alpha and d and p absent, the CI collapses."""
    values = np.full((6, 24), float(answer))
    result = scoring.group_results(values, np.full(6, 8.0), INST)
    assert_plain(result)
    json.dumps(result, allow_nan=False)
    for dim in result["dimensions"]:
        assert dim["mean"] == dim["ci_low"] == dim["ci_high"] == answer
        assert "alpha" not in dim and dim["alpha_n"] == 6
        assert dim["favourable"] == (1.0 if answer >= 4 else 0.0)
    assert result["index"] == (answer - 1) * 25
    rows = scoring.compare(values[:3], values[3:], INST)
    for row in rows:
        assert row["diff"] == 0.0 and "p" not in row and "d" not in row
    table = scoring.compare_departments(values, np.array([0, 0, 0, 1, 1, 1]), INST)
    assert_plain(table)
    assert all(not row["significant"] and "p_adj" not in row for entry in table for row in entry["dimensions"])


def test_identical_but_different_groups_have_no_p_and_no_d():
    """Both sides constant but different: Welch's statistic would be x/0, so p and d are absent."""
    a, b = np.full((3, 24), 2.0), np.full((4, 24), 4.0)
    for row in scoring.compare(a, b, INST):
        assert row["diff"] == -2.0 and "p" not in row and "d" not in row


def test_non_integer_constant_scores_have_zero_variance():
    """Scores of 10/3 repeated: rounding must not turn s = 0 into a tiny positive number."""
    inst = make_instrument(3)
    values = matrix([by_level(*[(3, 3, 4)] * 6)] * 7)
    result = scoring.group_results(values, None, inst)
    for dim in result["dimensions"]:
        assert dim["ci_low"] == dim["ci_high"] == dim["mean"]
    rows = scoring.compare(values[:3], values[3:], inst)
    assert all("p" not in r and "d" not in r for r in rows)


def test_alpha_absent_with_a_single_item_level():
    inst = make_instrument([1, 2, 2, 2, 2, 2])
    rng = np.random.default_rng(1)
    values = rng.integers(1, 6, size=(10, 11)).astype(float)
    dims = scoring.group_results(values, None, inst)["dimensions"]
    assert "alpha" not in dims[0] and dims[0]["alpha_n"] == 10


@pytest.fixture
def small_alpha(monkeypatch):
    """Check the alpha formula on hand-sized groups: lower the minimum of 20 complete answers to 3."""
    monkeypatch.setattr(scoring, "ALPHA_MIN_RESPONDENTS", 3)
    monkeypatch.setitem(globals(), "ALPHA_MINIMUM", 3)


def test_alpha_needs_twenty_complete_answers():
    inst = make_instrument(2)
    rng = np.random.default_rng(3)
    base = rng.integers(1, 6, size=(19, 1)).astype(float)
    values = np.repeat(base, 12, axis=1) + rng.integers(0, 2, size=(19, 12))
    values = np.clip(values, 1, 5)
    dims = scoring.group_results(values, None, inst)["dimensions"]
    assert all("alpha" not in d and d["alpha_n"] == 19 for d in dims)  # 19: "too few to estimate"
    values = np.vstack([values, values[:1]])
    dims = scoring.group_results(values, None, inst)["dimensions"]
    assert all("alpha" in d and d["alpha_n"] == 20 for d in dims)


def test_alpha_is_listwise(small_alpha):
    inst = make_instrument(3)
    rows = [
        by_level((1, 2, 1), *[(3, 3, 3)] * 5),
        by_level((3, 3, 4), *[(3, 3, 3)] * 5),
        by_level((5, 4, 5), *[(3, 3, 3)] * 5),
        by_level((5, None, 1), *[(3, 3, 3)] * 5),  # incomplete: left out of alpha, kept in the mean
    ]
    dim = scoring.group_results(matrix(rows), None, inst)["dimensions"][0]
    assert dim["alpha_n"] == 3 and dim["n"] == 4
    # by hand: items (1,3,5) var 4, (2,3,4) var 1, (1,4,5) var 13/3; totals (4,10,14) var 76/3
    assert dim["alpha"] == pytest.approx(1.5 * (1 - (4 + 1 + 13 / 3) / (76 / 3)))


GROUP_ROWS = [[1] * 24, [3] * 24, [5] * 24]
ALWAYS = {"id", "n", "alpha_n"}


@pytest.mark.parametrize(
    ("n", "dim_keys", "top_keys"),
    [
        (0, ALWAYS, {"n", "enps_n", "dimensions", "pyramid", "items"}),
        (
            1,
            ALWAYS | {"mean", "score", "favourable"},
            {"n", "index", "enps", "enps_n", "dimensions", "pyramid", "items"},
        ),
        (
            2,
            ALWAYS | {"mean", "score", "favourable", "ci_low", "ci_high"},
            {"n", "index", "enps", "enps_n", "dimensions", "pyramid", "items"},
        ),
        (
            3,
            ALWAYS | {"mean", "score", "favourable", "ci_low", "ci_high"},  # alpha needs 20
            {"n", "index", "enps", "enps_n", "dimensions", "pyramid", "items"},
        ),
    ],
)
def test_groups_of_size_0_to_3(n, dim_keys, top_keys):
    rows = GROUP_ROWS[:n]
    enps = [10, 0, 7][:n]
    result = scoring.group_results(matrix(rows, 24), vector(enps), INST)
    assert set(result) == top_keys
    assert result["n"] == n
    assert [d["id"] for d in result["dimensions"]] == list(LEVEL_IDS)
    assert all(set(d) == dim_keys for d in result["dimensions"])
    assert [p["level"] for p in result["pyramid"]] == ["none", *LEVEL_IDS]
    assert sum(p["count"] for p in result["pyramid"]) == n
    if n == 0:
        assert all(p["share"] == 0.0 for p in result["pyramid"])
        assert all(set(i) == {"id", "level", "n", "counts"} and i["counts"] == [0] * 5 for i in result["items"])
    else:
        assert sum(p["share"] for p in result["pyramid"]) == pytest.approx(1.0)
    assert_close(result, ref_group(rows, enps, INST))
    assert_plain(result)


def test_group_results_with_reverse_items_match_reference():
    inst = make_instrument([4, 3, 2, 4, 3, 4], reverse={"observing_2", "endorsing_1", "leading_3", "leading_4"})
    rng = np.random.default_rng(11)
    rows = [[None if rng.random() < 0.2 else int(rng.integers(1, 6)) for _ in inst.items] for _ in range(30)]
    enps = [None if rng.random() < 0.3 else int(rng.integers(0, 11)) for _ in rows]
    result = scoring.group_results(matrix(rows), vector(enps), inst)
    assert_close(result, ref_group(rows, enps, inst))
    assert_plain(result)


# --- comparing groups ----------------------------------------------------------------------------


def test_compare_matches_scipy_and_hand_formulas():
    rng = np.random.default_rng(5)
    rows_a = [[None if rng.random() < 0.1 else int(rng.integers(2, 6)) for _ in range(24)] for _ in range(15)]
    rows_b = [[None if rng.random() < 0.1 else int(rng.integers(1, 5)) for _ in range(24)] for _ in range(25)]
    got = scoring.compare(matrix(rows_a), matrix(rows_b), INST)
    assert_close(got, ref_compare(rows_a, rows_b, INST))
    assert all({"p", "d"} <= set(row) for row in got)
    assert all(row["diff"] > 0 and row["d"] > 0 for row in got)
    assert_plain(got)


def test_compare_hand_worked():
    # one item per level: a's scores are 2, 3, 4 (mean 3, var 1), b's 4, 5 (mean 4.5, var 0.5)
    inst = make_instrument(1)
    a = matrix([[2] * 6, [3] * 6, [4] * 6])
    b = matrix([[4] * 6, [5] * 6])
    row = scoring.compare(a, b, inst)[0]
    assert (row["n_a"], row["n_b"], row["mean_a"], row["mean_b"], row["diff"]) == (3, 2, 3.0, 4.5, -1.5)
    # Welch: se^2 = 1/3 + 0.5/2 = 7/12; t = -1.5 / sqrt(7/12)
    # df = (7/12)^2 / ((1/3)^2/2 + (1/4)^2/1) = (49/144) / (1/18 + 1/16) = (49/144) / (17/144) = 49/17
    t = -1.5 / math.sqrt(7 / 12)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(t), 49 / 17))
    # pooled sd: sqrt((2 * 1 + 1 * 0.5) / 3) = sqrt(5/6)
    assert row["d"] == pytest.approx(-1.5 / math.sqrt(5 / 6))


@pytest.mark.parametrize(("n_a", "n_b"), [(0, 5), (1, 5), (5, 1), (1, 1), (0, 0), (2, 2)])
def test_compare_small_sides(n_a, n_b):
    rng = np.random.default_rng(n_a * 10 + n_b)
    a = rng.integers(1, 6, size=(n_a, 24)).astype(float)
    b = rng.integers(1, 6, size=(n_b, 24)).astype(float)
    got = scoring.compare(a, b, INST)
    for row in got:
        assert (row["n_a"], row["n_b"]) == (n_a, n_b)
        assert ("mean_a" in row) == (n_a > 0) and ("mean_b" in row) == (n_b > 0)
        assert ("diff" in row) == (n_a > 0 and n_b > 0)
        if n_a < 2 or n_b < 2:
            assert "p" not in row and "d" not in row
    assert_close(got, ref_compare(a.astype(int).tolist(), b.astype(int).tolist(), INST))
    assert_plain(got)


def test_compare_one_constant_side_still_has_p_and_d():
    a = np.full((4, 24), 3.0)
    b = np.array([[1.0] * 24, [2.0] * 24, [4.0] * 24])
    row = scoring.compare(a, b, INST)[0]
    assert row["p"] == pytest.approx(welch_p([3, 3, 3, 3], [1, 2, 4]))
    assert row["d"] == pytest.approx((3 - 7 / 3) / math.sqrt((2 * statistics.variance([1, 2, 4])) / 5))


# --- Benjamini-Hochberg --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "adjusted"),
    [
        # sorted 0.005, 0.01, 0.03, 0.04 -> x4/1, x4/2, x4/3, x4/4 = 0.02, 0.02, 0.04, 0.04
        ([0.01, 0.04, 0.03, 0.005], [0.02, 0.04, 0.04, 0.02]),
        # 0.5*3 = 1.5, 0.9*3/2 = 1.35, 0.95: stepping up from the top, everything becomes 0.95
        ([0.5, 0.9, 0.95], [0.95, 0.95, 0.95]),
        ([0.02, 0.02, 0.02], [0.02, 0.02, 0.02]),
        (
            [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205],
            [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714285714286, 0.205],
        ),
        ([0.3], [0.3]),
        ([1.0, 0.0], [1.0, 0.0]),
        ([], []),
    ],
)
def test_benjamini_hochberg_hand_worked(p, adjusted):
    got = scoring.benjamini_hochberg(p)
    assert got.tolist() == pytest.approx(adjusted)
    assert got.tolist() == pytest.approx(ref_bh(p))
    assert got.tolist() == pytest.approx(adjusted)


@given(st.lists(st.floats(0, 1), max_size=40))
def test_benjamini_hochberg_properties(p):
    got = scoring.benjamini_hochberg(p)
    assert got.tolist() == pytest.approx(ref_bh(p))
    assert all(a >= q - 1e-15 for a, q in zip(got, p, strict=True))  # never below the raw p
    assert all(a <= 1.0 for a in got)
    ranked = [got[i] for i in sorted(range(len(p)), key=lambda i: p[i])]
    assert all(x <= y + 1e-15 for x, y in itertools.pairwise(ranked))  # monotone in p


@pytest.mark.parametrize("bad", [[0.5, math.nan], [1.5], [-0.1], [[0.1, 0.2]]])
def test_benjamini_hochberg_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        scoring.benjamini_hochberg(bad)


def check_departments(values, groups, inst, shown, table):
    """Recompute compare_departments from compare() on each group and its complement, and ref_bh."""
    wanted = sorted(set(groups.tolist()) if shown is None else shown)
    assert [entry["group"] for entry in table] == wanted
    expected, ps = [], []
    for g in wanted:
        inside = groups == g
        rows = [[None if math.isnan(x) else int(x) for x in r] for r in values.tolist()]
        ref = ref_compare(
            [r for r, i in zip(rows, inside, strict=True) if i],
            [r for r, i in zip(rows, inside, strict=True) if not i],
            inst,
        )
        expected.append({"group": g, "n": int(inside.sum()), "dimensions": ref})
        ps += [row["p"] for row in ref if "p" in row]
    adjusted = iter(ref_bh(ps))
    for entry in expected:
        for row in entry["dimensions"]:
            if "p" in row:
                row["p_adj"] = next(adjusted)
            row["significant"] = row.get("p_adj", 1.0) < 0.05
    assert_close(table, expected)
    assert_plain(table)


def test_compare_departments():
    rng = np.random.default_rng(2)
    groups = rng.integers(0, 4, size=120)
    values = rng.integers(1, 6, size=(120, 24)).astype(float)
    values[groups == 2] = np.minimum(values[groups == 2] + 2, 5)  # department 2 is clearly higher
    values[rng.random(values.shape) < 0.1] = np.nan
    table = scoring.compare_departments(values, groups, INST)
    check_departments(values, groups, INST, None, table)
    dept_2 = next(e for e in table if e["group"] == 2)
    assert all(row["significant"] and row["diff"] > 0 for row in dept_2["dimensions"])
    # a smaller table is a smaller BH family: p-values stay, adjusted ones change
    shown = {0, 2}
    small = scoring.compare_departments(values, groups, INST, shown=shown)
    check_departments(values, groups, INST, shown, small)
    assert small[0]["dimensions"][0]["p"] == table[0]["dimensions"][0]["p"]


def test_compare_departments_with_tiny_and_absent_groups():
    values = np.array([[3.0] * 24, [4.0] * 24, [2.0] * 24, [5.0] * 24, [3.0] * 24])
    groups = np.array([0, 1, 1, 2, 2])
    table = scoring.compare_departments(values, groups, INST, shown={0, 1, 9})
    check_departments(values, groups, INST, {0, 1, 9}, table)
    g0, _, g9 = table
    assert all("p" not in r and not r["significant"] for r in g0["dimensions"])  # n = 1
    assert g9["n"] == 0 and all(r["n_a"] == 0 and "mean_a" not in r for r in g9["dimensions"])
    assert scoring.compare_departments(np.empty((0, 24)), np.empty(0, dtype=int), INST) == []


# --- properties ----------------------------------------------------------------------------------


@st.composite
def datasets(draw, max_n=12):
    ks = draw(st.lists(st.integers(1, 4), min_size=6, max_size=6))
    ids = [item.id for item in make_instrument(ks).items]
    reverse = draw(st.sets(st.sampled_from(ids)))
    threshold = draw(st.sampled_from([1.0, 2.5, 3.0, 3.4, 3.5, 3.75, 4.0, 5.0]))
    inst = make_instrument(ks, reverse, threshold)
    n = draw(st.integers(0, max_n))
    # a narrow answer range per data set makes ties and zero variance common
    low = draw(st.integers(1, 5))
    high = draw(st.integers(low, 5))
    answer = st.one_of(st.none(), st.integers(low, high))
    rows = draw(st.lists(st.lists(answer, min_size=len(ids), max_size=len(ids)), min_size=n, max_size=n))
    enps = draw(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=n, max_size=n))
    return inst, rows, enps


@settings(deadline=None, max_examples=200)
@given(datasets())
def test_group_results_properties(data):
    inst, rows, enps = data
    result = scoring.group_results(matrix(rows, len(inst.items)), vector(enps), inst)
    assert_plain(result)
    json.dumps(result, allow_nan=False)
    n = len(rows)
    assert result["n"] == n
    for dim in result["dimensions"]:
        if "mean" in dim:
            assert 1 <= dim["mean"] <= 5 and 0 <= dim["score"] <= 100
        if "ci_low" in dim:
            assert dim["ci_low"] <= dim["mean"] <= dim["ci_high"]
        if "favourable" in dim:
            assert 0 <= dim["favourable"] <= 1
        assert dim["alpha_n"] <= dim["n"] <= n
    if "index" in result:
        assert 0 <= result["index"] <= 100
    if "enps" in result:
        assert -100 <= result["enps"] <= 100
    assert sum(p["count"] for p in result["pyramid"]) == n
    assert sum(p["share"] for p in result["pyramid"]) == (pytest.approx(1.0) if n else 0.0)
    for item in result["items"]:
        assert sum(item["counts"]) == item["n"] <= n
        if "mean" in item:
            assert 1 <= item["mean"] <= 5
    assert_close(result, ref_group(rows, enps, inst))


@settings(deadline=None, max_examples=100)
@given(datasets(max_n=10), st.data())
def test_compare_properties(data, more):
    inst, rows, _ = data
    values = matrix(rows, len(inst.items))
    split = more.draw(st.integers(0, len(rows)))
    got = scoring.compare(values[:split], values[split:], inst)
    assert_plain(got)
    assert_close(got, ref_compare(rows[:split], rows[split:], inst))
    for row in got:
        if "p" in row:
            assert 0 <= row["p"] <= 1
    groups = np.array(more.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows))), dtype=int)
    shown = more.draw(st.one_of(st.none(), st.sets(st.integers(0, 4))))
    table = scoring.compare_departments(values, groups, inst, shown=shown)
    check_departments(values, groups, inst, shown, table)


@settings(deadline=None, max_examples=100)
@given(datasets())
def test_dimension_scores_and_pyramid_properties(data):
    inst, rows, _ = data
    dims = scoring.dimension_scores(matrix(rows, len(inst.items)), inst)
    assert dims.shape == (len(rows), 6)
    present = dims[~np.isnan(dims)]
    assert ((present >= 1) & (present <= 5)).all()
    levels = scoring.pyramid_levels(dims, inst.reach_threshold)
    assert levels.tolist() == [ref_level(ref_dimensions(r, inst), inst.reach_threshold) for r in rows]


def test_sums_of_groups_add_up_to_the_figures_of_their_union():
    """A unit's figures are its smallest groups' sums added up: the same as scoring its people together."""
    rng = np.random.default_rng(7)
    values = rng.integers(1, 6, size=(400, 24)).astype(float)
    values[rng.random(values.shape) < 0.15] = np.nan
    enps = np.where(rng.random(400) < 0.8, rng.integers(0, 11, 400), np.nan)
    atoms = rng.integers(0, 9, size=400)
    sums = scoring.atom_sums(values, enps, INST, atoms, 9)
    for union in ({0}, {1, 2}, {0, 3, 4, 8}, set(range(9))):
        mask = np.isin(atoms, list(union))
        together = scoring.Figures(sums[sorted(union)].sum(axis=0), INST).result(0)
        assert_close(together, scoring.group_results(values[mask], enps[mask], INST))
    # Everyone outside a group is the total minus the group, exactly.
    rest = scoring.Figures(sums.sum(axis=0) - sums[2], INST).result(0)
    assert_close(rest, scoring.group_results(values[atoms != 2], enps[atoms != 2], INST))


def test_sums_are_exact_when_float_sums_would_not_be(monkeypatch):
    rng = np.random.default_rng(8)
    values = rng.integers(1, 6, size=(300, 24)).astype(float)
    atoms = rng.integers(0, 5, size=300)
    fast = scoring.atom_sums(values, None, INST, atoms, 5)
    monkeypatch.setattr(scoring, "EXACT", 1)  # take the integer path for every column
    np.testing.assert_array_equal(scoring.atom_sums(values, None, INST, atoms, 5), fast)
