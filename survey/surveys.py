"""Surveys and their departments: create, read, open and close."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlite_utils import Database

from .db import today, write_transaction
from .errors import AppError
from .questionnaire import Instrument, instrument_from_json
from .schemas import SurveyIn, field_errors


class SurveyError(ValueError):
    """Invalid survey settings; `fields` maps a field name to what to fix."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


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
    if slug and db["surveys"].count_where("slug = ?", [slug]):
        errors["slug"] = f"The address '{slug}' is taken; choose another."
    previous_survey = None
    if previous:
        previous_survey = get_survey(db, previous)
        if previous_survey is None:
            errors["previous"] = f"There is no survey '{previous}' to follow."
    if errors:
        raise SurveyError(errors)
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
        db["survey_items"].insert_all(
            {"survey_id": survey_id, "item_id": it.id, "level": it.level, "position": n, "reverse": int(it.reverse)}
            for n, it in enumerate(instrument.items)
        )
        if followup_statement:
            from .followup import add_statement

            add_statement(db, survey_id)
    return get_survey(db, slug)


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
    """Return the survey's departments in the order they were given."""
    return [
        Department(r["id"], r["code"], r["name"], r["headcount"])
        for r in db.query(
            "SELECT id, code, name, headcount FROM departments WHERE survey_id = ? ORDER BY position, id",
            [survey.id],
        )
    ]


def department_by_code(db: Database, survey: Survey, code: str) -> Department | None:
    """Return the department with this code (case-insensitive), or None."""
    return next((d for d in departments(db, survey) if d.code.lower() == str(code).lower()), None)


class ReopenRefused(AppError):
    """A closed survey whose results were read cannot take answers again."""

    def __init__(self, survey: Survey):
        super().__init__(
            f"'{survey.slug}' cannot be reopened: its results have been read. New answers after that could be "
            "told apart by comparing two readings. Create the next round instead (copy this survey).",
            409,
        )


def close(db: Database, survey: Survey) -> None:
    """Close a survey: no more answers; its results are released; its pages are rebuilt."""
    with write_transaction(db):
        db.execute(
            "UPDATE surveys SET status = 'closed', closed_on = ? WHERE id = ? AND status != 'closed'",
            [today(), survey.id],
        )
    rebuild(db)


def reopen(db: Database, survey: Survey) -> None:
    """Take answers again, unless results of the closed survey have been read (then raise ReopenRefused)."""
    with write_transaction(db):
        # One statement checks and changes, so a reading of results cannot slip in between.
        changed = db.execute(
            "UPDATE surveys SET status = 'open', closed_on = NULL WHERE id = ? AND results_read_on IS NULL",
            [survey.id],
        ).rowcount
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
        "departments": [{"code": d.code, "name": d.name} for d in departments(db, survey)],
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
