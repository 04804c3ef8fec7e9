"""Surveys and their departments: create, read, open and close."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from flask import has_app_context
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

    def __init__(self, fields: dict[str, str], slug_taken: bool = False):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields
        self.slug_taken = slug_taken


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
    followup_statement: bool = False,
) -> Survey:
    """Create a survey with its departments and a frozen copy of the instrument.

    `previous` is the slug of the earlier round of the same series, which the comparison
    pages measure change against; `small_groups` says whether the raw export merges
    departments below the threshold into one "other" group or leaves them out. The survey's
    kind is the instrument's ('short': one statement per level, for a live poll);
    `followup_statement` adds the statement "I have seen changes since the last survey",
    reported on its own (survey/followup.py).
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
    with write_transaction(db):
        survey_id = (
            db["surveys"]
            .insert(
                {
                    "slug": slug,
                    "title": title.strip(),
                    "language": language,
                    "status": "open",
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
    """Return the survey with this slug, or None."""
    rows = list(db.query("SELECT * FROM surveys WHERE slug = ?", [slug]))
    return _survey(rows[0]) if rows else None


def language_of(db: Database, slug: str) -> str | None:
    """Return the language of the survey with this slug (a cheap read for choosing a page's language), or None."""
    row = db.execute("SELECT language FROM surveys WHERE slug = ?", [slug]).fetchone()
    return row[0] if row else None


def get_survey_by_id(db: Database, survey_id: int) -> Survey | None:
    """Return the survey with this id, or None."""
    rows = list(db.query("SELECT * FROM surveys WHERE id = ?", [survey_id]))
    return _survey(rows[0]) if rows else None


def previous_slug(db: Database, survey: Survey) -> str | None:
    """Return the slug of the survey's previous round, if it has one."""
    previous = get_survey_by_id(db, survey.previous_id) if survey.previous_id else None
    return previous.slug if previous else None


def list_surveys(db: Database) -> list[dict]:
    """Return every survey, newest first, with its number of responses as it may be shown.

    A count is a figure too: below the survey's threshold it is None ("fewer than k"), so that
    nobody can watch the list while a colleague answers (a live poll in the room, say).
    """
    rows = list(
        db.query(
            """SELECT s.id, s.slug, s.title, s.language, s.status, s.created_on, s.closed_on,
                      MAX(3, s.min_group_size) AS k,
                      (SELECT COUNT(*) FROM responses r WHERE r.survey_id = s.id) AS responses
               FROM surveys s ORDER BY s.id DESC"""
        )
    )
    for row in rows:
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


def close(db: Database, survey: Survey) -> None:
    """Close a survey: no more answers; its results are released; its pages are rebuilt."""
    with write_transaction(db):
        changed = db.execute(
            "UPDATE surveys SET status = 'closed', closed_on = ? WHERE id = ? AND status != 'closed'",
            [today(), survey.id],
        ).rowcount
        if changed:
            audit.record(db, "survey-closed", survey.slug)
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
        reopen(db, survey)
    else:
        raise ValueError(f"unknown status {status!r}")


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
