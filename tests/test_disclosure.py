"""Every output together: for random organisations, thresholds and answers, nothing hidden can be worked out.

The attacker collects every figure the app shows, from every output (the results, each
department's own results, the comparison, the response rates, the raw export), and
subtracts. For each column (a level, an item, the pyramid, eNPS, the response count) the
departments add up to the organisation; linear algebra on those sums, done here without the
app's own reasoning, must not pin down any hidden cell that rests on fewer than k answers.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import compare, export, i18n, privacy, rates, results, scoring, surveys
from survey.db import get_db, write_transaction
from survey.responses import Submission, store

ROOT = privacy.ROOT


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    """One app for the whole module; each example makes a survey of its own in it."""
    from survey import create_app

    folder = tmp_path_factory.mktemp("disclosure")
    return create_app({"TESTING": True, "DATABASE": str(folder / "d.sqlite"), "SECRET_KEY": "k"})


@st.composite
def organisations(draw):
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=6))
    k = draw(st.integers(3, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    skip = draw(st.sampled_from([0.0, 0.2, 0.5]))
    return sizes, k, seed, skip


def build(app, sizes, k, seed, skip) -> tuple[surveys.Survey, np.ndarray, np.ndarray, np.ndarray]:
    """Store a survey with random answers (some items skipped) and close it; return it and what was stored."""
    rng = np.random.default_rng(seed)
    inst = app.extensions["instrument"]
    with app.app_context():
        db = get_db()
        slug = f"s{seed}-{len(sizes)}-{k}-{int(skip * 10)}-{'-'.join(map(str, sizes))}"
        survey = surveys.get_survey(db, slug)
        if survey is not None:
            with write_transaction(db):
                db.execute("DELETE FROM surveys WHERE id = ?", [survey.id])
        depts = [{"code": f"D{i}", "name": f"Dept {i}"} for i in range(len(sizes))]
        survey = surveys.create_survey(
            db,
            inst,
            title=slug,
            language="en",
            departments=depts,
            slug=slug,
            min_group_size=k,
            comment_min_group_size=max(10, k),
        )
        ids = {d.code: d.id for d in surveys.departments(db, survey)}
        n = sum(sizes)
        values = rng.integers(1, 6, (n, len(inst.items))).astype(float)
        values[rng.random(values.shape) < skip] = np.nan
        values[np.isnan(values).all(axis=1), 0] = 3  # everyone answers at least one statement
        enps = np.where(rng.random(n) < 0.7, rng.integers(0, 11, n), np.nan)
        group = np.repeat(np.arange(len(sizes)), sizes)
        with write_transaction(db):
            for row, e, g in zip(values, enps, group, strict=True):
                answers = {it.id: int(v) for it, v in zip(inst.items, row, strict=True) if not np.isnan(v)}
                store(db, survey, Submission(ids[f"D{g}"], answers, None if np.isnan(e) else int(e), None))
        surveys.close(db, survey)
        return surveys.get_survey(db, slug), values, enps, group


def take_cells(shown: dict, group: str, figures: dict | None) -> None:
    """Add every cell one output's figures show for a group to shown: {(group, column): n}."""
    if not figures or figures.get("suppressed"):
        return
    if "n" in figures:
        shown[(group, privacy.COUNT)] = figures["n"]
    for dim in figures.get("dimensions") or []:
        if not dim.get("suppressed"):
            shown[(group, dim["id"])] = dim["n"]
    for item in figures.get("items") or []:
        if "counts" in item:
            shown[(group, item["id"])] = item["n"]
    if figures.get("pyramid"):
        shown[(group, privacy.PYRAMID)] = sum(step["count"] for step in figures["pyramid"])
    if "enps" in figures and "enps_n" in figures:
        shown[(group, privacy.ENPS)] = figures["enps_n"]
    elif "enps" in figures:
        shown.setdefault((group, privacy.ENPS), None)


def take_rates(shown: dict, found: dict) -> dict:
    """Add the response counts the rates page shows to shown; return the rates."""
    if found["responses"] is not None:
        shown[(ROOT, privacy.COUNT)] = found["responses"]
    for row in found["departments"]:
        if row["responses"] is not None:
            shown[(row["department"].code, privacy.COUNT)] = row["responses"]
    return found


