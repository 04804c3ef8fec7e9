"""Action plans: what a survey's organisation and departments agreed to do, with a history of progress notes."""

from __future__ import annotations

import csv
import datetime as dt
import io

from pydantic import ValidationError
from sqlite_utils import Database

from . import results
from .db import today, write_transaction
from .export import neutralise
from .schemas import ACTION_STATUSES, ActionIn, ActionPatch, field_errors
from .surveys import Survey, departments

STATUSES = ACTION_STATUSES
OPEN_STATUSES = ("planned", "in_progress")  # an action still to be done: reminders, the printable plan
ORGANISATION = "organisation"  # the department filter for actions of the whole organisation
REMIND_DAYS = 7  # owners are reminded of actions due within this many days, and of overdue ones
MAX_ID = 2**63 - 1  # SQLite's largest integer: an address with a larger id names no action


class ActionError(ValueError):
    """Invalid action values; `fields` maps each field to what to fix."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def validation_context(db: Database, survey: Survey) -> dict:
    """Return what an action is checked against: the survey's department codes."""
    return {"departments": {d.code.lower() for d in departments(db, survey)}}


def parse_new(db: Database, survey: Survey, data: dict) -> ActionIn:
    """Check a new action's values (as the API's model does); raise ActionError naming each bad field."""
    try:
        return ActionIn.model_validate(data, context=validation_context(db, survey))
    except ValidationError as exc:
        raise ActionError(field_errors(exc, ActionIn)) from exc


def parse_patch(db: Database, survey: Survey, data: dict) -> ActionPatch:
    """Check changes to an action; raise ActionError naming each bad field."""
    try:
        return ActionPatch.model_validate(data, context=validation_context(db, survey))
    except ValidationError as exc:
        raise ActionError(field_errors(exc, ActionPatch)) from exc


_SELECT = """SELECT a.id, a.level, a.theme, a.title, d.code AS department, d.name AS department_name,
       a.owner, a.owner_email, a.due, a.status, a.created_on, a.updated_on
FROM actions a LEFT JOIN departments d ON d.id = a.department_id
WHERE a.survey_id = :survey"""


def list_actions(db: Database, survey: Survey, status: str | None = None, department: str | None = None) -> list[dict]:
    """Return the survey's actions (organisation first, then by department, due date and id), optionally filtered.

    `department` is a department code, or ORGANISATION for the actions of the whole organisation.
    """
    sql, params = _SELECT, {"survey": survey.id}
    if status:
        sql += " AND a.status = :status"
        params["status"] = status
    if department and department.lower() == ORGANISATION:
        sql += " AND a.department_id IS NULL"
    elif department:
        sql += " AND lower(d.code) = :code"
        params["code"] = department.lower()
    sql += " ORDER BY a.department_id IS NOT NULL, d.position, d.id, a.due IS NULL, a.due, a.id"
    return list(db.query(sql, params))


def get_action(db: Database, survey: Survey, action_id: int) -> dict | None:
    """Return one action of the survey, or None (also for an action of another survey)."""
    if not 0 < action_id <= MAX_ID:
        return None
    rows = list(db.query(_SELECT + " AND a.id = :id", {"survey": survey.id, "id": action_id}))
    return rows[0] if rows else None


def notes(db: Database, action_id: int) -> list[dict]:
    """Return an action's history, oldest first: progress notes and status changes."""
    return list(
        db.query(
            "SELECT id, written_on, author, status, text FROM action_notes WHERE action_id = ? ORDER BY id",
            [action_id],
        )
    )


def notes_by_action(db: Database, survey: Survey) -> dict[int, list[dict]]:
    """Return the history of every action of a survey, by action id."""
    out: dict[int, list[dict]] = {}
    for row in db.query(
        """SELECT n.action_id, n.id, n.written_on, n.author, n.status, n.text FROM action_notes n
           JOIN actions a ON a.id = n.action_id WHERE a.survey_id = ? ORDER BY n.id""",
        [survey.id],
    ):
        out.setdefault(row.pop("action_id"), []).append(row)
    return out


def _department_id(db: Database, survey: Survey, code: str | None) -> int | None:
    if code is None:
        return None
    found = next((d for d in departments(db, survey) if d.code.lower() == code.lower()), None)
    if found is None:  # the model checked the code; a department removed since is still refused
        raise ActionError({"department": "Unknown department code; see GET /surveys/<slug> for the codes."})
    return found.id


