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
from dataclasses import dataclass
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


# --- sufficient statistics of groups -------------------------------------------------------------
#
# Every figure of a group follows from sums over its respondents that simply add up: counts of
# each answer per item, per level the number, sum and sum of squares of the scores, the pyramid's
# counts, eNPS counts and, for Cronbach's alpha, per level the sums and sums of squares of the
# items and of the totals over complete respondents. A survey's respondents are summed once per
# smallest group ("atom"); any group made of atoms (a unit with its sub-units, "everyone outside
# a unit") is then a sum or a difference of rows, however many groups there are.
#
# The sums are exact integers: a level score is total / count, and count is one of k/2..k, so
# score * lcm(k/2..k) is a whole number. Means, variances and alpha are then ratios of exact
# integers, so "all scores equal" (variance 0) is decided exactly rather than by rounding luck.

EXACT = 2**53  # float64 holds every integer below this exactly


@dataclass(frozen=True)
class Layout:
    """Where each sum sits in a row of the statistics matrix, for one instrument."""

    n_items: int
    n_levels: int
    sizes: tuple[int, ...]  # items per level
    scales: tuple[int, ...]  # per level: lcm of the possible answer counts, so that scaled scores are integers
    slices: tuple[slice, ...]  # each level's item columns

    @property
    def width(self) -> int:
        """Return the number of columns of a statistics row."""
        return self.counts + 5 * self.n_items

    # Column offsets, in order: n, eNPS (answered, promoters, detractors), pyramid (levels + 1),
    # per level: scores (n, sum, squares), complete respondents, their totals (sum, squares),
    # per item over complete respondents (sum, squares), then the answer counts (5 x items).
    N, ENPS = 0, 1

    @property
    def pyramid(self) -> int:
        return 4

    @property
    def dim_n(self) -> int:
        return self.pyramid + self.n_levels + 1

    @property
    def dim_s(self) -> int:
        return self.dim_n + self.n_levels

    @property
    def dim_q(self) -> int:
        return self.dim_s + self.n_levels

    @property
    def alpha_m(self) -> int:
        return self.dim_q + self.n_levels

    @property
    def total_s(self) -> int:
        return self.alpha_m + self.n_levels

    @property
    def total_q(self) -> int:
        return self.total_s + self.n_levels

    @property
    def item_s(self) -> int:
        return self.total_q + self.n_levels

    @property
    def item_q(self) -> int:
        return self.item_s + self.n_items

    @property
    def counts(self) -> int:
        return self.item_q + self.n_items


def layout(instrument: Instrument) -> Layout:
    """Return the statistics layout of an instrument."""
    sizes = tuple(len(level.items) for level in instrument.levels)
    scales = tuple(math.lcm(*range(max(1, math.ceil(k / 2)), k + 1)) if k else 1 for k in sizes)
    return Layout(len(instrument.items), len(sizes), sizes, scales, tuple(_level_slices(instrument)))


