"""Scoring speed: group_results for 100,000 respondents, as a ratio to reading the same matrix once.

The baseline is what any computation on the answers must at least do: one pass of numpy
over the 100,000 x 24 matrix (nanmean per column). Both are measured in this run, best of 5.

    .venv/bin/python benchmarks/scoring.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import scoring
from survey.questionnaire import load_instrument


def best_of(runs: int, fn) -> float:
    """Return the shortest wall-clock time of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Print the time of group_results and of the baseline, and their ratio."""
    inst = load_instrument(Path(__file__).resolve().parent.parent / "questions.yaml")
    rng = np.random.default_rng(0)
    n = 100_000
    values = rng.integers(1, 6, size=(n, len(inst.items))).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    enps = rng.integers(0, 11, size=n).astype(float)
    scoring.group_results(values[:10], enps[:10], inst)  # warm up imports and caches
    base = best_of(5, lambda: np.nanmean(values, axis=0))
    full = best_of(5, lambda: scoring.group_results(values, enps, inst))
    print(f"respondents: {n:,}, items: {len(inst.items)}")
    print(f"baseline (nanmean per item)   {base * 1000:8.1f} ms")
    print(f"group_results                 {full * 1000:8.1f} ms   ratio {full / base:.1f}")


if __name__ == "__main__":
    main()
