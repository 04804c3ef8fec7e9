"""Surveys and their departments: create, read, open and close."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlite_utils import Database

from . import audit
from .db import today, write_transaction
from .errors import AppError
from .questionnaire import Instrument, instrument_from_json
from .schemas import SurveyIn, field_errors


class SurveyError(ValueError):
    """Invalid survey settings; `fields` maps a field name to what to fix; `slug_taken` when the address is in use."""

    def __init__(self, fields: dict[str, str], slug_taken: bool = False, conflict: bool = False):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields
        self.slug_taken = slug_taken
        self.conflict = conflict  # valid settings that the survey's state refuses (e.g. it has answers)


@dataclass(frozen=True)
class Department:
    """A department (unit) of one survey; `code` is what links and the API use, `parent` the code above it."""

    id: int
    code: str
    name: str
    headcount: int | None
    parent: str | None = None


@dataclass(frozen=True)
class Survey:
    """A survey with its frozen instrument and settings."""

    id: int
    slug: str
    title: str
    language: str
    status: str
    min_group_size: int
    comment_min_group_size: int
    created_on: str
    closed_on: str | None
    instrument_json: str = field(repr=False)
    previous_id: int | None = None
    small_groups: str = "merge"
    collection: str = "open"
    kind: str = "full"
    opens_at: str | None = None
    closes_at: str | None = None
    results_read_on: str | None = None
    archived_on: str | None = None

    @property
    def is_open(self) -> bool:
        """Return True while the survey accepts answers."""
        return self.status == "open"

    @property
    def is_draft(self) -> bool:
        """Return True while the survey is being prepared (not answerable yet)."""
        return self.status == "draft"

    @property
    def is_archived(self) -> bool:
        """Return True when HR moved the survey out of the main list."""
        return self.archived_on is not None

    @property
    def starts_on(self) -> str:
        """Return the first day of the survey's period: the day it opened (or opens), else the day it was created."""
        return self.opens_at or self.created_on

    @property
    def ends_on(self) -> str | None:
        """Return the last day of the survey's period: the day it closed, or the last day it is set to take answers."""
        return self.closed_on or self.closes_at

    @property
    def is_closed(self) -> bool:
        """Return True once the survey stopped accepting answers (its results may then be read)."""
        return self.status == "closed"

    @property
    def invitation_only(self) -> bool:
        """Return True when only personal invitations may answer (no open link, no department links)."""
        return self.collection == "invitations"

    @property
    def instrument(self) -> Instrument:
        """Return the instrument this survey was created with."""
        return _instrument_cache(self.instrument_json)

    @property
    def item_positions(self) -> dict[str, int]:
        """Map item id to its position in the instrument, the key answers are stored under."""
        return {item.id: n for n, item in enumerate(self.instrument.items)}


@functools.lru_cache(maxsize=64)
def _instrument_cache(text: str) -> Instrument:
    # Parsing the frozen JSON on every request would be wasted work; it never changes.
    return instrument_from_json(text)


def slugify(title: str) -> str:
    """Turn a title into a URL slug (ascii, lowercase, dashes)."""
    text = title.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:48] or "survey"


def validate_settings(
    title: str,
    slug: str | None,
    language: str,
    departments: list[dict],
    min_group_size: int,
    comment_min_group_size: int,
    **more: object,
) -> dict[str, str]:
    """Return field errors for new survey settings (empty when all is well), by the API's own model (SurveyIn).

    `more` takes the model's other settings (small_groups, collection, ...) by name.
    """
    settings = {
        "title": title,
        "slug": slug,
        "language": language,
        "departments": departments,
        "min_group_size": min_group_size,
        "comment_min_group_size": comment_min_group_size,
        **more,
    }
    try:
        SurveyIn.model_validate({name: value for name, value in settings.items() if value is not None})
    except ValidationError as exc:
        return field_errors(exc, SurveyIn)
    return {}


