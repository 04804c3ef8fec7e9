"""Compute every figure of the engagement survey, exactly as design/SCORING.md defines it.

Pure functions over numpy arrays: no Flask, no database. The database hands over

- ``values``: float array (n_respondents, len(instrument.items)), columns in ``instrument.items``
  order, raw answers 1..5 (reverse items not yet reversed), ``np.nan`` for missing / not applicable;
- ``enps``: float array (n,), answers 0..10 or ``np.nan``;
- ``groups``: integer array (n,), a group index (e.g. department) per respondent.

Everything is vectorised over respondents, so 100,000 respondents score in a fraction of a second.
Results of ``group_results``, ``compare`` and ``compare_departments`` are plain JSON-ready data
(Python int/float/str/bool only). A figure that SCORING.md calls absent is left out of its dict
(the key is missing), never None or nan, so ``json.dumps(result, allow_nan=False)`` always works.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from survey.questionnaire import Instrument

LEVEL_NONE = "none"
LIKERT_MIN, LIKERT_MAX = 1, 5
ENPS_MIN, ENPS_MAX = 0, 10
FAVOURABLE_MIN = 4  # answers 4 and 5 (after reverse scoring) are favourable
PROMOTER_MIN, DETRACTOR_MAX = 9, 6  # eNPS: promoters 9-10, passives 7-8, detractors 0-6
CONFIDENCE = 0.95
SIGNIFICANCE = 0.05
ALPHA_MIN_RESPONDENTS = 20  # SCORING: fewer complete answers than this give "too few to estimate"
ALPHA_WARNING = 0.70  # the report shows a warning for a dimension whose alpha is below this
BAND_MEDIUM, BAND_HIGH = 50.0, 70.0


# --- input checks -------------------------------------------------------------------------------


def _check_answers(values: Any, instrument: Instrument) -> np.ndarray:
    """Return values as a float matrix, or raise ValueError when shape or answers are wrong."""
    values = np.asarray(values, dtype=float)
    n_items = len(instrument.items)
    if values.ndim != 2 or values.shape[1] != n_items:
        raise ValueError(f"values must have shape (n, {n_items}), got {values.shape}")
    _check_range(values, LIKERT_MIN, LIKERT_MAX, "Likert answers")
    return values


def _check_range(values: np.ndarray, low: int, high: int, what: str) -> None:
    """Raise ValueError unless every non-missing value is a whole number in low..high."""
    # A stray 0 or 6 would silently shift every figure; fail loudly instead. Checking the whole
    # matrix at once is cheap (a few milliseconds for millions of answers).
    answered = values[~np.isnan(values)]
    bad = (answered < low) | (answered > high) | (answered != np.round(answered))
    if bad.any():
        raise ValueError(f"{what} must be whole numbers {low}..{high} or nan, got {answered[bad][0]!r}")


def _check_vector(values: Any, n: int, what: str) -> np.ndarray:
    """Return values as a float vector of length n, or raise ValueError."""
    values = np.asarray(values, dtype=float)
    if values.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {values.shape}")
    return values


# --- per respondent -----------------------------------------------------------------------------


def _level_slices(instrument: Instrument) -> list[slice]:
    """Return the column slice of each level; items are stored level by level, so they are contiguous."""
    slices, start = [], 0
    for level in instrument.levels:
        slices.append(slice(start, start + len(level.items)))
        start += len(level.items)
    return slices


def _scored(values: np.ndarray, instrument: Instrument) -> np.ndarray:
    reverse = np.array([item.reverse for item in instrument.items], dtype=bool)
    # nan stays nan: 6 - nan is nan.
    return np.where(reverse, (LIKERT_MIN + LIKERT_MAX) - values, values)


def _dimension_scores(scored_values: np.ndarray, instrument: Instrument) -> np.ndarray:
    answered = ~np.isnan(scored_values)
    filled = np.where(answered, scored_values, 0.0)
    out = np.full((scored_values.shape[0], len(instrument.levels)), np.nan)
    for j, cols in enumerate(_level_slices(instrument)):
        k = cols.stop - cols.start
        count = answered[:, cols].sum(axis=1)
        total = filled[:, cols].sum(axis=1)
        # At least half of the level's items, rounded up (2 of 4, 2 of 3); count > 0 guards k = 0.
        ok = (count >= math.ceil(k / 2)) & (count > 0)
        out[ok, j] = total[ok] / count[ok]
    return out


def scored(values: np.ndarray, instrument: Instrument) -> np.ndarray:
    """Apply reverse scoring (6 - answer) to the reverse items, keeping nan as missing."""
    return _scored(_check_answers(values, instrument), instrument)


def dimension_scores(values: np.ndarray, instrument: Instrument) -> np.ndarray:
    """Return each respondent's score (1..5) per level, nan unless ceil(k/2) of its k items are answered."""
    return _dimension_scores(scored(values, instrument), instrument)