def create_action(db: Database, survey: Survey, body: ActionIn, author: str | None) -> dict:
    """Store a new action (and its first note, if any) and return it."""
    dept_id = _department_id(db, survey, body.department)
    with write_transaction(db):
        action_id = db.execute(
            """INSERT INTO actions (survey_id, department_id, level, theme, title, owner, owner_email, due, status,
                                    created_on, updated_on)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                survey.id,
                dept_id,
                body.level,
                body.theme,
                body.title.strip(),
                _stripped(body.owner),
                body.owner_email,
                body.due,
                body.status,
                today(),
                today(),
            ],
        ).lastrowid
        if body.note:
            _add_note(db, action_id, author, None, body.note)
    return get_action(db, survey, action_id)


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


FIELDS = ("level", "theme", "title", "owner", "owner_email", "due", "status")


def update_action(db: Database, survey: Survey, action_id: int, patch: ActionPatch, author: str | None) -> dict | None:
    """Change the fields sent in `patch`; a status change and a note go into the history. None: no such action."""
    current = get_action(db, survey, action_id)
    if current is None:
        return None
    sent = patch.model_fields_set
    changes = {name: _stripped(getattr(patch, name)) for name in FIELDS if name in sent}
    if "department" in sent:
        changes["department_id"] = _department_id(db, survey, patch.department)
    new_status = changes.get("status")
    status_changed = new_status is not None and new_status != current["status"]
    with write_transaction(db):
        if changes:
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            db.execute(
                f"UPDATE actions SET {assignments}, updated_on = :today WHERE id = :id",  # noqa: S608 (names from FIELDS)
                {**changes, "today": today(), "id": action_id},
            )
        if status_changed or "note" in sent:
            _add_note(db, action_id, author, new_status if status_changed else None, patch.note)
        elif not changes:
            return current
    return get_action(db, survey, action_id)


def _add_note(db: Database, action_id: int, author: str | None, status: str | None, text: str | None) -> None:
    db.execute(
        "INSERT INTO action_notes (action_id, written_on, author, status, text) VALUES (?, ?, ?, ?, ?)",
        [action_id, today(), author, status, text.strip() if text else None],
    )
    db.execute("UPDATE actions SET updated_on = ? WHERE id = ?", [today(), action_id])


def delete_action(db: Database, survey: Survey, action_id: int) -> bool:
    """Delete an action and its history; return False when the survey has no such action."""
    if not 0 < action_id <= MAX_ID:
        return False
    with write_transaction(db):
        return db.execute("DELETE FROM actions WHERE id = ? AND survey_id = ?", [action_id, survey.id]).rowcount == 1


def as_json(action: dict, history: list[dict] | None = None) -> dict:
    """Return an action as the API shows it: optional fields only when set."""
    out = {key: action[key] for key in ("id", "level", "theme", "title", "status")}
    for key in ("department", "owner", "owner_email", "due"):
        if action.get(key) is not None:
            out[key] = action[key]
    out["created_on"], out["updated_on"] = action["created_on"], action["updated_on"]
    if history is not None:
        out["notes"] = [{k: v for k, v in note.items() if v is not None and k != "id"} for note in history]
    return out


def is_overdue(action: dict, on: str | None = None) -> bool:
    """Return True when an open action's due date has passed."""
    return bool(action["due"]) and action["status"] in OPEN_STATUSES and action["due"] < (on or today())


def counts(db: Database, survey: Survey) -> dict[str, int]:
    """Return how many actions the survey has in each status."""
    found = dict(db.execute("SELECT status, COUNT(*) FROM actions WHERE survey_id = ? GROUP BY status", [survey.id]))
    return {status: found.get(status, 0) for status in STATUSES}


def level_cells(db: Database, survey: Survey) -> dict[tuple[str, str], dict] | None:
    """Return the shown score of every (department code or "" for the organisation, level), or None while not released.

    A hidden group or cell maps to {"hidden": reason}: an action on a hidden department shows no
    figure of it. The figures are the survey's released results, filtered by privacy.py.
    """
    if not survey.is_closed:
        return None
    res = results.survey_results(db, survey)
    cells: dict[tuple[str, str], dict] = {}

    def put(code: str, group: dict) -> None:
        if group.get("suppressed"):
            for level in survey.instrument.levels:
                cells[(code, level.id)] = {"hidden": group.get("reason") or "too_few"}
            return
        for dim in group.get("dimensions", []):
            if dim.get("suppressed") or "score" not in dim:
                cells[(code, dim["id"])] = {"hidden": dim.get("reason") or "too_few"}
            else:
                cells[(code, dim["id"])] = {key: dim[key] for key in ("score", "significant", "diff") if key in dim}

    put("", res)
    for dept in res.get("departments", []):
        put(dept["code"], dept)
    return cells


# --- The plan as a file ------------------------------------------------------------------------------

HEADER = ["id", "level", "theme", "title", "department", "owner", "owner_email", "due", "status", "updated_on", "notes"]


def plan_rows(db: Database, survey: Survey) -> list[list]:
    """Return the plan as rows under HEADER (notes joined oldest first), texts neutralised for spreadsheets."""
    history = notes_by_action(db, survey)
    rows = []
    for action in list_actions(db, survey):
        lines = [
            " ".join(
                part for part in (n["written_on"], f"[{n['status']}]" if n["status"] else "", n["text"] or "") if part
            )
            for n in history.get(action["id"], [])
        ]
        rows.append(
            [
                action["id"],
                action["level"],
                action["theme"],
                action["title"],
                action["department"] or "",
                action["owner"] or "",
                action["owner_email"] or "",
                action["due"] or "",
                action["status"],
                action["updated_on"],
                "\n".join(lines),
            ]
        )
    return [[neutralise(value) for value in row] for row in rows]


def plan_csv(db: Database, survey: Survey) -> bytes:
    """Return the plan as CSV (UTF-8 with a byte-order mark, so spreadsheets read æøå)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(plan_rows(db, survey))
    return out.getvalue().encode("utf-8")


def plan_xlsx(db: Database, survey: Survey) -> bytes:
    """Return the plan as an Excel workbook (values only)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("actions")
    sheet.append(HEADER)
    for row in plan_rows(db, survey):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def due_soon(db: Database, on: str | None = None, days: int = REMIND_DAYS) -> list[dict]:
    """Return open actions with an owner's e-mail that are due within `days` days of `on` (today), or overdue."""
    day = dt.date.fromisoformat(on or today())
    until = (day + dt.timedelta(days=days)).isoformat()
    return list(
        db.query(
            """SELECT a.id, a.title, a.level, a.theme, a.due, a.status, a.owner, a.owner_email, s.slug,
                      s.title AS survey_title, s.language, d.name AS department_name
               FROM actions a JOIN surveys s ON s.id = a.survey_id
               LEFT JOIN departments d ON d.id = a.department_id
               WHERE a.owner_email IS NOT NULL AND a.due IS NOT NULL AND a.due <= ?
                 AND a.status IN ('planned', 'in_progress')
               ORDER BY a.due, a.id""",
            [until],
        )
    )
