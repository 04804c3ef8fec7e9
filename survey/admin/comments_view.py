"""The comments page for HR: every comment that may be shown, in random order, searchable by its text."""

from __future__ import annotations

import unicodedata

from flask import render_template, request

from .. import comments, results
from ..db import get_db
from ..security import login_required
from . import bp, survey_or_404
from .results_view import not_released

MAX_QUERY = 200


def _folded(text: str) -> str:
    """Return text for matching: case and accents aside, so that 'ostfold' finds 'Østfold' and 'Ledelse' 'ledelse'."""
    text = text.casefold().replace("ø", "o").replace("æ", "ae").replace("å", "a")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def matching(texts: list[str], query: str) -> list[str]:
    """Return the comments that hold every word of the query (any case, with or without accents)."""
    words = _folded(query).split()
    return [text for text in texts if all(word in _folded(text) for word in words)]


@bp.route("/surveys/<slug>/comments")
@login_required("hr")
def comments_page(slug: str):
    """Show the comments HR may read (groups at the comment threshold, random order, no department or date).

    There is deliberately no filter by how the writer answered (eNPS group, score band): a comment
    whose writer can be recognised would then give that person's answers away, whatever the size
    of the list (docs/confidentiality.md, rule 4). Searching the text adds nothing the list does not show.
    """
    survey = survey_or_404(slug)
    if not survey.is_closed:
        return not_released(survey)
    results.mark_read(get_db(), survey)  # reading comments is reading results: no reopening after it
    found = comments.comments_for(get_db(), survey) if survey.instrument.comment else None
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    shown = matching(found, query) if found and query else found
    return render_template("admin/comments.html", survey=survey, found=found, shown=shown, query=query)
