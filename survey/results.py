"""Results of a survey: read answers compactly from SQLite, score them, filter them for privacy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from . import privacy, rates, scoring
from .cache import Cache
from .surveys import Department, Survey, departments

BITS = 3  # an answer 1..5 fits in 3 bits; 0 means "no answer"
PER_WORD = 21  # 21 x 3 = 63 bits: a packed word stays a positive SQLite integer


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
    values[values == 0] = np.nan
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
    return (path, survey.id, survey.status, survey.min_group_size, count, last, invited)


def survey_results(db: Database, survey: Survey, department: str | None = None) -> dict:
    """Return the survey's results as they may be shown (the API's results shape), cached until a new answer."""
    key = (stamp(db, survey), department.lower() if department else None)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    table = survey_results(db, survey) if department else None
    result = compute_results(load_answers(db, survey), survey, departments(db, survey), department, table)
    add_response_rates(result, rates.response_rates(db, survey))
    CACHE.put(key, result)
    return result


def add_response_rates(result: dict, found: dict) -> None:
    """Add the response rates (one definition, in rates.py: invitations, else headcount) to results."""
    if "department" in result:
        row = next((r for r in found["departments"] if r["department"].code == result["department"]), None)
        if row and row["rate"] is not None and not result.get("suppressed"):
            result["response_rate"] = row["rate"]
        return
    if found["rate"] is not None and not result.get("suppressed"):
        result["response_rate"] = found["rate"]
    by_code = {r["department"].code: r for r in found["departments"]}
    for dept in result.get("departments", []):
        row = by_code.get(dept["code"])
        if row and row["rate"] is not None and "n" in dept:
            dept["response_rate"] = row["rate"]


def _protect_lone_cells(org, cells, hidden_cell, inst, per_dept, rows_hidden, data, groups, k) -> None:
    """Hide organisation figures that equal one hidden group's figure plus the shown groups'.

    Complementary suppression hides a second cell next to a lone hidden one, but when no
    shown cell is left to hide (every other group is hidden or has no answers there), the
    organisation's own figure is the only partner left: it is hidden instead.
    """
    for dim in org["dimensions"]:
        level = dim["id"]
        column = {g: n for (g, lid), n in cells.items() if lid == level}
        if privacy.lone_hidden(column, hidden_cell, level) is not None and not dim.get("suppressed"):
            dim.clear()
            dim.update({"id": level, "suppressed": True})
    if any(d.get("suppressed") for d in org["dimensions"]):
        org.pop("index", None)
    if "enps" in org:
        # eNPS answers per group: shown departments show theirs only from k answers on.
        enps_n = {g: int(np.count_nonzero(~np.isnan(data.enps[groups == g]))) for g in (*per_dept, *rows_hidden)}
        hidden_enps = {g for g in enps_n if g in rows_hidden or per_dept[g].get("enps_n", 0) < k}
        if sum(1 for g in hidden_enps if enps_n[g] > 0) == 1:
            org.pop("enps", None)
            org.pop("enps_n", None)


class UnknownDepartment(LookupError):
    """No department with that code in the survey."""


def compute_results(
    data: AnswerData,
    survey: Survey,
    depts: list[Department],
    department: str | None = None,
    table: dict | None = None,
) -> dict:
    """Score the organisation and every department, compare them, and remove what may not be shown.

    With `department`, return that department's own figures; `table` (the survey's results
    without a department, when already at hand) saves computing the side-by-side table again.
    """
    inst = survey.instrument
    k = privacy.effective_k(survey.min_group_size)
    index_of = {d.id: n for n, d in enumerate(depts)}
    groups = np.array([index_of[d] for d in data.department], dtype=np.int64)
    counts = np.bincount(groups, minlength=len(depts)) if len(groups) else np.zeros(len(depts), dtype=np.int64)
    hidden = privacy.hidden_groups({n: int(c) for n, c in enumerate(counts)}, k)

    if department is not None:
        match = next((n for n, d in enumerate(depts) if d.code.lower() == department.lower()), None)
        if match is None:
            raise UnknownDepartment(department)
        group = privacy.shown_group(
            scoring.group_results(data.values[groups == match], data.enps[groups == match], inst),
            k,
            survey.is_open,
            hidden.get(match),
        )
        if not group["suppressed"]:
            # A department shown on its own must hide what the side-by-side table hides for it
            # (cells hidden to protect another department), or the two outputs together leak it.
            row = next(
                r
                for r in (table or compute_results(data, survey, depts))["departments"]
                if r["code"] == depts[match].code
            )
            privacy.hide_like_row(group, row)
        return {"department": depts[match].code, "name": depts[match].name, **group}

    org = privacy.shown_group(scoring.group_results(data.values, data.enps, inst), k, survey.is_open, None)
    shown = {n for n in range(len(depts)) if n not in hidden and counts[n] > 0}
    comparisons = {row["group"]: row for row in scoring.compare_departments(data.values, groups, inst, shown)}
    per_dept = {n: scoring.group_results(data.values[groups == n], data.enps[groups == n], inst) for n in shown}
    cells = {(n, dim["id"]): dim["n"] for n in shown for dim in per_dept[n]["dimensions"]}
    rows_hidden = {n: reason for n, reason in hidden.items()}
    # A hidden department protects a cell only where it has answers itself: its own n per
    # level, not its size, decides whether a lone hidden cell could be worked out.
    for n in rows_hidden:
        level_n = (~np.isnan(scoring.dimension_scores(data.values[groups == n], inst))).sum(axis=0)
        cells.update({(n, lv.id): int(level_n[j]) for j, lv in enumerate(inst.levels)})
    hidden_cell = privacy.hidden_cells(cells, k, rows_hidden)
    if not org["suppressed"]:
        _protect_lone_cells(org, cells, hidden_cell, inst, per_dept, rows_hidden, data, groups, k)

    dept_rows = []
    for n, d in enumerate(depts):
        headcount = d.headcount
        if n in hidden or counts[n] == 0:
            row = {"code": d.code, "name": d.name, "suppressed": True, "reason": hidden.get(n, "no_responses")}
            if not survey.is_open or counts[n] == 0:
                row["n"] = int(counts[n])
        else:
            res = per_dept[n]
            comp = {c["id"]: c for c in comparisons[n]["dimensions"]}
            dims = []
            for dim in res["dimensions"]:
                if (n, dim["id"]) in hidden_cell:
                    dims.append({"id": dim["id"], "suppressed": True})
                    continue
                c = comp[dim["id"]]
                extra = {key: c[key] for key in ("diff", "p", "p_adj", "d") if key in c}
                dims.append({**privacy.public_dimension(dim), **extra, "significant": c["significant"]})
            row = {"code": d.code, "name": d.name, "n": res["n"], "suppressed": False}
            if all(not x.get("suppressed") for x in dims) and "index" in res:
                row["index"] = res["index"]
            if "enps" in res and res["enps_n"] >= k:
                row["enps"] = res["enps"]
            row["dimensions"] = dims
            row["pyramid"] = res["pyramid"]
        if headcount:
            row["headcount"] = headcount
        dept_rows.append(row)

    result = {**org, "departments": dept_rows}
    return result
