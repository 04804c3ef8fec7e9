"""Results of a survey: read answers compactly from SQLite, score every group, show only what privacy allows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from flask_babel import gettext as _
from sqlite_utils import Database

from . import privacy, rates, scoring
from .cache import Cache
from .db import NOT_APPLICABLE, write_transaction
from .errors import AppError
from .questionnaire import Instrument
from .surveys import Department, Survey, departments

BITS = 3  # an answer 1..5, or 6 for "not applicable", fits in 3 bits; 0 means "no answer"
PER_WORD = 21  # 21 x 3 = 63 bits: a packed word stays a positive SQLite integer


class ResultsNotReleased(AppError):
    """Figures derived from answers are released only when the survey is closed."""

    def __init__(self, survey: Survey):
        super().__init__(
            _(
                "The results of '%(slug)s' are released when the survey is closed: while answers still "
                "come in, two readings could be subtracted to reveal one person's answers. Only response counts "
                "are shown until then.",
                slug=survey.slug,
            ),
            409,
        )


class UnknownDepartment(AppError):
    """No department with that code in the survey."""

    def __init__(self, survey: Survey, code: str):
        super().__init__(_("Survey '%(slug)s' has no department '%(code)s'.", slug=survey.slug, code=code), 404)
        self.code = code


@dataclass(frozen=True)
class AnswerData:
    """Every response of a survey as arrays: answers (n x items, nan = missing), eNPS, department id."""

    values: np.ndarray
    enps: np.ndarray
    department: np.ndarray


def _packed_query(n_items: int) -> str:
    # SQLite packs each response's answers into a few integers (3 bits an answer) so that
    # one row per response, not one row per answer, crosses into Python. Only integer
    # constants are formatted into the SQL; the survey id is a bound parameter.
    words = []
    for w in range(0, n_items, PER_WORD):
        words.append(
            f"(SELECT COALESCE(SUM(a.value << ((a.item - {w}) * {BITS})), 0) FROM answers a "  # noqa: S608
            f"WHERE a.response_id = r.id AND a.item BETWEEN {w} AND {w + PER_WORD - 1})"
        )
    return (
        f"SELECT r.department_id, COALESCE(r.enps, -1), {', '.join(words)} "  # noqa: S608
        "FROM responses r WHERE r.survey_id = ? ORDER BY r.id"
    )


def load_answers(db: Database, survey: Survey) -> AnswerData:
    """Read every response of a survey into arrays, aggregated per response inside SQLite."""
    n_items = len(survey.instrument.items)
    rows = db.execute(_packed_query(n_items), [survey.id]).fetchall()
    if not rows:
        empty = np.empty(0)
        return AnswerData(np.empty((0, n_items)), empty, np.empty(0, dtype=np.int64))
    arr = np.array(rows, dtype=np.int64)
    values = np.empty((len(rows), n_items))
    for pos in range(n_items):
        word, slot = divmod(pos, PER_WORD)
        values[:, pos] = (arr[:, 2 + word] >> (BITS * slot)) & 0b111
    # A blank and "not applicable" are both missing for every figure (never zero, never counted).
    values[(values == 0) | (values == NOT_APPLICABLE)] = np.nan
    enps = arr[:, 1].astype(float)
    enps[enps < 0] = np.nan
    return AnswerData(values, enps, arr[:, 0])


CACHE = Cache(64)


def stamp(db: Database, survey: Survey) -> tuple:
    """Return what identifies the current state of a survey's answers, invitations and settings."""
    count, last, invited = db.execute(
        """SELECT COUNT(*), MAX(id), (SELECT COUNT(*) FROM invitations WHERE survey_id = :s)
           FROM responses WHERE survey_id = :s""",
        {"s": survey.id},
    ).fetchone()
    # Response ids are random, so MAX(id) changes with (almost) every new response as well.
    # The file's path keeps apart surveys of different databases served by one process.
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return (path, survey.id, survey.status, survey.min_group_size, survey.collection, count, last, invited)


def require_released(survey: Survey) -> None:
    """Refuse to compute anything from answers while the survey is not closed."""
    if not survey.is_closed:
        raise ResultsNotReleased(survey)


