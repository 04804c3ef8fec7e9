"""Free-text comments: read for the HR report only, in random order, never with date or department."""

from __future__ import annotations

import random

from sqlite_utils import Database

from . import privacy
from .surveys import Survey


def comments_for(db: Database, survey: Survey, department_id: int | None = None) -> list[str] | None:
    """Return a group's comments in random order, or None when the group is below the comment threshold."""
    where, params = "survey_id = ?", [survey.id]
    if department_id is not None:
        where += " AND department_id = ?"
        params.append(department_id)
    n = db.execute(f"SELECT COUNT(*) FROM responses WHERE {where}", params).fetchone()[0]  # noqa: S608
    if not privacy.comments_visible(n, survey.comment_min_group_size):
        return None
    texts = [
        row[0]
        for row in db.execute(
            f"SELECT comment FROM responses WHERE {where} AND comment IS NOT NULL AND comment != ''",  # noqa: S608
            params,
        )
    ]
    # Random order (not the order of submission, which could point to a person); a system
    # source, so the order cannot be replayed from a seed.
    random.SystemRandom().shuffle(texts)
    return texts
