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
    """Return the survey's results as they may be shown (the API's results shape), cached until anything changes."""
    require_released(survey)
    mark_read(db, survey)
    key = (stamp(db, survey), department.lower() if department else None)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    result = compute_results(
        load_answers(db, survey), survey, departments(db, survey), department, rates.forced_rows(db, survey)
    )
    result["collection"] = survey.collection
    if not result.get("suppressed"):
        result["focus_level"] = focus_level(result["dimensions"], survey.instrument)
    add_response_rates(result, rates.response_rates(db, survey))
    CACHE.put(key, result)
    return result


def add_response_rates(result: dict, found: dict) -> None:
    """Add the response rates (one definition, in rates.py) to results, where the group is shown."""
    by_code = {r["department"].code: r for r in found["departments"]}
    if "department" in result:
        row = by_code.get(result["department"])
        if row and row["rate"] is not None and not result.get("suppressed"):
            result["response_rate"] = row["rate"]
        return
    if found["rate"] is not None and not result.get("suppressed"):
        result["response_rate"] = found["rate"]
    for dept in result.get("departments", []):
        row = by_code.get(dept["code"])
        if row and row["rate"] is not None and not dept.get("suppressed"):
            dept["response_rate"] = row["rate"]


@dataclass(frozen=True)
class Groups:
    """The survey's groups as a tree of department codes, and which respondents belong to each node."""

    tree: privacy.Tree
    members: dict  # node -> boolean mask over respondents (subtree)
    answered_for: dict  # unit code -> respondents who answered for exactly that unit


def group_tree(data: AnswerData, depts: list[Department]) -> Groups:
    """Build the tree of groups and each node's respondents (a unit's figures include its sub-units)."""
    parents = {d.code: d.parent for d in depts}
    tree = privacy.Tree.from_parents(parents)
    code_of = {d.id: d.code for d in depts}
    codes = np.array([code_of[int(d)] for d in data.department], dtype=object)
    own = {d.code: codes == d.code for d in depts}
    members: dict = {}
    for node in tree.nodes_bottom_up():
        kids = tree.children.get(node, ())
        if privacy.is_direct(node):
            members[node] = own[node[1]]
        elif node == privacy.ROOT:
            members[node] = np.ones(len(codes), dtype=bool)
        elif kids:
            mask = np.zeros(len(codes), dtype=bool)
            for kid in kids:
                mask |= members[kid]
            members[node] = mask
        else:
            members[node] = own[node]
    answered_for = {d.code: int(own[d.code].sum()) for d in depts}
    return Groups(tree, members, answered_for)


def disclosure(data: AnswerData, inst: Instrument, groups: Groups, k: int, forced: dict | None = None):
    """Decide what may be shown of every group: counts, levels, items, pyramid and eNPS per node."""
    if len(data.values):
        dims = scoring.dimension_scores(data.values, inst)
        answered = ~np.isnan(scoring.scored(data.values, inst))
    else:
        dims = np.empty((0, len(inst.levels)))
        answered = np.zeros((0, len(inst.items)), dtype=bool)
    enps_answered = ~np.isnan(data.enps)
    nodes = list(groups.members)
    counts = {node: int(groups.members[node].sum()) for node in nodes}
    columns: dict = {}
    for j, level in enumerate(inst.levels):
        has = ~np.isnan(dims[:, j])
        columns[level.id] = {node: int((has & groups.members[node]).sum()) for node in nodes}
    for i, item in enumerate(inst.items):
        columns[item.id] = {node: int((answered[:, i] & groups.members[node]).sum()) for node in nodes}
    columns[privacy.PYRAMID] = counts
    columns[privacy.ENPS] = {node: int((enps_answered & groups.members[node]).sum()) for node in nodes}
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
    out["items"] = [
        {"id": item["id"], "level": item["level"], "suppressed": True, "reason": rules.cell_hidden(node, item["id"])}
        if rules.cell_hidden(node, item["id"])
        else {key: item[key] for key in ("id", "level", "n", "mean", "favourable", "counts") if key in item}
        for item in result["items"]
    ]
    return out


DIMENSION_KEYS = ("id", "n", "mean", "score", "ci_low", "ci_high", "favourable", "alpha", "alpha_n", "alpha_flag")


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
    """Score the organisation and every department, compare them, and remove what may not be shown.

    One disclosure decision covers every group and column, so the departments table and a
    department's own results (`department`) always hide the same cells.
    """
    inst = survey.instrument
    k = privacy.effective_k(survey.min_group_size)
    groups = group_tree(data, depts)
    rules = disclosure(data, inst, groups, k, forced)
    by_code = {d.code.lower(): d for d in depts}

    def figures(node) -> dict:
        mask = groups.members[node]
        return shown_figures(scoring.group_results(data.values[mask], data.enps[mask], inst), node, rules)

    if department is not None:
        dept = by_code.get(department.lower())
        if dept is None:
            raise UnknownDepartment(survey, department)
        return {"department": dept.code, "name": dept.name, **figures(dept.code)}

    org = figures(privacy.ROOT)
    if org["suppressed"]:
        return {**org, "departments": [_hidden_row(d, rules) for d in depts]}
    index_of = {d.code: n for n, d in enumerate(depts)}
    shown = [d for d in depts if not rules.row_hidden(d.code)]
    code_of_id = {d.id: n for n, d in enumerate(depts)}
    group_ids = np.array([code_of_id[int(x)] for x in data.department], dtype=np.int64)
    comparisons = {
        depts[row["group"]].code: row
        for row in scoring.compare_departments(data.values, group_ids, inst, {index_of[d.code] for d in shown})
    }
    rows = []
    for d in depts:
        if rules.row_hidden(d.code):
            rows.append(_hidden_row(d, rules))
            continue
        row = {"code": d.code, "name": d.name, **figures(d.code)}
        comp = {c["id"]: c for c in comparisons[d.code]["dimensions"]}
        for dim in row["dimensions"]:
            # "The rest of the organisation" is the organisation minus the department: where the
            # organisation's own figure is hidden, a difference from the rest would give it away.
            if dim.get("suppressed") or rules.cell_hidden(privacy.ROOT, dim["id"]):
                continue
            c = comp[dim["id"]]
            dim.update({key: c[key] for key in ("diff", "p", "p_adj", "d") if key in c})
            dim["significant"] = c["significant"]
        if d.headcount:
            row["headcount"] = d.headcount
        if d.parent:
            row["parent"] = d.parent
        rows.append(row)
    return {**org, "departments": rows}


def _hidden_row(d: Department, rules: privacy.Disclosure) -> dict:
    row = {"code": d.code, "name": d.name, "suppressed": True, "reason": rules.row_hidden(d.code) or "too_few"}
    if d.headcount:
        row["headcount"] = d.headcount
    if d.parent:
        row["parent"] = d.parent
    return row