def mark_read(db: Database, survey: Survey) -> None:
    """Record that results of this closed survey were read: from now on it can no longer be reopened."""
    if survey.results_read_on is None:
        with write_transaction(db):
            db.execute(
                "UPDATE surveys SET results_read_on = ? WHERE id = ? AND results_read_on IS NULL",
                [dt.datetime.now(dt.UTC).date().isoformat(), survey.id],
            )


def survey_results(db: Database, survey: Survey, department: str | None = None) -> dict:
    """Return the survey's results as they may be shown (the API's results shape), cached until anything changes.

    With `department`, one unit's results: its figures, its parent's and the organisation's,
    its children side by side and how it differs from the rest of its parent and of the
    organisation (see unit_view). Every output reads the same decision of what may be shown.
    """
    require_released(survey)
    mark_read(db, survey)
    key = (stamp(db, survey), department.lower() if department else None)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    state = survey_state(db, survey)
    result = table_results(state) if department is None else unit_view(state, department)
    result["collection"] = survey.collection
    if not result.get("suppressed"):
        result["focus_level"] = focus_level(result["dimensions"], survey.instrument)
    add_response_rates(result, rates.response_rates(db, survey))
    CACHE.put(key, result)
    return result


def survey_state(db: Database, survey: Survey) -> State:
    """Return the scored and decided survey (see analyse), computed once until anything changes."""
    key = ("state", stamp(db, survey))
    state = CACHE.get(key)
    if state is None:
        state = analyse(load_answers(db, survey), survey, departments(db, survey), rates.forced_rows(db, survey))
        CACHE.put(key, state)
    return state


def add_response_rates(result: dict, found: dict) -> None:
    """Add the response rates (one definition, in rates.py) to results, where the group is shown."""
    by_code = {r["department"].code: r for r in found["departments"]}

    def add(row: dict, rate_row: dict | None) -> None:
        if rate_row and rate_row["rate"] is not None and not row.get("suppressed"):
            row["response_rate"] = rate_row["rate"]

    if "department" in result:
        add(result, by_code.get(result["department"]))
        if result.get("parent"):
            add(result["parent"], by_code.get(result["parent"]["code"]))
        for child in result.get("children", []):
            add(child, by_code.get(child["code"]))
        return
    if found["rate"] is not None and not result.get("suppressed"):
        result["response_rate"] = found["rate"]
    for dept in result.get("departments", []):
        add(dept, by_code.get(dept["code"]))


@dataclass(frozen=True)
class Groups:
    """The survey's groups as a tree of unit codes, and the smallest group (atom) of each respondent.

    `nodes` lists every node children first (the tree's order, the organisation last); a unit
    with sub-units keeps the people who answered for the unit itself in a pseudo-child of its own.
    """

    tree: privacy.Tree
    nodes: tuple
    row: dict  # node -> its position in nodes
    atom_rows: np.ndarray  # per respondent: the row of their smallest group


def group_tree(data: AnswerData, depts: list[Department]) -> Groups:
    """Build the tree of groups and each respondent's smallest group (a unit's figures include its sub-units)."""
    tree = privacy.Tree.from_parents({d.code: d.parent for d in depts})
    nodes = tree.order
    row = {node: i for i, node in enumerate(nodes)}
    atom_row = {d.id: row[privacy.direct_node(d.code) if tree.children.get(d.code) else d.code] for d in depts}
    lookup = np.zeros(max(atom_row, default=0) + 1, dtype=np.int64)
    for dept_id, r in atom_row.items():
        lookup[dept_id] = r
    ids = data.department.astype(np.int64)
    atom_rows = lookup[ids] if len(ids) else np.zeros(0, dtype=np.int64)
    return Groups(tree, nodes, row, atom_rows)