def atom_sums(
    values: np.ndarray, enps: np.ndarray | None, instrument: Instrument, atoms: np.ndarray, n_atoms: int
) -> np.ndarray:
    """Return the sums of every atom (group index per respondent, 0..n_atoms-1) as an integer matrix.

    One pass over the respondents, whatever the number of atoms; rows add up to the sums of
    any union of atoms. See `Figures` for what follows from them.
    """
    values = _check_answers(values, instrument)
    n = values.shape[0]
    enps = np.full(n, np.nan) if enps is None else _check_vector(enps, n, "enps")
    _check_range(enps, ENPS_MIN, ENPS_MAX, "eNPS answers")
    atoms = np.asarray(atoms, dtype=np.int64)
    if atoms.shape != (n,) or (n and (atoms.min() < 0 or atoms.max() >= n_atoms)):
        raise ValueError(f"atoms must be integers 0..{n_atoms - 1} of shape ({n},)")
    lay = layout(instrument)
    s = _scored(values, instrument)
    answered = ~np.isnan(s)
    si = np.where(answered, s, 0.0).astype(np.int64)  # whole answers 0..5 (0: none)
    # Column by column (contiguous writes and sums); 32 bits a value when the largest (a squared
    # scaled score) fits, which halves the memory of the pass.
    small = 25 * max(lay.scales, default=1) ** 2 < 2**31 and 25 * max(lay.sizes, default=1) ** 2 < 2**31
    x = np.zeros((n, lay.counts), dtype=np.int32 if small else np.int64, order="F")
    x[:, lay.N] = 1
    enps_answered = ~np.isnan(enps)
    x[:, lay.ENPS] = enps_answered
    x[:, lay.ENPS + 1] = enps_answered & (np.nan_to_num(enps, nan=-1) >= PROMOTER_MIN)
    x[:, lay.ENPS + 2] = enps_answered & (np.nan_to_num(enps, nan=99) <= DETRACTOR_MAX)
    dims = np.full((n, lay.n_levels), np.nan)
    for j, cols in enumerate(lay.slices):
        k = lay.sizes[j]
        count = answered[:, cols].sum(axis=1)
        total = si[:, cols].sum(axis=1)
        ok = (count >= math.ceil(k / 2)) & (count > 0)
        scaled = np.where(ok, total * (lay.scales[j] // np.maximum(count, 1)), 0)
        x[:, lay.dim_n + j] = ok
        x[:, lay.dim_s + j] = scaled
        x[:, lay.dim_q + j] = scaled * scaled
        dims[ok, j] = total[ok] / count[ok]
        complete = count == k
        x[:, lay.alpha_m + j] = complete
        x[:, lay.total_s + j] = total * complete
        x[:, lay.total_q + j] = total * total * complete
        x[:, lay.item_s + cols.start : lay.item_s + cols.stop] = si[:, cols] * complete[:, None]
        x[:, lay.item_q + cols.start : lay.item_q + cols.stop] = si[:, cols] ** 2 * complete[:, None]
    x[np.arange(n), lay.pyramid + pyramid_levels(dims, instrument.reach_threshold)] = 1
    out = np.empty((n_atoms, lay.width), dtype=np.int64)
    out[:, : lay.counts] = _sum_rows(x, atoms, n_atoms)
    # Answer counts: one bincount over (atom, value, item) instead of five columns per item.
    width = np.int32 if n_atoms * 5 * lay.n_items < 2**31 else np.int64
    code = (
        atoms.astype(width)[:, None] * (5 * lay.n_items)
        + (si.astype(width) - 1) * lay.n_items
        + np.arange(lay.n_items, dtype=width)
    )
    out[:, lay.counts :] = np.bincount(code[answered], minlength=n_atoms * 5 * lay.n_items).reshape(n_atoms, -1)
    return out


def _sum_rows(x: np.ndarray, atoms: np.ndarray, n_atoms: int) -> np.ndarray:
    """Return the column sums of x per atom, exactly."""
    if not len(x):
        return np.zeros((n_atoms, x.shape[1]), dtype=np.int64)
    if int(np.abs(x).max()) * len(x) < EXACT:
        # bincount adds in float64, exact below 2**53; far faster than sorting the rows.
        return np.stack(
            [np.bincount(atoms, weights=x[:, c], minlength=n_atoms) for c in range(x.shape[1])], axis=1
        ).astype(np.int64)
    order = np.argsort(atoms, kind="stable")
    present, starts = np.unique(atoms[order], return_index=True)
    out = np.zeros((n_atoms, x.shape[1]), dtype=np.int64)
    out[present] = np.add.reduceat(x[order].astype(np.int64), starts, axis=0)
    return out


def _exact(a: np.ndarray) -> np.ndarray:
    """Return integer sums as Python integers (object array) when products of them could overflow int64."""
    return a.astype(object) if a.size and int(np.abs(a).max()) >= 2**31 else a


def _moments(n: np.ndarray, s: np.ndarray, q: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return mean and sample variance of scaled integer scores from their count, sum and sum of squares.

    Mean is nan when n is 0 and variance nan when n is below 2; a variance of 0 is exactly 0.
    """
    nf = n.astype(float)
    mean = np.divide(s, nf * scale, out=np.full(n.shape, np.nan), where=n > 0)
    m2 = _exact(n) * _exact(q) - _exact(s) * _exact(s)  # n * sum of squared deviations, exactly
    denom = _exact(n) * _exact(n - 1) * _exact(np.broadcast_to(scale, n.shape) ** 2)
    var = np.full(n.shape, np.nan)
    ok = n > 1
    if ok.any():
        var[ok] = np.asarray(m2[ok] / denom[ok], dtype=float)
    return mean, var


def _t_quantiles(df: np.ndarray) -> np.ndarray:
    """Return the two-sided 95 % t quantile for each degrees of freedom (computed once per distinct value)."""
    out = np.full(df.shape, np.nan)
    ok = df > 0
    if ok.any():
        unique, inverse = np.unique(df[ok], return_inverse=True)
        out[ok] = stats.t.ppf((1 + CONFIDENCE) / 2, unique)[inverse]
    return out


class Figures:
    """Every figure of many groups at once, from their sums (rows of `atom_sums`, or sums of those rows)."""

    def __init__(self, sums: np.ndarray, instrument: Instrument):
        lay = layout(instrument)
        self.instrument, self.layout = instrument, lay
        sums = np.asarray(sums, dtype=np.int64).reshape(-1, lay.width)
        self.sums = sums
        levels = slice(0, lay.n_levels)
        scale = np.array(lay.scales, dtype=np.int64)
        self.n = sums[:, lay.N]
        self.enps_n = sums[:, lay.ENPS]
        self.enps = np.divide(
            100.0 * (sums[:, lay.ENPS + 1] - sums[:, lay.ENPS + 2]),
            self.enps_n,
            out=np.full(len(sums), np.nan),
            where=self.enps_n > 0,
        )
        self.pyramid = sums[:, lay.pyramid : lay.pyramid + lay.n_levels + 1]
        self.dim_n = sums[:, lay.dim_n :][:, levels]
        self.dim_mean, self.dim_var = _moments(
            self.dim_n, sums[:, lay.dim_s :][:, levels], sums[:, lay.dim_q :][:, levels], scale
        )
        half = _t_quantiles(self.dim_n - 1) * np.sqrt(self.dim_var) / np.sqrt(np.maximum(self.dim_n, 1))
        self.ci_low, self.ci_high = self.dim_mean - half, self.dim_mean + half
        self.counts = sums[:, lay.counts :].reshape(len(sums), 5, lay.n_items)
        self.item_n = self.counts.sum(axis=1)
        favourable = self.counts[:, FAVOURABLE_MIN - LIKERT_MIN :, :].sum(axis=1)
        weighted = (self.counts * np.arange(LIKERT_MIN, LIKERT_MAX + 1)[None, :, None]).sum(axis=1)
        self.item_mean = np.divide(weighted, self.item_n, out=np.full(self.item_n.shape, np.nan), where=self.item_n > 0)
        self.item_favourable = np.divide(
            favourable, self.item_n, out=np.full(self.item_n.shape, np.nan), where=self.item_n > 0
        )
        level_answers = np.stack([self.item_n[:, c].sum(axis=1) for c in lay.slices], axis=1)
        level_favourable = np.stack([favourable[:, c].sum(axis=1) for c in lay.slices], axis=1)
        self.dim_favourable = np.divide(
            level_favourable, level_answers, out=np.full(level_answers.shape, np.nan), where=level_answers > 0
        )
        self.alpha_n = sums[:, lay.alpha_m :][:, levels]
        self.alpha = self._alpha(sums, lay)

    def _alpha(self, sums: np.ndarray, lay: Layout) -> np.ndarray:
        """Return Cronbach's alpha per group and level over complete respondents (nan when undefined)."""
        out = np.full((len(sums), lay.n_levels), np.nan)
        for j, cols in enumerate(lay.slices):
            k = lay.sizes[j]
            m = _exact(sums[:, lay.alpha_m + j])
            ts, tq = _exact(sums[:, lay.total_s + j]), _exact(sums[:, lay.total_q + j])
            item_s = _exact(sums[:, lay.item_s + cols.start : lay.item_s + cols.stop])
            item_q = _exact(sums[:, lay.item_q + cols.start : lay.item_q + cols.stop])
            total_m2 = m * tq - ts * ts  # m(m-1) times the variance of the totals, exactly
            item_m2 = (m[:, None] * item_q - item_s * item_s).sum(axis=1)
            # Whole-number answers give exact totals: equal totals (no spread) leave alpha undefined.
            ok = (
                (sums[:, lay.alpha_m + j] >= ALPHA_MIN_RESPONDENTS) & (total_m2 != 0)
                if k >= 2
                else np.zeros(len(m), bool)
            )
            if ok.any():
                ratio = np.asarray(item_m2[ok] / total_m2[ok], dtype=float)
                out[ok, j] = k / (k - 1) * (1 - ratio)
        return out

    def __len__(self) -> int:
        return len(self.sums)

    def result(self, g: int, items: bool = True) -> dict:
        """Return group g's figures in the shape of group_results (without "items" when items is False)."""
        inst = self.instrument
        n = int(self.n[g])
        dimensions = []
        dim_n, mean = self.dim_n[g].tolist(), self.dim_mean[g].tolist()
        low, high, fav = self.ci_low[g].tolist(), self.ci_high[g].tolist(), self.dim_favourable[g].tolist()
        alpha, alpha_n = self.alpha[g].tolist(), self.alpha_n[g].tolist()
        for j, level in enumerate(inst.levels):
            row: dict[str, Any] = {"id": level.id, "n": dim_n[j]}
            if dim_n[j] > 0:
                _put(row, "mean", mean[j])
                _put(row, "score", (mean[j] - LIKERT_MIN) / (LIKERT_MAX - LIKERT_MIN) * 100)
            if dim_n[j] >= 2:
                _put(row, "ci_low", low[j])
                _put(row, "ci_high", high[j])
            _put(row, "favourable", fav[j])
            _put(row, "alpha", alpha[j])
            row["alpha_n"] = alpha_n[j]
            dimensions.append(row)
        pyramid = [
            {"level": lid, "count": c, "share": c / n if n else 0.0}
            for lid, c in zip(pyramid_ids(inst), self.pyramid[g].tolist(), strict=True)
        ]
        result: dict[str, Any] = {"n": n}
        if all("score" in d for d in dimensions):
            _put(result, "index", sum(d["score"] for d in dimensions) / len(dimensions))
        _put(result, "enps", float(self.enps[g]))
        result["enps_n"] = int(self.enps_n[g])
        result["dimensions"] = dimensions
        result["pyramid"] = pyramid
        if items:
            result["items"] = self._items(g)
        return result

    def _items(self, g: int) -> list[dict]:
        items = []
        item_n, item_mean, item_fav = (
            self.item_n[g].tolist(),
            self.item_mean[g].tolist(),
            self.item_favourable[g].tolist(),
        )
        counts = self.counts[g].T.tolist()
        for i, item in enumerate(self.instrument.items):
            row = {"id": item.id, "level": item.level, "n": item_n[i]}
            if item_n[i] > 0:
                _put(row, "mean", item_mean[i])
                _put(row, "favourable", item_fav[i])
            row["counts"] = counts[i]
            items.append(row)
        return items


def _put(row: dict, key: str, value: float) -> None:
    """Store value as a Python float, or leave the key out when it is undefined (nan or inf)."""
    if math.isfinite(value):
        row[key] = float(value)


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
    sums = atom_sums(values, enps, instrument, np.zeros(values.shape[0], dtype=np.int64), 1)
    return Figures(sums, instrument).result(0)


# --- comparing groups ---------------------------------------------------------------------------


def welch(a: Figures, b: Figures) -> tuple[np.ndarray, np.ndarray]:
    """Return Welch's t-test p-values and Cohen's d (pooled sd) of groups a[i] against b[i], per level.

    Both are nan where either side has fewer than 2 scores; p also where both variances are 0,
    d where the pooled sd is 0. Vectorised over every group and level at once.
    """
    return welch_moments(a.dim_n, a.dim_mean, a.dim_var, b.dim_n, b.dim_mean, b.dim_var)


def welch_moments(
    na: np.ndarray, ma: np.ndarray, va: np.ndarray, nb: np.ndarray, mb: np.ndarray, vb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return Welch's p and Cohen's d from counts, means and variances (arrays of any one shape); see welch."""
    both = (na >= 2) & (nb >= 2)
    # The same test as stats.ttest_ind(a, b, equal_var=False), from the groups' summary
    # statistics and with their exact zero variances. Both variances 0: x/0, left out.
    testable = both & ((va > 0) | (vb > 0))
    p = np.full(na.shape, np.nan)
    if testable.any():
        t = testable
        p[t] = stats.ttest_ind_from_stats(
            ma[t], np.sqrt(va[t]), na[t], mb[t], np.sqrt(vb[t]), nb[t], equal_var=False
        ).pvalue
    dof = np.maximum(na + nb - 2, 1)  # only used where both >= 2, so na + nb - 2 >= 2
    pooled_var = np.where(both, ((na - 1) * np.nan_to_num(va) + (nb - 1) * np.nan_to_num(vb)) / dof, np.nan)
    pooled = np.sqrt(pooled_var)
    d = np.divide(ma - mb, pooled, out=np.full(na.shape, np.nan), where=both & (pooled > 0))
    return p, d


def comparison_rows(a: Figures, b: Figures, g: int, p: np.ndarray, d: np.ndarray) -> list[dict]:
    """Return the compare() rows of group a[g] against b[g], given welch(a, b)."""
    rows = []
    na, nb = a.dim_n[g].tolist(), b.dim_n[g].tolist()
    ma, mb = a.dim_mean[g].tolist(), b.dim_mean[g].tolist()
    pg, dg = p[g].tolist(), d[g].tolist()
    for j, level in enumerate(a.instrument.levels):
        row: dict[str, Any] = {"id": level.id, "n_a": na[j], "n_b": nb[j]}
        if na[j] > 0:
            _put(row, "mean_a", ma[j])
        if nb[j] > 0:
            _put(row, "mean_b", mb[j])
        if na[j] > 0 and nb[j] > 0:
            _put(row, "diff", ma[j] - mb[j])
        _put(row, "p", pg[j])
        _put(row, "d", dg[j])
        rows.append(row)
    return rows


def compare(values_a: np.ndarray, values_b: np.ndarray, instrument: Instrument) -> list[dict]:
    """Compare group a with group b per dimension: means, difference, Welch p-value and Cohen's d.

    Each row is {"id", "n_a", "n_b", ["mean_a"], ["mean_b"], ["diff"], ["p"], ["d"]}: diff is
    mean_a - mean_b; p is Welch's t-test on the respondents' dimension scores; d is Cohen's d with
    the pooled sample sd (ddof=1). p and d are left out when either side has fewer than 2 scores,
    p also when both variances are 0 and d when the pooled sd is 0.
    """
    values_a = _check_answers(values_a, instrument)
    values_b = _check_answers(values_b, instrument)
    a = Figures(atom_sums(values_a, None, instrument, np.zeros(len(values_a), dtype=np.int64), 1), instrument)
    b = Figures(atom_sums(values_b, None, instrument, np.zeros(len(values_b), dtype=np.int64), 1), instrument)
    p, d = welch(a, b)
    return comparison_rows(a, b, 0, p, d)


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
    wanted = sorted(int(g) for g in (np.unique(groups) if shown is None else shown))
    if not wanted:
        return []
    # One pass over the respondents: sums per group; "everyone else" is the total minus the group.
    present = sorted({int(g) for g in np.unique(groups)} | set(wanted))
    index = {g: i for i, g in enumerate(present)}
    atoms = np.array([index[int(g)] for g in groups], dtype=np.int64)
    sums = atom_sums(values, None, instrument, atoms, len(present))
    own = sums[[index[g] for g in wanted]]
    table = significance(Figures(own, instrument), Figures(sums.sum(axis=0) - own, instrument))
    return [
        {"group": g, "n": int(own[i, 0]), "dimensions": rows}
        for i, (g, rows) in enumerate(zip(wanted, table, strict=True))
    ]


def significance(a: Figures, b: Figures) -> list[list[dict]]:
    """Compare a[i] with b[i] for every i; all p-values form one Benjamini-Hochberg family ("significant")."""
    p, d = welch(a, b)
    table = [comparison_rows(a, b, g, p, d) for g in range(len(a))]
    tested = [row for rows in table for row in rows if "p" in row]
    adjusted = benjamini_hochberg([row["p"] for row in tested])
    for row, p_adj in zip(tested, adjusted.tolist(), strict=True):
        row["p_adj"] = float(p_adj)
    for rows in table:
        for row in rows:
            row["significant"] = bool(row.get("p_adj", 1.0) < SIGNIFICANCE)
    return table
