"""Responses: validate a submission, store it in one transaction, count what came in."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlite_utils import Database

from .db import NOT_APPLICABLE, InvitationUsed, today, write_transaction
from .schemas import AnswersIn, answers_context, field_errors
from .surveys import Survey, local_today


class ResponseError(ValueError):
    """A submission with invalid values; `fields` maps each field to what to fix."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Submission:
    """A validated response, ready to store: answers 1..5 by item id, and the items answered "not applicable"."""

    department_id: int
    answers: dict[str, int]
    enps: int | None
    comment: str | None
    followup: int | None = None  # the follow-up statement, stored apart from the instrument's answers
    not_applicable: frozenset[str] = frozenset()  # stored as NOT_APPLICABLE; a blank item is not stored at all


def validate(
    survey: Survey,
    department_id: int | None,
    answers: object,
    enps: object,
    comment: object,
    max_comment: int,
    followup: object = None,
) -> Submission:
    """Check a submission against the survey's instrument (AnswersIn); raise ResponseError naming each bad field.

    `followup` is the answer to the follow-up statement, sent only by callers whose survey asks it.
    """
    errors: dict[str, str] = {}
    if department_id is None:
        errors["department"] = _("Choose your department.")
    given = {"answers": answers, "enps": enps, "comment": comment, "followup": followup}
    try:
        body = AnswersIn.model_validate(
            {name: value for name, value in given.items() if value is not None or name == "answers"},
            context=answers_context(survey.instrument, max_comment, followup=followup is not None),
        )
    except ValidationError as exc:
        errors.update(field_errors(exc, AnswersIn))
    if errors:
        raise ResponseError(errors)
    clean = {item_id: value for item_id, value in body.answers.items() if value is not None}
    # null is "not applicable" (the form's "na"); an item left out was skipped.
    na = frozenset(item_id for item_id, value in body.answers.items() if value is None)
    text = body.comment.strip() if body.comment is not None else None
    return Submission(department_id, clean, body.enps, text or None, body.followup, not_applicable=na)