def node_sums(groups: Groups, data: AnswerData, inst: Instrument) -> np.ndarray:
    """Return every node's additive sums (see scoring.atom_sums): its atoms' sums added up the tree."""
    sums = scoring.atom_sums(data.values, data.enps, inst, groups.atom_rows, len(groups.nodes))
    children = groups.tree.children
    for node in groups.nodes:  # children before parents, so each child's total is complete
        kids = children.get(node, ())
        if kids:
            sums[groups.row[node]] = sums[[groups.row[kid] for kid in kids]].sum(axis=0)
    return sums


@dataclass(frozen=True)
class State:
    """A survey scored and decided once: every node's figures and what may be shown of them."""

    survey: Survey
    depts: tuple
    groups: Groups
    figures: scoring.Figures  # one row per node, in groups.nodes order
    rules: privacy.Disclosure

    def result(self, node, items: bool = True) -> dict:
        """Return a node's full figures (before the rules)."""
        return self.figures.result(self.groups.row[node], items)

    def shown(self, node, items: bool = True) -> dict:
        """Return a node's figures as they may be shown (item figures only when asked for)."""
        if self.rules.row_hidden(node) is not None:
            return {"suppressed": True, "reason": self.rules.row_hidden(node)}
        return shown_figures(self.result(node, items), node, self.rules)


def analyse(data: AnswerData, survey: Survey, depts: list[Department], forced: dict | None = None) -> State:
    """Score every group of the survey at once and decide what may be shown of each figure."""
    inst = survey.instrument
    groups = group_tree(data, depts)
    figures = scoring.Figures(node_sums(groups, data, inst), inst)
    rules = disclosure(figures, inst, groups, privacy.effective_k(survey.min_group_size), forced)
    return State(survey, tuple(depts), groups, figures, rules)


def disclosure(figures: scoring.Figures, inst: Instrument, groups: Groups, k: int, forced: dict | None = None):
    """Decide what may be shown of every group: counts, levels, items, pyramid and eNPS per node."""
    nodes = groups.nodes

    def column(values: np.ndarray) -> dict:
        return dict(zip(nodes, values.tolist(), strict=True))

    counts = column(figures.n)
    columns: dict = {}
    for j, level in enumerate(inst.levels):
        columns[level.id] = column(figures.dim_n[:, j])
    for i, item in enumerate(inst.items):
        columns[item.id] = column(figures.item_n[:, i])
    columns[privacy.PYRAMID] = counts
    columns[privacy.ENPS] = column(figures.enps_n)
    item_levels = {item.id: item.level for item in inst.items}
    return privacy.decide(groups.tree, k, counts, columns, item_levels, forced)


def shown_figures(result: dict, node, rules: privacy.Disclosure) -> dict:
    """Return one group's figures as they may be shown: hidden cells carry only `suppressed` and a reason."""
    reason = rules.row_hidden(node)
    if reason is not None:
        return {"suppressed": True, "reason": reason}
    dims = []
    for dim in result["dimensions"]:
        why = rules.cell_hidden(node, dim["id"])
        dims.append({"id": dim["id"], "suppressed": True, "reason": why} if why else public_dimension(dim))
    out: dict = {"n": result["n"], "suppressed": False}
    if "index" in result and all(not d.get("suppressed") for d in dims):
        out["index"] = result["index"]
    if "enps" in result and not rules.cell_hidden(node, privacy.ENPS):
        out["enps"] = result["enps"]
        out["enps_n"] = result["enps_n"]
    out["dimensions"] = dims
    why = rules.cell_hidden(node, privacy.PYRAMID)
    out["pyramid"] = [dict(p) for p in result["pyramid"]] if not why else None
    if why:
        out["pyramid_hidden"] = why
    if "items" in result:
        out["items"] = [
            {
                "id": item["id"],
                "level": item["level"],
                "suppressed": True,
                "reason": rules.cell_hidden(node, item["id"]),
            }
            if rules.cell_hidden(node, item["id"])
            else {key: item[key] for key in ("id", "level", "n", "mean", "favourable", "counts") if key in item}
            for item in result["items"]
        ]
    return out


DIMENSION_KEYS = ("id", "n", "mean", "score", "ci_low", "ci_high", "favourable", "alpha", "alpha_n", "alpha_flag")
COMPARISON_KEYS = ("diff", "p", "p_adj", "d")
ROW_KEYS = ("n", "index", "enps", "enps_n", "dimensions", "pyramid", "pyramid_hidden")