def create_survey(
    db: Database,
    instrument: Instrument,
    title: str,
    language: str,
    departments: list[dict],
    slug: str | None = None,
    min_group_size: int = 5,
    comment_min_group_size: int = 10,
    collection: str = "open",
    previous: str | None = None,
    small_groups: str = "merge",
    draft: bool = False,
    opens_at: str | None = None,
    closes_at: str | None = None,
    followup_statement: bool = False,
) -> Survey:
    """Create a survey with its departments and a frozen copy of the instrument.

    `previous` is the slug of the earlier round of the same series, which the comparison
    pages measure change against; `small_groups` says whether the raw export merges
    departments below the threshold into one "other" group or leaves them out. The survey's
    kind is the instrument's ('short': one statement per level, for a live poll);
    `followup_statement` adds the statement "I have seen changes since the last survey",
    reported on its own (survey/followup.py). A `draft` (or a survey with `opens_at` after
    today) takes no answers until it opens; `closes_at` is the last day it takes answers
    (see apply_schedule).
    """
    errors = validate_settings(
        title,
        slug,
        language,
        departments,
        min_group_size,
        comment_min_group_size,
        small_groups=small_groups,
        collection=collection,
    )
    errors.update(schedule_errors(None, opens_at, closes_at))
    taken = bool(slug and db["surveys"].count_where("slug = ?", [slug]))
    if taken:
        errors["slug"] = _("The address '%(slug)s' is taken; choose another.", slug=slug)
    previous_survey = None
    if previous:
        previous_survey = get_survey(db, previous)
        if previous_survey is None:
            errors["previous"] = _("There is no survey '%(slug)s' to follow.", slug=previous)
    if errors:
        raise SurveyError(errors, slug_taken=taken)
    if not slug:
        slug = unique_slug(db, slugify(title))
    today_here = local_today()
    opens_now = not draft and (opens_at is None or opens_at <= today_here)
    with write_transaction(db):
        survey_id = (
            db["surveys"]
            .insert(
                {
                    "slug": slug,
                    "title": title.strip(),
                    "language": language,
                    "status": "open" if opens_now else "draft",
                    # For an open survey: the day it opened; for a draft: the day it is to open (or none).
                    "opens_at": today_here if opens_now else opens_at,
                    "closes_at": closes_at,
                    "min_group_size": min_group_size,
                    "comment_min_group_size": comment_min_group_size,
                    "collection": collection,
                    "kind": instrument.kind,
                    "instrument": instrument.to_json(),
                    "created_on": today(),
                    "previous_id": previous_survey.id if previous_survey else None,
                    "small_groups": small_groups,
                }
            )
            .last_pk
        )
        db["departments"].insert_all(
            {
                "survey_id": survey_id,
                "code": d["code"],
                "name": d["name"].strip(),
                "headcount": d.get("headcount"),
                "position": n,
            }
            for n, d in enumerate(departments)
        )
        _store_parents(db, survey_id, departments)
        db["survey_items"].insert_all(
            {"survey_id": survey_id, "item_id": it.id, "level": it.level, "position": n, "reverse": int(it.reverse)}
            for n, it in enumerate(instrument.items)
        )
        if followup_statement:
            from .followup import add_statement

            add_statement(db, survey_id)
        audit.record(db, "survey-created", slug, f"collection={collection}")
    return get_survey(db, slug)


def _store_parents(db: Database, survey_id: int, departments: list[dict]) -> None:
    """Link each unit to its parent (codes match case-insensitively, as SurveyIn checked them)."""
    ids = {
        code.lower(): dept_id
        for dept_id, code in db.execute("SELECT id, code FROM departments WHERE survey_id = ?", [survey_id])
    }
    links = [(ids[d["parent"].lower()], ids[d["code"].lower()]) for d in departments if d.get("parent")]
    if links:
        db.conn.executemany("UPDATE departments SET parent_id = ? WHERE id = ?", links)


def unique_slug(db: Database, base: str) -> str:
    """Return base, or base plus a short random suffix when base is taken."""
    slug = base
    while db["surveys"].count_where("slug = ?", [slug]):
        slug = f"{base[:40]}-{secrets.token_hex(3)}"
    return slug