def pyramid_levels(dim_scores: np.ndarray, threshold: float) -> np.ndarray:
    """Return each respondent's pyramid level: 0 below the pyramid, else the highest L with 1..L reached."""
    dim_scores = np.asarray(dim_scores, dtype=float)
    # nan >= threshold is False, so a missing score stops the climb like an unreached level.
    reached = dim_scores >= threshold
    # The climb is the run of reached levels from the bottom: count the leading Trues.
    return np.logical_and.accumulate(reached, axis=1).sum(axis=1).astype(np.int64)


def pyramid_ids(instrument: Instrument) -> tuple[str, ...]:
    """Return the id of every pyramid level number: "none" for 0, then the instrument's level ids."""
    return (LEVEL_NONE, *(level.id for level in instrument.levels))


def level_id(level: int, instrument: Instrument) -> str:
    """Map a pyramid level number (0..6) to its id ("none", "observing", ..., "leading")."""
    ids = pyramid_ids(instrument)
    if not 0 <= level < len(ids):
        raise ValueError(f"pyramid level must be 0..{len(ids) - 1}, got {level}")
    return ids[level]


def to_score(mean):
    """Turn a mean on the 1..5 answer scale into the 0..100 score shown first everywhere (nan stays nan)."""
    return (mean - LIKERT_MIN) / (LIKERT_MAX - LIKERT_MIN) * 100


def band(score: float) -> str:
    """Return the recommendation band of a 0..100 score: "low" (< 50), "medium" (< 70) or "high"."""
    if math.isnan(score):
        raise ValueError("a missing score has no band")
    if score < BAND_MEDIUM:
        return "low"
    return "medium" if score < BAND_HIGH else "high"


# --- per group ----------------------------------------------------------------------------------


def _column_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per column the count, mean and sample variance (ddof=1) of the non-missing values.

    Mean is nan when the count is 0 and variance nan when it is below 2. A column whose values are
    all equal gets variance exactly 0: floating-point rounding of the mean (e.g. of 10/3 repeated)
    would otherwise leave a tiny positive variance and make "zero variance" depend on luck.
    """
    ok = ~np.isnan(x)
    n = ok.sum(axis=0)
    mean = np.divide(np.where(ok, x, 0.0).sum(axis=0), n, out=np.full(x.shape[1], np.nan), where=n > 0)
    squares = np.where(ok, x - mean, 0.0) ** 2
    var = np.divide(squares.sum(axis=0), n - 1, out=np.full(x.shape[1], np.nan), where=n > 1)
    low = np.min(np.where(ok, x, np.inf), axis=0, initial=np.inf)
    high = np.max(np.where(ok, x, -np.inf), axis=0, initial=-np.inf)
    var = np.where((n > 1) & (low == high), 0.0, var)
    return n, mean, var


def _put(row: dict, key: str, value: float) -> None:
    """Store value as a Python float, or leave the key out when it is undefined (nan or inf)."""
    if math.isfinite(value):
        row[key] = float(value)


def _cronbach_alpha(block: np.ndarray) -> tuple[float, int]:
    """Return Cronbach's alpha over complete respondents (nan when undefined) and their count."""
    complete = block[~np.isnan(block).any(axis=1)]
    m, k = complete.shape
    if k < 2 or m < ALPHA_MIN_RESPONDENTS:
        return math.nan, m
    total = complete.sum(axis=1)
    # Answers are whole numbers, so totals are exact and equal totals give a variance of exactly 0.
    if total.min() == total.max():
        return math.nan, m  # alpha = k/(k-1) * (1 - x/0) is undefined: no spread to explain
    item_var = complete.var(axis=0, ddof=1).sum()
    return k / (k - 1) * (1 - item_var / total.var(ddof=1)), m