def public_dimension(dim: dict) -> dict:
    """Return the publishable figures of one dimension (a copy, never the scoring dict itself), with its alpha_note."""
    out = {key: dim[key] for key in DIMENSION_KEYS if key in dim}
    out["alpha_note"] = alpha_note(dim)
    return out


ALPHA_NOTES = ("too_few", "undefined", "below_zero", "below_warning", "ok")


def alpha_note(dim: dict) -> str:
    """Say how to read a level's Cronbach's alpha (SCORING, "Reliability of a figure").

    too_few: fewer than ALPHA_MIN_RESPONDENTS answered every statement ("too few to estimate");
    undefined: enough did, but their totals do not vary; below_zero: negative (shown as "below 0"
    and flagged, never as a band); below_warning: under ALPHA_WARNING; ok: otherwise.
    """
    alpha = dim.get("alpha")
    if alpha is None:
        return "too_few" if dim.get("alpha_n", 0) < scoring.ALPHA_MIN_RESPONDENTS else "undefined"
    if alpha < 0:
        return "below_zero"
    return "below_warning" if alpha < scoring.ALPHA_WARNING else "ok"


def focus_level(dims: list[dict], instrument: Instrument) -> str | None:
    """Return the focus level: the lowest shown level whose score is in the low or medium band (below 70).

    Every output (the results page, the API, the report's summary and action pages) names this one.
    None when every shown level scores high.
    """
    score = {d["id"]: d.get("score") for d in dims if not d.get("suppressed")}
    for lv in instrument.levels:
        s = score.get(lv.id)
        if s is not None and scoring.band(s) != "high":
            return lv.id
    return None


def compute_results(
    data: AnswerData,
    survey: Survey,
    depts: list[Department],
    department: str | None = None,
    forced: dict | None = None,
) -> dict:
    """Score the organisation and every unit, compare them, and remove what may not be shown.

    One disclosure decision covers every group and column, so the departments table and a
    unit's own results (`department`, see unit_view) always hide the same cells.
    """
    state = analyse(data, survey, depts, forced)
    return table_results(state) if department is None else unit_view(state, department)


def _rest(state: State, node, whole=privacy.ROOT) -> np.ndarray:
    """Return the sums of everyone in `whole` outside node's sub-tree."""
    sums = state.figures.sums
    return sums[state.groups.row[whole]] - sums[state.groups.row[node]]


def table_results(state: State) -> dict:
    """Return the organisation's results with every unit side by side (each with its parent's code)."""
    rules, depts = state.rules, state.depts
    org = state.shown(privacy.ROOT)
    if org["suppressed"]:
        return {**org, "departments": [_hidden_row(d, rules) for d in depts]}
    rows = [
        {"code": d.code, "name": d.name, **_row_figures(state, d.code), **_unit_facts(d)}
        if not rules.row_hidden(d.code)
        else _hidden_row(d, rules)
        for d in depts
    ]
    # Each shown unit against everyone outside its sub-tree ("the rest of the organisation"),
    # one Benjamini-Hochberg family for the table. The rest is the organisation minus the unit:
    # where the organisation's own figure is hidden, a difference from the rest would give it away.
    shown = [row for row in rows if not row["suppressed"]]
    _add_differences(state, [(row, privacy.ROOT) for row in shown])
    return {**org, "departments": rows}


def _row_figures(state: State, code: str) -> dict:
    """Return a unit's figures for a table row (no item figures: those are on the unit's own results)."""
    figures = state.shown(code, items=False)
    return {key: figures[key] for key in ("suppressed", "reason", *ROW_KEYS) if key in figures}


def _unit_facts(d: Department) -> dict:
    facts = {}
    if d.headcount:
        facts["headcount"] = d.headcount
    if d.parent:
        facts["parent"] = d.parent
    return facts