def _survey(row: dict) -> Survey:
    return Survey(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        language=row["language"],
        status=row["status"],
        min_group_size=row["min_group_size"],
        comment_min_group_size=row["comment_min_group_size"],
        created_on=row["created_on"],
        closed_on=row["closed_on"],
        instrument_json=row["instrument"],
        previous_id=row["previous_id"],
        small_groups=row["small_groups"],
        collection=row["collection"],
        kind=row["kind"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        results_read_on=row["results_read_on"],
        archived_on=row["archived_on"],
    )


def get_survey(db: Database, slug: str) -> Survey | None:
    """Return the survey with this slug, or None; a schedule that has come due is applied first."""
    rows = list(db.query("SELECT * FROM surveys WHERE slug = ?", [slug]))
    return apply_schedule(db, _survey(rows[0])) if rows else None


def language_of(db: Database, slug: str) -> str | None:
    """Return the language of the survey with this slug (a cheap read for choosing a page's language), or None."""
    row = db.execute("SELECT language FROM surveys WHERE slug = ?", [slug]).fetchone()
    return row[0] if row else None


def get_survey_by_id(db: Database, survey_id: int) -> Survey | None:
    """Return the survey with this id, or None; a schedule that has come due is applied first."""
    rows = list(db.query("SELECT * FROM surveys WHERE id = ?", [survey_id]))
    return apply_schedule(db, _survey(rows[0])) if rows else None


def previous_slug(db: Database, survey: Survey) -> str | None:
    """Return the slug of the survey's previous round, if it has one."""
    previous = get_survey_by_id(db, survey.previous_id) if survey.previous_id else None
    return previous.slug if previous else None


LIST_QUERY = """SELECT s.id, s.slug, s.title, s.language, s.status, s.created_on, s.closed_on, s.opens_at,
                         s.closes_at, s.archived_on, MAX(3, s.min_group_size) AS k,
                         (SELECT COUNT(*) FROM responses r WHERE r.survey_id = s.id) AS responses
                  FROM surveys s ORDER BY s.id DESC"""


def list_surveys(db: Database) -> list[dict]:
    """Return every survey, newest first, with its period and its number of responses as it may be shown.

    Each row has `starts_on` and `ends_on`, the same period every page shows (see Survey.starts_on).
    A count is a figure too: below the survey's threshold it is None ("fewer than k"), so that
    nobody can watch the list while a colleague answers (a live poll in the room, say).
    Schedules that have come due are applied first.
    """
    rows = list(db.query(LIST_QUERY))
    today_here = local_today()
    due = [row["id"] for row in rows if schedule_due(row, today_here)]
    for survey_id in due:
        get_survey_by_id(db, survey_id)
    if due:
        rows = list(db.query(LIST_QUERY))
    for row in rows:
        row["starts_on"] = row["opens_at"] or row["created_on"]
        row["ends_on"] = row["closed_on"] or row["closes_at"]
        if row["responses"] < row["k"]:
            row["responses"] = None
    return rows


def departments(db: Database, survey: Survey) -> list[Department]:
    """Return the survey's departments (units) in the order they were given, each with its parent's code."""
    return [
        Department(r["id"], r["code"], r["name"], r["headcount"], r["parent"])
        for r in db.query(
            """SELECT d.id, d.code, d.name, d.headcount, p.code AS parent FROM departments d
               LEFT JOIN departments p ON p.id = d.parent_id
               WHERE d.survey_id = ? ORDER BY d.position, d.id""",
            [survey.id],
        )
    ]


def subtree_codes(depts: list[Department], code: str) -> list[str]:
    """Return the codes of a unit and every unit below it, the unit first, then in the survey's order."""
    below: dict[str, list[str]] = {}
    for d in depts:
        if d.parent:
            below.setdefault(d.parent, []).append(d.code)
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(below.get(current, ()))
    order = {d.code: n for n, d in enumerate(depts)}
    return [code, *sorted(found[1:], key=order.__getitem__)]


def tree_order(depts: list[Department]) -> list[Department]:
    """Return the units depth first: each unit followed by the units below it, siblings in the survey's order."""
    known = {d.code for d in depts}
    below: dict[str | None, list[Department]] = {}
    for d in depts:
        below.setdefault(d.parent if d.parent in known else None, []).append(d)
    out: list[Department] = []
    stack = list(reversed(below.get(None, [])))
    while stack:
        d = stack.pop()
        out.append(d)
        stack.extend(reversed(below.get(d.code, [])))
    return out


def unit_paths(depts: list[Department]) -> dict[str, list[str]]:
    """Return each unit's path of codes from its top-level unit down to itself."""
    parent = {d.code: d.parent for d in depts}
    paths: dict[str, list[str]] = {}
    for d in depts:
        path, code = [], d.code
        while code is not None and code not in path:  # stored trees have no cycles; never loop anyway
            path.append(code)
            code = parent.get(code)
        paths[d.code] = path[::-1]
    return paths


def department_by_code(db: Database, survey: Survey, code: str) -> Department | None:
    """Return the department with this code (case-insensitive), or None."""
    return next((d for d in departments(db, survey) if d.code.lower() == str(code).lower()), None)


class ReopenRefused(AppError):
    """A closed survey whose results were read cannot take answers again."""

    def __init__(self, survey: Survey):
        super().__init__(
            _(
                "'%(slug)s' cannot be reopened: its results have been read. New answers after that could be "
                "told apart by comparing two readings. Create the next round instead (copy this survey).",
                slug=survey.slug,
            ),
            409,
        )


def close(db: Database, survey: Survey, actor: str | None = None, detail: str | None = None) -> None:
    """Close a survey: no more answers; its results are released; its pages are rebuilt.

    `actor` and `detail` go to the audit trail (default: whoever is acting; SCHEDULE when its day passed).
    """
    with write_transaction(db):
        changed = db.execute(
            "UPDATE surveys SET status = 'closed', closed_on = ? WHERE id = ? AND status != 'closed'",
            [today(), survey.id],
        ).rowcount
        if changed:
            audit.record(db, "survey-closed", survey.slug, detail, actor=actor)
    rebuild(db)
    if has_app_context():
        # A retention of 0 days erases the invitation e-mails at once.
        from .retention import purge

        purge(db)


def reopen(db: Database, survey: Survey) -> None:
    """Take answers again, unless results of the closed survey have been read (then raise ReopenRefused)."""
    with write_transaction(db):
        # One statement checks and changes, so a reading of results cannot slip in between.
        before = db.execute("SELECT status FROM surveys WHERE id = ?", [survey.id]).fetchone()
        changed = db.execute(
            "UPDATE surveys SET status = 'open', closed_on = NULL WHERE id = ? AND results_read_on IS NULL",
            [survey.id],
        ).rowcount
        if changed and before and before[0] != "open":
            audit.record(db, "survey-opened" if before[0] == "draft" else "survey-reopened", survey.slug)
    if not changed:
        raise ReopenRefused(survey)


def set_status(db: Database, survey: Survey, status: str) -> None:
    """Open (reopen) or close a survey."""
    if status == "closed":
        close(db, survey)
    elif status == "open":
        reopen_survey(db, survey)
    else:
        raise ValueError(f"unknown status {status!r}")


# --- The survey's life: draft, scheduled opening and closing, archive, next round ------------------

DEFAULT_TIMEZONE = "Europe/Oslo"
SCHEDULE = "automatic (the survey's dates)"  # who opens and closes a survey on its days, in the audit trail


def local_today() -> str:
    """Return today's date (YYYY-MM-DD) where the organisation is (FLASK_TIMEZONE): schedules count in its days."""
    return today_in(current_app.config.get("TIMEZONE") if has_app_context() else None)


def today_in(timezone: str | None) -> str:
    """Return today's date (YYYY-MM-DD) in the named time zone (the default one when None)."""
    return dt.datetime.now(ZoneInfo(timezone or DEFAULT_TIMEZONE)).date().isoformat()


def schedule_due(row: Survey | dict, today_here: str) -> bool:
    """Return True when a draft's opening day has come, or an open survey's last day for answers has passed."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    status, opens_at, closes_at = get("status"), get("opens_at"), get("closes_at")
    if status == "draft":
        return bool(opens_at) and opens_at <= today_here
    return status == "open" and bool(closes_at) and closes_at < today_here


def apply_schedule(db: Database, survey: Survey) -> Survey:
    """Open a draft whose day has come and close a survey whose last day has passed; return the survey as it is now.

    Nothing runs in the background: this is applied whenever a survey is read, in a write
    transaction of its own, and closing goes through close() (so the file is rebuilt as always).
    Inside a caller's transaction nothing is written (the next reading applies it).
    """
    today_here = local_today()
    if not schedule_due(survey, today_here) or db.conn.in_transaction:
        return survey
    if survey.is_draft and survey.opens_at and survey.opens_at <= today_here:
        with write_transaction(db):
            opened = db.execute(
                "UPDATE surveys SET status = 'open' WHERE id = ? AND status = 'draft'", [survey.id]
            ).rowcount
            if opened:
                audit.record(db, "survey-opened", survey.slug, f"opening day {survey.opens_at}", actor=SCHEDULE)
    row = db.execute("SELECT status, closes_at FROM surveys WHERE id = ?", [survey.id]).fetchone()
    if row and row[0] == "open" and row[1] and row[1] < today_here:
        close(db, survey, actor=SCHEDULE, detail=f"after the last day for answers, {row[1]}")
    rows = list(db.query("SELECT * FROM surveys WHERE id = ?", [survey.id]))
    return _survey(rows[0]) if rows else survey


def _valid_day(value: str | None) -> bool:
    try:
        dt.date.fromisoformat(value or "")
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""))


def schedule_errors(survey: Survey | None, opens_at: str | None, closes_at: str | None) -> dict[str, str]:
    """Return what is wrong with an opening day and a last day for answers (empty when both are fine)."""
    errors: dict[str, str] = {}
    today_here = local_today()
    if opens_at is not None and not _valid_day(opens_at):
        errors["opens_at"] = _("Give the opening day as a date (YYYY-MM-DD).")
    elif opens_at is not None and survey is not None and not survey.is_draft:
        errors["opens_at"] = _("The survey has opened already; its opening day cannot change.")
    if closes_at is not None and not _valid_day(closes_at):
        errors["closes_at"] = _("Give the last day for answers as a date (YYYY-MM-DD).")
    elif closes_at is not None and closes_at < today_here:
        errors["closes_at"] = _("The last day for answers cannot be in the past.")
    elif closes_at is not None and opens_at is not None and "opens_at" not in errors and closes_at < opens_at:
        errors["closes_at"] = _("The last day for answers must be on or after the opening day.")
    if survey is not None and survey.is_closed:
        errors["status"] = _("The survey is closed; reopen it before changing its dates.")
    return errors


class LifeCycleError(AppError):
    """A change the survey's state does not allow (409), with what to do instead."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message, 409, fields)


def set_schedule(db: Database, survey: Survey, opens_at: str | None, closes_at: str | None) -> Survey:
    """Set a draft's opening day (None: open it by hand) and the last day for answers (None: close it by hand).

    An open survey keeps its opening day (pass its own or None). A day that has come is applied at once.
    """
    if survey.is_open and opens_at == survey.opens_at:
        opens_at = None
    errors = schedule_errors(survey, opens_at, closes_at)
    if errors:
        raise LifeCycleError(next(iter(errors.values())), errors)
    with write_transaction(db):
        if survey.is_draft:
            db.execute(
                "UPDATE surveys SET opens_at = ?, closes_at = ? WHERE id = ? AND status = 'draft'",
                [opens_at, closes_at, survey.id],
            )
        else:
            db.execute("UPDATE surveys SET closes_at = ? WHERE id = ? AND status = 'open'", [closes_at, survey.id])
        detail = f"opens {opens_at or 'by hand'}, last day {closes_at or 'none'}" if survey.is_draft else None
        audit.record(db, "survey-scheduled", survey.slug, detail or f"last day {closes_at or 'none'}")
    return get_survey_by_id(db, survey.id)


def open_now(db: Database, survey: Survey) -> Survey:
    """Open a draft for answers today (a closed survey is reopened with reopen())."""
    if not survey.is_draft:
        raise LifeCycleError(_("'%(slug)s' is not a draft: only a draft can be opened.", slug=survey.slug))
    with write_transaction(db):
        # A last day for answers that has passed already would close it again at once: it is dropped.
        db.execute(
            "UPDATE surveys SET status = 'open', opens_at = :today, "
            "closes_at = CASE WHEN closes_at < :today THEN NULL ELSE closes_at END WHERE id = :id AND status = 'draft'",
            {"today": local_today(), "id": survey.id},
        )
        audit.record(db, "survey-opened", survey.slug)
    return get_survey_by_id(db, survey.id)


def reopen_survey(db: Database, survey: Survey) -> Survey:
    """Reopen a closed survey (see reopen); a last day for answers that has passed is dropped (it would close again)."""
    reopen(db, survey)
    with write_transaction(db):
        db.execute(
            "UPDATE surveys SET closes_at = NULL WHERE id = ? AND closes_at IS NOT NULL AND closes_at < ?",
            [survey.id, local_today()],
        )
    return get_survey_by_id(db, survey.id)


def archive(db: Database, survey: Survey) -> Survey:
    """Move a closed survey or a draft out of the main list (its results and files stay as they are)."""
    survey = get_survey_by_id(db, survey.id) or survey  # as it is now, not as the caller read it
    if survey.is_open:
        raise LifeCycleError(_("Close '%(slug)s' before archiving it: it is still taking answers.", slug=survey.slug))
    with write_transaction(db):
        changed = db.execute(
            "UPDATE surveys SET archived_on = ? WHERE id = ? AND archived_on IS NULL AND status != 'open'",
            [today(), survey.id],
        ).rowcount
        if changed:
            audit.record(db, "survey-archived", survey.slug)
    return get_survey_by_id(db, survey.id)


def unarchive(db: Database, survey: Survey) -> Survey:
    """Bring an archived survey back into the main list."""
    with write_transaction(db):
        sql = "UPDATE surveys SET archived_on = NULL WHERE id = ? AND archived_on IS NOT NULL"
        if db.execute(sql, [survey.id]).rowcount:
            audit.record(db, "survey-unarchived", survey.slug)
    return get_survey_by_id(db, survey.id)


def response_count(db: Database, survey: Survey) -> int:
    """Return how many responses the survey has (for decisions, never for display: counts below k stay hidden)."""
    return db.execute("SELECT COUNT(*) FROM responses WHERE survey_id = ?", [survey.id]).fetchone()[0]


def _has_parents(db: Database) -> bool:
    # Units within units (departments.parent_id) come with their own migration.
    return "parent_id" in {row[1] for row in db.execute("PRAGMA table_info(departments)")}


def update_departments(db: Database, survey: Survey, new: list[dict]) -> None:
    """Replace the survey's departments and headcounts, matched by code; only until the first answer arrives.

    Raise SurveyError naming what is wrong: a list the API would refuse, an answer already
    given (answers would then move between groups, and a group's count could be worked out),
    or a removed department that has personal invitations.
    """
    errors = validate_settings(
        survey.title, survey.slug, survey.language, new, survey.min_group_size, survey.comment_min_group_size
    )
    if errors:
        raise SurveyError({"departments": errors.get("departments") or next(iter(errors.values()))})
    with write_transaction(db):
        # Checked inside the transaction, so an answer cannot arrive between the check and the change.
        if response_count(db, survey):
            raise SurveyError(
                {
                    "departments": _(
                        "The departments can no longer be changed: the survey has answers. Changing them now "
                        "would move answers between groups. Copy the survey as the next round instead."
                    )
                },
                conflict=True,
            )
        old = {
            row["code"].lower(): row for row in db.query("SELECT * FROM departments WHERE survey_id = ?", [survey.id])
        }
        wanted = {d["code"].lower() for d in new}
        for code, row in old.items():
            if code in wanted:
                continue
            invited = db.execute("SELECT COUNT(*) FROM invitations WHERE department_id = ?", [row["id"]]).fetchone()[0]
            if invited:
                raise SurveyError(
                    {
                        "departments": _(
                            "The department '%(code)s' has %(n)s personal invitations and cannot be removed.",
                            code=row["code"],
                            n=invited,
                        )
                    },
                    conflict=True,
                )
            db.execute("DELETE FROM departments WHERE id = ?", [row["id"]])
        # Names are unique within a survey: move the kept ones aside first, so that two can swap names.
        aside = secrets.token_hex(8)
        for row in old.values():
            if row["code"].lower() in wanted:
                db.execute("UPDATE departments SET name = ? WHERE id = ?", [f"({row['id']}) {aside}", row["id"]])
        ids = {}
        for n, d in enumerate(new):
            values = {"code": d["code"], "name": d["name"].strip(), "headcount": d.get("headcount"), "position": n}
            row = old.get(d["code"].lower())
            if row is not None:
                db["departments"].update(row["id"], values)
                ids[d["code"].lower()] = row["id"]
            else:
                ids[d["code"].lower()] = db["departments"].insert({"survey_id": survey.id, **values}).last_pk
        if _has_parents(db):
            for d in new:
                parent = ids.get((d.get("parent") or "").lower())
                db.execute("UPDATE departments SET parent_id = ? WHERE id = ?", [parent, ids[d["code"].lower()]])
        audit.record(db, "departments-changed", survey.slug, f"{len(new)} departments")


def copy_as_next_round(db: Database, survey: Survey, title: str, slug: str | None = None) -> Survey:
    """Create the next round of a survey as a draft: the same questionnaire, settings and departments.

    The copy follows this survey (its comparison shows the change) and uses the questionnaire this
    survey was created with (full or short), so that the two rounds compare statement for statement.
    """
    from .followup import statement

    depts = departments(db, survey)
    units = [{"code": d.code, "name": d.name, "headcount": d.headcount} for d in depts]
    for unit, d in zip(units, depts, strict=True):
        if getattr(d, "parent", None):
            unit["parent"] = d.parent
    return create_survey(
        db,
        survey.instrument,
        title=title,
        language=survey.language,
        departments=units,
        slug=slug,
        min_group_size=survey.min_group_size,
        comment_min_group_size=survey.comment_min_group_size,
        collection=survey.collection,
        previous=survey.slug,
        small_groups=survey.small_groups,
        draft=True,
        # The follow-up statement ("I have seen changes since the last survey") is asked again if it was.
        followup_statement=statement(db, survey) is not None,
    )


def rebuild(db: Database) -> None:
    """Rewrite every page of the database file in key order (VACUUM).

    SQLite stores a new row in the free space of its page, so until a page is rewritten the
    position of rows inside a page tells the order in which they were stored. Rebuilding at
    close leaves only the order of the random response ids.
    """
    db.execute("VACUUM")


def survey_summary(db: Database, survey: Survey) -> dict:
    """Return the survey's public description (the API's GET /surveys/<slug> shape)."""
    inst = survey.instrument
    lang = survey.language
    return {
        "slug": survey.slug,
        "title": survey.title,
        "language": survey.language,
        "status": survey.status,
        "kind": survey.kind,
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "closed_on": survey.closed_on,
        "archived": survey.is_archived,
        "collection": survey.collection,
        "min_group_size": survey.min_group_size,
        "comment_min_group_size": survey.comment_min_group_size,
        "previous": previous_slug(db, survey),
        "small_groups": survey.small_groups,
        "departments": [
            {"code": d.code, "name": d.name, **({"parent": d.parent} if d.parent else {})}
            for d in departments(db, survey)
        ],
        "instrument": {
            "reach_threshold": inst.reach_threshold,
            "levels": [{"id": lv.id, "name": lv.name[lang]} for lv in inst.levels],
            "items": [
                {"id": it.id, "level": it.level, "text": it.text[lang], "reverse": it.reverse} for it in inst.items
            ],
            "enps": inst.enps is not None,
            "comment": inst.comment is not None,
        },
    }