def collect(app, survey) -> dict:
    """Return every cell any output shows: {(group, column): n}, with the group "" for the organisation."""
    shown: dict = {}

    def take(group: str, figures: dict | None) -> None:
        take_cells(shown, group, figures)

    with app.app_context():
        db = get_db()
        org = results.survey_results(db, survey)
        take(ROOT, org)
        for row in org.get("departments", []):
            take(row["code"], row)
            take(row["code"], results.survey_results(db, survey, row["code"]))
        body = compare.comparison(db, survey)
        if not body["suppressed"]:
            take(ROOT, body["organisation"])
            for row in body["departments"]:
                take(row["code"], row)
        found = take_rates(shown, rates.response_rates(db, survey))
        if found["responses"] is not None:
            _, rows = export.export_rows(db, survey)
            labels = [r[0] for r in rows]
            for label in set(labels):
                # Every group the raw export names holds at least k responses.
                assert labels.count(label) >= survey.min_group_size, label
    return shown


def true_counts(app, units: int, values, enps, group) -> dict:
    """Return each (group, column)'s own number of answers, counted plainly from what was stored."""
    inst = app.extensions["instrument"]
    dims = scoring.dimension_scores(values, inst) if len(values) else np.empty((0, len(inst.levels)))
    out = {}
    for code in [ROOT, *[f"D{i}" for i in range(units)]]:
        mask = np.ones(len(group), dtype=bool) if code == ROOT else group == int(code[1:])
        out[(code, privacy.COUNT)] = int(mask.sum())
        out[(code, privacy.PYRAMID)] = int(mask.sum())
        out[(code, privacy.ENPS)] = int((~np.isnan(enps[mask])).sum())
        for j, level in enumerate(inst.levels):
            out[(code, level.id)] = int((~np.isnan(dims[mask, j])).sum())
        for i, item in enumerate(inst.items):
            out[(code, item.id)] = int((~np.isnan(values[mask, i])).sum())
    return out


def determinable(units: list[str], column: str, shown: dict, n: dict) -> list[str]:
    """Return the hidden cells with answers that the sum (organisation = departments) pins down exactly."""
    cells = [ROOT, *units]
    unknown = [c for c in cells if (c, column) not in shown and n[(c, column)] > 0]
    if not unknown:
        return []
    row = np.array([[1.0 if c == ROOT else -1.0 for c in unknown]])
    rank = np.linalg.matrix_rank(row)
    found = []
    for i, cell in enumerate(unknown):
        unit = np.zeros(len(unknown))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([row, unit])) == rank:
            found.append(cell)
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(organisations())
def test_no_output_and_no_combination_of_outputs_reveals_a_hidden_cell(module_app, drawn):
    sizes, k, seed, skip = drawn
    survey, values, enps, group = build(module_app, sizes, k, seed, skip)
    shown = collect(module_app, survey)
    n = true_counts(module_app, len(sizes), values, enps, group)
    units = [f"D{i}" for i in range(len(sizes))]
    columns = {column for _, column in n}
    for (cell, column), count in shown.items():
        # Every figure shown rests on at least k answers of its own, and says so truthfully.
        assert n[(cell, column)] >= k, (cell, column, n[(cell, column)])
        assert count is None or count == n[(cell, column)], (cell, column)
    for column in columns:
        leaks = [c for c in determinable(units, column, shown, n) if n[(c, column)] < k]
        assert leaks == [], (column, leaks)
        hidden = [u for u in units if (u, column) not in shown and n[(u, column)] > 0]
        if (ROOT, column) in shown and hidden:
            # The organisation minus every shown department stands for at least k answers.
            assert sum(n[(u, column)] for u in hidden) >= k, (column, hidden)


def test_a_second_reading_with_one_more_answer_in_between_cannot_happen(module_app):
    """The other half of differencing over time: once read, the survey takes no further answer."""
    survey, *_ = build(module_app, [8, 7, 2], 5, 1, 0.0)
    with module_app.app_context():
        db = get_db()
        results.survey_results(db, survey)
        with pytest.raises(surveys.ReopenRefused):
            surveys.reopen(db, surveys.get_survey(db, survey.slug))


# --- units within units: random trees, every output, linear algebra over every parent = sum of children --


