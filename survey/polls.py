"""Live polls in a workshop: a short survey (one statement per level) answered on phones through a short code.

A poll is an ordinary survey of kind 'short' with one group ("in the room"), so every rule of
any survey holds: counts show "fewer than k" until k have answered, results appear only when
it is closed, and it cannot be closed (by the facilitator's screen) below k answers.
"""

from __future__ import annotations

import math
import secrets

from flask_babel import gettext as _
from sqlite_utils import Database

from . import privacy, rates, results, surveys
from .db import write_transaction
from .questionnaire import Instrument
from .surveys import Survey

# Six characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B):
# 25^6, about 240 million codes, typed on a phone from a projector at the back of a room.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
ROOM = "ROOM"  # the poll's one group


class PollError(ValueError):
    """A poll that cannot be started or closed; the message says why."""


def new_code() -> str:
    """Return a random poll code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Return a typed code as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in str(code).upper() if ch not in " -")[:32]


def create_poll(
    db: Database,
    instrument: Instrument,
    title: str,
    language: str,
    linked: Survey | None = None,
    min_group_size: int = 5,
    room_name: str = "In the room",
) -> Survey:
    """Start a live poll: a short survey with one group, open at once, with a fresh code."""
    k = max(privacy.effective_k(min_group_size), privacy.effective_k(linked.min_group_size) if linked else 0)
    poll = surveys.create_survey(
        db,
        instrument.short(),
        title=title,
        language=language,
        departments=[{"code": ROOM, "name": room_name}],
        min_group_size=k,
        comment_min_group_size=max(10, k),
    )
    for _attempt in range(20):
        code = new_code()
        with write_transaction(db):
            taken = db.execute("SELECT 1 FROM polls WHERE code = ?", [code]).fetchone()
            if not taken:
                db.execute(
                    "INSERT INTO polls (survey_id, code, linked_id) VALUES (?, ?, ?)",
                    [poll.id, code, linked.id if linked else None],
                )
                return poll
    raise PollError(_("No free poll code was found; try again."))


def poll_info(db: Database, survey: Survey) -> dict | None:
    """Return {code, linked} of a survey that is a live poll, or None."""
    row = db.execute("SELECT code, linked_id FROM polls WHERE survey_id = ?", [survey.id]).fetchone()
    if row is None:
        return None
    linked = surveys.get_survey_by_id(db, row[1]) if row[1] else None
    return {"code": row[0], "linked": linked}


def by_code(db: Database, code: str) -> Survey | None:
    """Return the poll with this code (any case, spaces ignored), or None."""
    row = db.execute("SELECT survey_id FROM polls WHERE code = ?", [normalise_code(code)]).fetchone()
    return surveys.get_survey_by_id(db, row[0]) if row else None


def polls_of(db: Database) -> list[dict]:
    """Return every poll, newest first, with its code and status."""
    return list(
        db.query(
            """SELECT s.slug, s.title, s.status, s.created_on, p.code, l.title AS linked_title
               FROM polls p JOIN surveys s ON s.id = p.survey_id LEFT JOIN surveys l ON l.id = p.linked_id
               ORDER BY s.id DESC"""
        )
    )


def answered(db: Database, poll: Survey) -> int | None:
    """Return how many have answered as it may be shown: None ("fewer than k") below the threshold."""
    return rates.response_rates(db, poll)["responses"]


def close_poll(db: Database, poll: Survey) -> None:
    """Close the poll and release its results; refuse (PollError) while fewer than k have answered."""
    if poll.is_closed:
        return
    k = privacy.effective_k(poll.min_group_size)
    if answered(db, poll) is None:
        raise PollError(
            _(
                "Fewer than %(k)s people have answered, so the poll cannot be closed yet: results are shown only "
                "for groups of at least %(k)s. Wait for more answers.",
                k=k,
            )
        )
    surveys.close(db, poll)


def divided_items(db: Database, poll: Survey) -> list[dict]:
    """Return the poll's statements as they may be shown, the most divided first.

    Division is the standard deviation of the answers (1..5): a room split between "disagree"
    and "agree" comes before one that mostly agrees. Hidden statements come last, without figures.
    """
    res = results.survey_results(db, poll)
    inst = poll.instrument
    rows = []
    for item in res.get("items", []):
        if item.get("suppressed") or not item.get("n"):
            rows.append({"id": item["id"], "level": item.get("level"), "suppressed": True})
            continue
        counts, n = item["counts"], item["n"]
        mean = sum(v * c for v, c in zip(range(1, 6), counts, strict=True)) / n
        sd = math.sqrt(sum(c * (v - mean) ** 2 for v, c in zip(range(1, 6), counts, strict=True)) / n)
        rows.append(
            {
                "id": item["id"],
                "level": item["level"],
                "n": n,
                "counts": counts,
                "mean": mean,
                "score": (mean - 1) / 4 * 100,
                "spread": sd,
                "agree": (counts[3] + counts[4]) / n,
                "disagree": (counts[0] + counts[1]) / n,
            }
        )
    order = {it.id: n for n, it in enumerate(inst.items)}
    shown = sorted((r for r in rows if not r.get("suppressed")), key=lambda r: (-r["spread"], order[r["id"]]))
    return shown + [r for r in rows if r.get("suppressed")]