def _enps(enps: np.ndarray) -> tuple[float, int]:
    answered = enps[~np.isnan(enps)]
    if answered.size == 0:
        return math.nan, 0
    promoters = np.count_nonzero(answered >= PROMOTER_MIN)
    detractors = np.count_nonzero(answered <= DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / answered.size, int(answered.size)


def group_results(values: np.ndarray, enps: np.ndarray | None, instrument: Instrument) -> dict:
    """Return every figure of one group of respondents as JSON-ready data.

    Shape (keys in brackets are left out when SCORING.md calls the figure absent)::

        {"n", ["index"], ["enps"], "enps_n",
         "dimensions": [{"id", "n", ["mean"], ["score"], ["ci_low"], ["ci_high"], ["favourable"],
                         ["alpha"], "alpha_n"}, ...],                      # one per level, in order
         "pyramid": [{"level", "count", "share"}, ...],                    # "none" first, then levels
         "items": [{"id", "level", "n", ["mean"], ["favourable"], "counts": [c1..c5]}, ...]}

    Choices where SCORING.md is silent:
    - ``ci_low``/``ci_high`` are on the 1..5 scale of ``mean`` and are not clipped to it. When all
      scores are equal (s = 0, n >= 2) the interval collapses to the mean.
    - ``alpha`` is left out when var(total) = 0 (all complete respondents have the same total):
      the formula divides by zero, so alpha is undefined rather than 0 or -inf. ``alpha_n``, the
      number of respondents who answered every item of the level, is always given.
    - ``index`` is left out unless all six dimensions have a score.
    - ``share`` is count / n, and 0.0 for every level when n = 0.
    - ``enps=None`` means the survey has no eNPS question (same as nobody answering it).
    """
    values = _check_answers(values, instrument)
    n = values.shape[0]
    enps = np.full(n, np.nan) if enps is None else _check_vector(enps, n, "enps")
    _check_range(enps, ENPS_MIN, ENPS_MAX, "eNPS answers")

    s = _scored(values, instrument)
    dims = _dimension_scores(s, instrument)

    # Item level: counts of each scored answer 1..5, everything else follows from them.
    answered = ~np.isnan(s)
    item_n = answered.sum(axis=0)
    counts = np.stack([(s == v).sum(axis=0) for v in range(LIKERT_MIN, LIKERT_MAX + 1)])  # (5, items)
    favourable = counts[FAVOURABLE_MIN - LIKERT_MIN :].sum(axis=0)
    item_sum = np.where(answered, s, 0.0).sum(axis=0)

    dim_n, dim_mean, dim_var = _column_stats(dims)
    dimensions = []
    for j, (level, cols) in enumerate(zip(instrument.levels, _level_slices(instrument), strict=True)):
        nj = int(dim_n[j])
        row: dict[str, Any] = {"id": level.id, "n": nj}
        if nj > 0:
            _put(row, "mean", dim_mean[j])
            _put(row, "score", to_score(dim_mean[j]))
        if nj >= 2:
            half = stats.t.ppf((1 + CONFIDENCE) / 2, nj - 1) * math.sqrt(dim_var[j]) / math.sqrt(nj)
            _put(row, "ci_low", dim_mean[j] - half)
            _put(row, "ci_high", dim_mean[j] + half)
        level_answers = int(item_n[cols].sum())
        if level_answers > 0:
            _put(row, "favourable", favourable[cols].sum() / level_answers)
        alpha, alpha_n = _cronbach_alpha(s[:, cols])
        _put(row, "alpha", alpha)
        row["alpha_n"] = int(alpha_n)
        dimensions.append(row)

    level_of = pyramid_levels(dims, instrument.reach_threshold)
    level_counts = np.bincount(level_of, minlength=len(instrument.levels) + 1)
    pyramid = [
        {"level": lid, "count": int(c), "share": float(c / n) if n else 0.0}
        for lid, c in zip(pyramid_ids(instrument), level_counts, strict=True)
    ]

    items = []
    for i, item in enumerate(instrument.items):
        ni = int(item_n[i])
        row = {"id": item.id, "level": item.level, "n": ni}
        if ni > 0:
            _put(row, "mean", item_sum[i] / ni)
            _put(row, "favourable", favourable[i] / ni)
        row["counts"] = [int(c) for c in counts[:, i]]
        items.append(row)

    result: dict[str, Any] = {"n": int(n)}
    if all("score" in d for d in dimensions):
        _put(result, "index", sum(d["score"] for d in dimensions) / len(dimensions))
    enps_value, enps_n = _enps(enps)
    _put(result, "enps", enps_value)
    result["enps_n"] = enps_n
    result["dimensions"] = dimensions
    result["pyramid"] = pyramid
    result["items"] = items
    return result


# --- comparing groups ---------------------------------------------------------------------------


def _compare_scores(dims_a: np.ndarray, dims_b: np.ndarray, instrument: Instrument) -> list[dict]:
    """Compare two groups' dimension scores (n x levels), one row per level."""
    return _compare_stats(_column_stats(dims_a), _column_stats(dims_b), instrument)


def _merge_stats(parts: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine per-group (n, mean, var, low, high) column statistics into those of their union.

    Uses the pairwise update of Chan, Golub and LeVeque: exact up to rounding, and it lets the
    "rest of the organisation" of every department come from per-group summaries instead of
    another pass over all respondents for each department.
    """
    n = np.zeros_like(parts[0][0], dtype=float)
    mean = np.zeros_like(n)
    m2 = np.zeros_like(n)
    low = np.full_like(n, np.inf)
    high = np.full_like(n, -np.inf)
    for pn, pmean, pvar, plow, phigh in parts:
        pn = pn.astype(float)
        has = pn > 0
        pm2 = np.where(pn > 1, np.nan_to_num(pvar) * (pn - 1), 0.0)
        total = n + pn
        delta = np.where(has, np.nan_to_num(pmean) - mean, 0.0)
        safe = np.where(total > 0, total, 1.0)
        mean = np.where(has, mean + delta * pn / safe, mean)
        m2 = np.where(has, m2 + pm2 + delta**2 * n * pn / safe, m2)
        n = total
        low, high = np.minimum(low, plow), np.maximum(high, phigh)
    mean = np.where(n > 0, mean, np.nan)
    var = np.divide(m2, n - 1, out=np.full(n.shape, np.nan), where=n > 1)
    var = np.where((n > 1) & (low == high), 0.0, var)  # exact zero, as in _column_stats
    return n.astype(np.int64), mean, var


def _group_stats(x: np.ndarray) -> tuple:
    """Return (n, mean, var, low, high) per column, for merging with _merge_stats."""
    n, mean, var = _column_stats(x)
    ok = ~np.isnan(x)
    low = np.min(np.where(ok, x, np.inf), axis=0, initial=np.inf)
    high = np.max(np.where(ok, x, -np.inf), axis=0, initial=-np.inf)
    return n, mean, var, low, high


def _compare_stats(a: tuple, b: tuple, instrument: Instrument) -> list[dict]:
    """Compare two groups given their per-level (n, mean, var), one row per level."""
    na, ma, va = a[:3]
    nb, mb, vb = b[:3]
    both = (na >= 2) & (nb >= 2)
    # Welch's t-test from the groups' summary statistics: the same test as
    # stats.ttest_ind(a, b, equal_var=False), vectorised over levels, and fed our exact zero
    # variances. With both variances 0 the statistic is x/0 (scipy says nan or p = 0): left out.
    testable = both & ((va > 0) | (vb > 0))
    p = np.full(len(na), np.nan)
    if testable.any():
        t = testable
        p[t] = stats.ttest_ind_from_stats(
            ma[t], np.sqrt(va[t]), na[t], mb[t], np.sqrt(vb[t]), nb[t], equal_var=False
        ).pvalue
    dof = np.maximum(na + nb - 2, 1)  # only used where both >= 2, so na + nb - 2 >= 2
    pooled = np.sqrt(np.where(both, ((na - 1) * va + (nb - 1) * vb) / dof, np.nan))
    d = np.divide(ma - mb, pooled, out=np.full(len(na), np.nan), where=both & (pooled > 0))

    rows = []
    for j, level in enumerate(instrument.levels):
        row: dict[str, Any] = {"id": level.id, "n_a": int(na[j]), "n_b": int(nb[j])}
        if na[j] > 0:
            _put(row, "mean_a", ma[j])
        if nb[j] > 0:
            _put(row, "mean_b", mb[j])
        if na[j] > 0 and nb[j] > 0:
            _put(row, "diff", ma[j] - mb[j])
        _put(row, "p", p[j])
        _put(row, "d", d[j])
        rows.append(row)
    return rows


def compare(values_a: np.ndarray, values_b: np.ndarray, instrument: Instrument) -> list[dict]:
    """Compare group a with group b per dimension: means, difference, Welch p-value and Cohen's d.

    Each row is {"id", "n_a", "n_b", ["mean_a"], ["mean_b"], ["diff"], ["p"], ["d"]}: diff is
    mean_a - mean_b; p is Welch's t-test on the respondents' dimension scores; d is Cohen's d with
    the pooled sample sd (ddof=1). p and d are left out when either side has fewer than 2 scores,
    p also when both variances are 0 and d when the pooled sd is 0.
    """
    dims_a = dimension_scores(values_a, instrument)
    dims_b = dimension_scores(values_b, instrument)
    return _compare_scores(dims_a, dims_b, instrument)


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (monotone, at most 1), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got shape {p.shape}")
    if p.size == 0:
        return np.empty(0)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must lie in 0..1")
    return stats.false_discovery_control(p, method="bh")


def compare_departments(
    values: np.ndarray, groups: np.ndarray, instrument: Instrument, shown: set[int] | None = None
) -> list[dict]:
    """Compare each shown group with all respondents not in it, adjusting the table's p-values with BH.

    Returns [{"group", "n", "dimensions": [compare rows + "significant", ["p_adj"]]}, ...] sorted
    by group, n being the group's respondents. All p-values of the table (every shown group and
    dimension) form one Benjamini-Hochberg family; "significant" is p_adj < 0.05, and False when
    the row has no p-value (and so no p_adj). ``shown`` defaults to every group present; the
    complement of a group is always everyone else, hidden groups included.
    """
    values = _check_answers(values, instrument)
    groups = np.asarray(groups)
    if groups.shape != (values.shape[0],) or not (groups.size == 0 or np.issubdtype(groups.dtype, np.integer)):
        raise ValueError(f"groups must be integers of shape ({values.shape[0]},), got {groups.dtype} {groups.shape}")
    dims = _dimension_scores(_scored(values, instrument), instrument)
    wanted = sorted(int(g) for g in (np.unique(groups) if shown is None else shown))

    # One pass over the respondents: summary statistics per group. The complement of a group
    # ("everyone else") is then merged from the other groups' summaries.
    present = [int(g) for g in np.unique(groups)]
    summaries = {g: _group_stats(dims[groups == g]) for g in present}
    sizes = {g: int(np.count_nonzero(groups == g)) for g in present}
    empty = _group_stats(dims[:0])
    table = []
    for g in wanted:
        own = summaries.get(g, empty)
        rest = _merge_stats([summaries[h] for h in present if h != g] or [empty])
        rows = _compare_stats(own, rest, instrument)
        table.append({"group": g, "n": sizes.get(g, 0), "dimensions": rows})

    tested = [row for entry in table for row in entry["dimensions"] if "p" in row]
    adjusted = benjamini_hochberg([row["p"] for row in tested])
    for row, p_adj in zip(tested, adjusted, strict=True):
        row["p_adj"] = float(p_adj)
    for entry in table:
        for row in entry["dimensions"]:
            row["significant"] = bool(row.get("p_adj", 1.0) < SIGNIFICANCE)
    return table