@st.composite
def hierarchies(draw):
    """A random tree of units (a unit's parent is an earlier unit, or none), with people answering for any unit."""
    count = draw(st.integers(1, 8))
    parents = [draw(st.sampled_from([None, *range(i)])) for i in range(count)]
    sizes = draw(st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8, 12]), min_size=count, max_size=count))
    k = draw(st.integers(3, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    skip = draw(st.sampled_from([0.0, 0.2, 0.5]))
    return parents, sizes, k, seed, skip


def build_tree(app, parents, sizes, k, seed, skip):
    """Store a survey of nested units with random answers (people answer for leaves and inner units) and close it."""
    rng = np.random.default_rng(seed)
    inst = app.extensions["instrument"]
    with app.app_context():
        db = get_db()
        slug = "t" + hashlib.sha256(repr((parents, sizes, k, seed, skip)).encode()).hexdigest()[:20]
        old = surveys.get_survey(db, slug)
        if old is not None:
            with write_transaction(db):
                db.execute("DELETE FROM surveys WHERE id = ?", [old.id])
        depts = [
            {"code": f"U{i}", "name": f"Unit {i}", **({"parent": f"U{p}"} if p is not None else {})}
            for i, p in enumerate(parents)
        ]
        survey = surveys.create_survey(
            db,
            inst,
            title=slug,
            language="en",
            departments=depts,
            slug=slug,
            min_group_size=k,
            comment_min_group_size=10,
        )
        ids = {d.code: d.id for d in surveys.departments(db, survey)}
        n = sum(sizes)
        values = rng.integers(1, 6, (n, len(inst.items))).astype(float)
        values[rng.random(values.shape) < skip] = np.nan
        values[np.isnan(values).all(axis=1), 0] = 3
        enps = np.where(rng.random(n) < 0.7, rng.integers(0, 11, n), np.nan)
        unit = np.repeat(np.arange(len(sizes)), sizes)
        with write_transaction(db):
            for row, e, u in zip(values, enps, unit, strict=True):
                answers = {it.id: int(v) for it, v in zip(inst.items, row, strict=True) if not np.isnan(v)}
                store(db, survey, Submission(ids[f"U{u}"], answers, None if np.isnan(e) else int(e), None))
        surveys.close(db, survey)
        return surveys.get_survey(db, slug), values, enps, unit


def collect_tree(app, survey, codes: list[str]) -> tuple[dict, list[set]]:
    """Return every cell any output shows, and the groups of units the raw export merges under one label."""
    shown: dict = {}

    def take(group: str, figures: dict | None) -> None:
        take_cells(shown, group, figures)

    with app.app_context():
        db = get_db()
        org = results.survey_results(db, survey)
        take(ROOT, org)
        for row in org.get("departments", []):
            take(row["code"], row)
        for code in codes:
            own = results.survey_results(db, survey, code)
            take(code, own)
            take(ROOT, own["organisation"])
            if own["parent"]:
                take(own["parent"]["code"], own["parent"])
            for child in own["children"]:
                take(child["code"], child)
        for parent in [None, compare.TOP, *codes]:
            body = compare.comparison(db, survey, "name", parent, page=1, per_page=3)
            for page in range(1, (body.get("paging") or {}).get("pages", 1) + 1):
                body = compare.comparison(db, survey, "name", parent, page=page, per_page=3)
                if body["suppressed"]:
                    break
                take(ROOT, {**body["organisation"], "suppressed": False})
                take(parent, body.get("parent"))
                for row in body["departments"]:
                    take(row["code"], row)
        found = take_rates(shown, rates.response_rates(db, survey))
        merged: list[set] = []
        if found["responses"] is not None:
            with i18n.language(survey.language):
                labels, _ = export.export_labels(
                    surveys.departments(db, survey),
                    {row["department"].code for row in found["departments"] if row["hidden"]},
                )
            _, rows = export.export_rows(db, survey)
            names = [r[0] for r in rows]
            by_id = {d.id: d.code for d in surveys.departments(db, survey)}
            for label in set(labels.values()):
                # Every group the raw export names holds at least k responses.
                assert names.count(label) == 0 or names.count(label) >= survey.min_group_size, label
                merged.append({by_id[i] for i, text in labels.items() if text == label})
    return shown, merged


def atoms_of(parents: list, unit: np.ndarray) -> tuple[dict, list]:
    """Return each node's atoms (units without sub-units, and each inner unit's own respondents) and the atoms."""
    codes = [f"U{i}" for i in range(len(parents))]
    inner = {f"U{p}" for p in parents if p is not None}
    atoms = [code if code not in inner else ("own", code) for code in codes]
    below: dict = {code: set() for code in codes}
    for i, code in enumerate(codes):
        node = code
        atom = atoms[i]
        while node is not None:
            below[node].add(atom)
            p = parents[int(node[1:])]
            node = None if p is None else f"U{p}"
    below[ROOT] = set(atoms)
    for atom in atoms:
        if isinstance(atom, tuple):
            below[atom] = {atom}
    return below, atoms


def tree_truth(app, parents, values, enps, unit) -> dict:
    """Return each (node, column)'s own number of answers, counted plainly (nodes include inner units' own people)."""
    inst = app.extensions["instrument"]
    dims = scoring.dimension_scores(values, inst) if len(values) else np.empty((0, len(inst.levels)))
    below, _ = atoms_of(parents, unit)
    code_of_person = np.array([f"U{u}" for u in unit], dtype=object)
    inner = {f"U{p}" for p in parents if p is not None}
    atom_of_person = np.array([("own", c) if c in inner else c for c in code_of_person] + [None], dtype=object)[:-1]
    out = {}
    for node, members in below.items():
        mask = np.array([a in members for a in atom_of_person], dtype=bool)
        out[(node, privacy.COUNT)] = int(mask.sum())
        out[(node, privacy.PYRAMID)] = int(mask.sum())
        out[(node, privacy.ENPS)] = int((~np.isnan(enps[mask])).sum())
        for j, level in enumerate(inst.levels):
            out[(node, level.id)] = int((~np.isnan(dims[mask, j])).sum())
        for i, item in enumerate(inst.items):
            out[(node, item.id)] = int((~np.isnan(values[mask, i])).sum())
    return out


def pinned_down(below: dict, atoms: list, known: list[set], targets: list, n: dict, column: str) -> list:
    """Return the targets whose answers in `column` follow exactly from the known sums (each a set of atoms).

    The attacker knows the sums the outputs show and which smallest groups have nobody (those are zeros);
    a target is pinned down iff its indicator over the unknown atoms lies in the row space of the known sums.
    """
    unknown = [a for a in atoms if n[(a, column)] > 0]
    if not unknown:
        return []
    index = {a: i for i, a in enumerate(unknown)}
    rows = [[1.0 if a in group else 0.0 for a in unknown] for group in known]
    a = np.array(rows) if rows else np.zeros((0, len(unknown)))
    rank = np.linalg.matrix_rank(a) if len(rows) else 0
    found = []
    for target in targets:
        vector = np.zeros(len(unknown))
        for atom in below[target]:
            if atom in index:
                vector[index[atom]] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, vector])) == rank:
            found.append(target)
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hierarchies())
def test_no_output_reveals_a_hidden_cell_in_a_tree_of_units(module_app, drawn):
    """Parents minus their shown children, at any depth, across every output, never pin down a cell below k."""
    parents, sizes, k, seed, skip = drawn
    survey, values, enps, unit = build_tree(module_app, parents, sizes, k, seed, skip)
    codes = [f"U{i}" for i in range(len(parents))]
    shown, merged = collect_tree(module_app, survey, codes)
    n = tree_truth(module_app, parents, values, enps, unit)
    below, atoms = atoms_of(parents, unit)
    for (cell, column), count in shown.items():
        # Every figure shown rests on at least k answers of its own, and says so truthfully.
        assert n[(cell, column)] >= k, (cell, column, n[(cell, column)])
        assert count is None or count == n[(cell, column)], (cell, column)
    inner_own = [a for a in atoms if isinstance(a, tuple)]
    for column in {c for _, c in n}:
        known = [below[cell] for (cell, col) in shown if col == column]
        if column == privacy.COUNT:
            # The raw export names groups of responses: their sizes are known too.
            own = {a[1]: a for a in inner_own}
            known += [{own.get(code, code) for code in group} for group in merged]
        targets = [
            node for node in [ROOT, *codes, *inner_own] if (node, column) not in shown and 0 < n[(node, column)] < k
        ]
        leaks = pinned_down(below, atoms, known, targets, n, column)
        assert leaks == [], (column, leaks, parents, sizes, k)
