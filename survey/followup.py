"""Follow-up between rounds: what became of the previous round's actions, and the follow-up statement.

"Since last time" lists each action of the previous round with its status and the change of its
level since then, for the organisation and for the action's department. The changes are the
cells of compare.trend(): a cell hidden in either round stays hidden, and nothing is shown
before both rounds are closed (results are released only then).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from . import actions, compare, privacy, rates
from .surveys import Survey, departments, get_survey_by_id

# The optional follow-up statement: asked like a statement of the questionnaire (1..5), reported
# on its own, never part of a level or of the index. A survey keeps its own copy of the texts.
STATEMENT = {
    "nb": "Jeg har sett endringer siden forrige undersøkelse.",
    "nn": "Eg har sett endringar sidan førre undersøking.",
    "en": "I have seen changes since the last survey.",
}
COLUMN = "followup"  # the statement's column in the confidentiality decision
DONE_LINES = 3  # "you said, we did": at most this many titles, then "and N more"


def statement(db: Database, survey: Survey) -> dict[str, str] | None:
    """Return the survey's follow-up statement per language, or None when it asks none."""
    row = db.execute("SELECT statement FROM survey_followup WHERE survey_id = ?", [survey.id]).fetchone()
    return json.loads(row[0]) if row else None


def add_statement(db: Database, survey_id: int) -> None:
    """Give a survey the follow-up statement (inside the caller's transaction)."""
    db.execute(
        "INSERT OR REPLACE INTO survey_followup (survey_id, statement) VALUES (?, ?)",
        [survey_id, json.dumps(STATEMENT, ensure_ascii=False)],
    )


def previous_round(db: Database, survey: Survey) -> Survey | None:
    """Return the round this survey follows, if any."""
    return get_survey_by_id(db, survey.previous_id) if survey.previous_id else None


def done_titles(db: Database, survey: Survey, limit: int = DONE_LINES) -> tuple[list[str], int]:
    """Return the titles of the previous round's actions marked done (newest first, at most `limit`) and how many more.

    For "you said, we did" on the respondent's start page and in the next round's invitations.
    """
    if not survey.previous_id:
        return [], 0
    rows = db.execute(
        "SELECT title FROM actions WHERE survey_id = ? AND status = 'done' ORDER BY updated_on DESC, id DESC",
        [survey.previous_id],
    ).fetchall()
    titles = [row[0] for row in rows]
    return titles[:limit], max(0, len(titles) - limit)


def _change(cell: dict | None) -> dict:
    """Return a trend cell as the follow-up shows it: the change in points and its significance, or hidden."""
    if cell is None:
        return {"not_compared": True}
    if cell.get("suppressed"):
        return {"suppressed": True}
    out = {"significant": bool(cell.get("significant"))}
    for key in ("points", "p_adj", "mean_now", "mean_previous", "n_now", "n_previous"):
        if key in cell:
            out[key] = cell[key]
    return out


def since_last_time(db: Database, survey: Survey) -> dict:
    """Return the previous round's actions with their status and, once both rounds are closed, the change since.

    Shape: {previous: {slug, title} | None, released, actions: [{id, level, theme, title, status,
    department?, owner?, due?, organisation?: change, department_change?: change}], statement?}.
    A change is {points, significant, p_adj, ...}, {suppressed: true} (hidden in either round)
    or {not_compared: true} (the level or the department is not in both rounds).
    """
    prev = previous_round(db, survey)
    out: dict = {"slug": survey.slug, "previous": None, "released": False, "actions": []}
    if prev is not None:
        out.update(_previous_actions(db, survey, prev))
    texts = statement(db, survey)
    if texts is not None:
        out["statement"] = {"text": texts.get(survey.language) or texts["en"]}
        if survey.is_closed:
            out["statement"].update(statement_results(db, survey))
    return out


def _previous_actions(db: Database, survey: Survey, prev: Survey) -> dict:
    """Return the previous round and its actions, with the changes once both rounds are closed."""
    out: dict = {"actions": []}
    out["previous"] = {"slug": prev.slug, "title": prev.title, "status": prev.status}
    released = survey.is_closed and prev.is_closed
    out["released"] = released
    org_cells: dict = {}
    dept_cells: dict = {}
    shared: set = set()
    if released:
        trend = compare.trend(db, survey)
        if trend.get("previous") and trend["previous"]["slug"] == prev.slug:
            org_cells = {cell["id"]: cell for cell in trend.get("organisation", [])}
            dept_cells = {d["code"].lower(): {c["id"]: c for c in d["levels"]} for d in trend.get("departments", [])}
            shared = set(trend.get("shared_levels", []))
            # The organisation hidden in either round: its cells stay hidden, not "not compared".
            if not trend.get("organisation"):
                org_cells = {level: {"id": level, "suppressed": True} for level in shared}
    now_codes = {d.code.lower() for d in departments(db, survey)}
    for action in actions.list_actions(db, prev):
        item = actions.as_json(action)
        item.pop("owner_email", None)  # the follow-up is shown to a room and in reports
        if released:
            item["organisation"] = _change(org_cells.get(action["level"]))
            if action["department"]:
                code = action["department"].lower()
                if code not in now_codes or action["level"] not in shared:
                    item["department_change"] = {"not_compared": True}
                else:
                    # A department missing from the trend table is hidden in one of the rounds.
                    cells = dept_cells.get(code)
                    item["department_change"] = _change(cells.get(action["level"]) if cells else {"suppressed": True})
        out["actions"].append(item)
    return out


def statement_results(db: Database, survey: Survey) -> dict:
    """Return the follow-up statement's figures for the organisation and each department, within the rules.

    The statement is a column of its own in privacy.decide, next to the response counts: a
    group hidden there is hidden here, and a cell with fewer than k answers (or one that would
    let a smaller one be worked out) shows no figures.
    """
    depts = departments(db, survey)
    tree = privacy.Tree.from_parents({d.code: d.parent for d in depts})
    code_of = {d.id: d.code for d in depts}
    responses = {code: 0 for code in code_of.values()}
    for dept_id, n in db.execute(
        "SELECT department_id, COUNT(*) FROM responses WHERE survey_id = ? GROUP BY department_id", [survey.id]
    ):
        responses[code_of[dept_id]] = n
    by_value = {value: {code: 0 for code in code_of.values()} for value in range(1, 6)}
    for dept_id, value, n in db.execute(
        """SELECT r.department_id, f.value, COUNT(*) FROM followup_answers f JOIN responses r ON r.id = f.response_id
           WHERE r.survey_id = ? GROUP BY r.department_id, f.value""",
        [survey.id],
    ):
        by_value[value][code_of[dept_id]] = n
    totals = {value: tree.subtree_sums(counts) for value, counts in by_value.items()}
    answered = {node: sum(totals[value][node] for value in totals) for node in totals[1]}
    rules = privacy.decide(
        tree,
        survey.min_group_size,
        tree.subtree_sums(responses),
        {COLUMN: answered},
        None,
        rates.forced_rows(db, survey),
    )

    def cell(node) -> dict:
        why = rules.cell_hidden(node, COLUMN)
        if why:
            return {"suppressed": True, "reason": why}
        n = answered[node]
        counts = [totals[value][node] for value in range(1, 6)]
        return {
            "n": n,
            "mean": sum(value * c for value, c in zip(range(1, 6), counts, strict=True)) / n,
            "favourable": (counts[3] + counts[4]) / n,
            "counts": counts,
        }

    return {
        "organisation": cell(privacy.ROOT),
        "departments": [{"code": d.code, "name": d.name, **cell(d.code)} for d in depts],
    }