def _add_differences(state: State, pairs: list[tuple[dict, str]]) -> None:
    """Add to each row how its unit differs from the rest of `whole` (diff, p, p_adj, d, significant).

    Only cells shown for the unit and for `whole` get a difference, and only their p-values
    form the Benjamini-Hochberg family.
    """
    if not pairs:
        return
    inst, rules = state.survey.instrument, state.rules
    own = scoring.Figures(state.figures.sums[[state.groups.row[row["code"]] for row, _ in pairs]], inst)
    rest = scoring.Figures(np.stack([_rest(state, row["code"], whole) for row, whole in pairs]), inst)
    p, d = scoring.welch(own, rest)
    cells = []
    for g, (row, whole) in enumerate(pairs):
        compared = {c["id"]: c for c in scoring.comparison_rows(own, rest, g, p, d)}
        for dim in row["dimensions"]:
            if dim.get("suppressed") or rules.cell_hidden(whole, dim["id"]):
                continue
            c = compared[dim["id"]]
            dim.update({key: c[key] for key in ("diff", "p", "d") if key in c})
            cells.append(dim)
    tested = [dim for dim in cells if "p" in dim]
    for dim, p_adj in zip(tested, scoring.benjamini_hochberg([dim["p"] for dim in tested]).tolist(), strict=True):
        dim["p_adj"] = float(p_adj)
    for dim in cells:
        dim["significant"] = bool(dim.get("p_adj", 1.0) < scoring.SIGNIFICANCE)


def unit_view(state: State, department: str) -> dict:
    """Return one unit's results for its manager, as they may be shown.

    - the unit's own figures (items included);
    - `parent` (null at the top) and `organisation`: their figures as in the departments table;
    - `children`: the units directly below it, side by side as in the departments table;
    - `versus`: per level, the unit against the rest of its parent and of the organisation
      (difference of means, Welch's p, Benjamini-Hochberg within this view, Cohen's d), only
      where the unit's cell and the other group's cell are both shown.
    """
    by_code = {d.code.lower(): d for d in state.depts}
    dept = by_code.get(department.lower())
    if dept is None:
        raise UnknownDepartment(state.survey, department)
    rules = state.rules
    out = {"department": dept.code, "name": dept.name, **state.shown(dept.code)}
    out["parent"] = None
    if dept.parent:
        parent = by_code[dept.parent.lower()]
        out["parent"] = {"code": parent.code, "name": parent.name, **_row_figures(state, parent.code)}
    org = _row_figures(state, privacy.ROOT)
    out["organisation"] = org
    children = [d for d in state.depts if d.parent == dept.code]
    out["children"] = [
        {"code": d.code, "name": d.name, **_row_figures(state, d.code), **_unit_facts(d)}
        if not rules.row_hidden(d.code)
        else _hidden_row(d, rules)
        for d in children
    ]
    if not out["suppressed"] and not org["suppressed"]:
        out["versus"] = _versus(state, dept)
    return out


def _versus(state: State, dept: Department) -> dict:
    """Return the unit against the rest of its parent and of the organisation, per level (shown cells only)."""
    wholes = {"organisation": privacy.ROOT}
    if dept.parent and not state.rules.row_hidden(dept.parent):
        wholes = {"parent": dept.parent, **wholes}
    rows = {
        name: {"code": dept.code, "dimensions": [{"id": lv.id} for lv in state.survey.instrument.levels]}
        for name in wholes
    }
    for row in rows.values():
        for dim in row["dimensions"]:
            if state.rules.cell_hidden(dept.code, dim["id"]):
                dim["suppressed"] = True
    _add_differences(state, [(row, wholes[name]) for name, row in rows.items()])
    out = {}
    for name, row in rows.items():
        out[name] = [
            {
                "id": dim["id"],
                **({"suppressed": True} if "significant" not in dim else {}),
                **{key: dim[key] for key in (*COMPARISON_KEYS, "significant") if key in dim},
            }
            for dim in row["dimensions"]
        ]
    return out


def _hidden_row(d: Department, rules: privacy.Disclosure) -> dict:
    row = {"code": d.code, "name": d.name, "suppressed": True, "reason": rules.row_hidden(d.code) or "too_few"}
    row.update(_unit_facts(d))
    return row