def hash_token(token: str) -> str:
    """Hash a high-entropy token for storage (SHA-256 is enough for random secrets)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def save_response(
    db: Database, survey: Survey, sub: Submission, invitation_id: int | None = None, form_key: str | None = None
) -> None:
    """Store a response and all of its answers in one transaction, or nothing at all."""
    with write_transaction(db):
        store(db, survey, sub, invitation_id, form_key)


def store(
    db: Database,
    survey: Survey,
    sub: Submission,
    invitation_id: int | None = None,
    form_key: str | None = None,
    last_day: str | None = None,
) -> None:
    """Store a response inside the caller's transaction; raise when it must not be stored.

    `last_day` is today where the organisation is (surveys.local_today): a survey whose last day
    for answers is before it takes none.
    """
    if invitation_id is None and survey.invitation_only:
        raise InvitationRequired()
    if form_key is not None and not use_form_key(db, form_key):
        raise FormUsed()
    if invitation_id is not None:
        # The conditional update is the single-use check: two parallel submissions
        # with one invitation cannot both succeed. Only "used" is recorded, nothing
        # that points to the response, so the answers stay anonymous.
        cur = db.execute("UPDATE invitations SET used = 1 WHERE id = ? AND used = 0", [invitation_id])
        if cur.rowcount != 1:
            raise InvitationUsed()
    status = db.execute("SELECT status, closes_at FROM surveys WHERE id = ?", [survey.id]).fetchone()
    if status is None or status[0] != "open":
        raise SurveyClosed()
    if status[1] and last_day is not None and status[1] < last_day:
        # Its last day for answers has passed (it is closed at its next reading).
        raise SurveyClosed()
    response_id = _insert_response(db, survey, sub)
    position = survey.item_positions
    db.conn.executemany(
        "INSERT INTO answers (response_id, item, value) VALUES (?, ?, ?)",
        [(response_id, position[item_id], value) for item_id, value in sub.answers.items()]
        + [(response_id, position[item_id], NOT_APPLICABLE) for item_id in sorted(sub.not_applicable)],
    )
    if sub.followup is not None:
        db.execute("INSERT INTO followup_answers (response_id, value) VALUES (?, ?)", [response_id, sub.followup])


FORM_KEY_DAYS = 2  # a form key is remembered this long (the form's own token expires sooner)


def new_form_key() -> str:
    """Return a random single-use key for one rendered form."""
    return secrets.token_hex(16)


def use_form_key(db: Database, key: str) -> bool:
    """Spend a form's single-use key; return False when it was spent already (the form was sent before)."""
    day = int(time.time() // 86400)
    # Only the day is kept, for clearing old keys: a time would tell when someone answered.
    db.execute("DELETE FROM form_keys WHERE expires < ?", [day])
    cur = db.execute(
        "INSERT INTO form_keys (key_hash, expires) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [hash_token("form:" + key), day + FORM_KEY_DAYS],
    )
    return cur.rowcount == 1


def form_key_spent(db: Database, key: str) -> bool:
    """Return True when this rendered form's single-use key has given its response already."""
    row = db.execute("SELECT 1 FROM form_keys WHERE key_hash = ?", [hash_token("form:" + key)]).fetchone()
    return row is not None


class Throttled(Exception):
    """Too many submissions from one client through the open link; `wait` seconds until the next."""

    def __init__(self, wait: int):
        super().__init__(f"wait {wait} seconds")
        self.wait = wait


def submit(
    writer,
    survey: Survey,
    sub: Submission,
    invitation_id: int | None = None,
    form_key: str | None = None,
    throttle: tuple[str, int, int] | None = None,
) -> None:
    """Store a submission through the process's writer (batched, in random order); raise like store().

    `throttle` is (client key, limit, window seconds) for open-link submissions, counted in
    the same transaction as the response so that the limit holds across workers.
    """
    from . import throttle as counting

    today_here = local_today()  # read here: the writer's thread has no app and its settings

    def work(db: Database) -> None:
        if throttle is not None and invitation_id is None:
            wait = counting.take(db, *throttle)
            if wait is not None:
                raise Throttled(wait)
        store(db, survey, sub, invitation_id, form_key, today_here)

    writer.run(work)


class InvitationRequired(Exception):
    """An invitation-only survey was sent an answer without a personal invitation."""


class FormUsed(Exception):
    """This rendered form has already given its one response."""


MAX_RESPONSE_ID = 2**63 - 1


def new_response_id() -> int:
    """Return a random response id (1 .. 2**63-1) that says nothing about when it was stored."""
    # An increasing id would give away the order of submission, and with it who answered
    # what to anyone who knows the order in which people used their invitations.
    return secrets.randbelow(MAX_RESPONSE_ID) + 1


def _insert_response(db: Database, survey: Survey, sub: Submission) -> int:
    for _attempt in range(8):
        response_id = new_response_id()
        try:
            db.execute(
                "INSERT INTO responses (id, survey_id, department_id, submitted_on, enps, comment)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [response_id, survey.id, sub.department_id, today(), sub.enps, sub.comment],
            )
        except sqlite3.IntegrityError as exc:
            # Two random 63-bit ids colliding is vanishingly rare; draw again rather than fail.
            if "responses.id" in str(exc):
                continue
            raise
        return response_id
    raise RuntimeError("could not find a free response id")


class SurveyClosed(Exception):
    """The survey stopped accepting answers."""


def counts_by_department(db: Database, survey: Survey) -> dict[int, int]:
    """Return the number of responses per department id (departments without any get 0)."""
    counts = {
        r["id"]: r["n"]
        for r in db.query(
            """SELECT d.id, COUNT(r.id) AS n FROM departments d
               LEFT JOIN responses r ON r.department_id = d.id
               WHERE d.survey_id = ? GROUP BY d.id""",
            [survey.id],
        )
    }
    return counts
