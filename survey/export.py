"""Raw export for HR: one row per response, small departments merged or left out, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
import random

from sqlite_utils import Database

from .comments import comments_for
from .errors import AppError
from .rates import response_rates
from .results import require_released
from .surveys import Department, Survey, departments

_SHUFFLE = random.SystemRandom()

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OTHER = {"nb": "Andre (små avdelinger)", "nn": "Andre (små avdelingar)", "en": "Other (small departments)"}
# Small units below a shown unit are merged into that unit's "other" group (labels are data, in the survey's language).
OTHER_UNDER = {"nb": "{name} (andre)", "nn": "{name} (andre)", "en": "{name} (other)"}


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(db: Database, survey: Survey) -> tuple[list[str], list[list]]:
    """Return the header and one row per response: department and answers (and eNPS), for HR.

    Released only when the survey is closed. Units hidden by the confidentiality rules (below
    the threshold, or hidden to protect one that is) are merged into the "other" group of the
    nearest shown unit above them (see export_labels) or left out, as the survey says; every
    merged group holds at least k responses. No
    invitation, id, date, time or comment is exported with the answers (comments come in a
    list of their own, see export_comments), and rows are shuffled so that their order says
    nothing about the order of submission.
    """
    require_released(survey)
    inst = survey.instrument
    depts = departments(db, survey)
    rates = response_rates(db, survey)
    if rates["responses"] is None:
        raise AppError(
            f"'{survey.slug}' has fewer than {survey.min_group_size} responses: nothing may be exported.", 409
        )
    label, merged = export_labels(
        depts, {row["department"].code for row in rates["departments"] if row["hidden"]}, survey.language
    )
    header = ["department", *[it.id for it in inst.items]]
    header += ["enps"] if inst.enps else []
    position = {n: it.id for n, it in enumerate(inst.items)}
    answers: dict[int, dict[str, int]] = {}
    for row in db.query(
        "SELECT a.response_id, a.item, a.value FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE r.survey_id = ?",
        [survey.id],
    ):
        answers.setdefault(row["response_id"], {})[position[row["item"]]] = row["value"]
    rows = []
    for resp in db.query("SELECT id, department_id, enps FROM responses WHERE survey_id = ?", [survey.id]):
        if resp["department_id"] in merged and survey.small_groups == "omit":
            continue
        given = answers.get(resp["id"], {})
        row = [label[resp["department_id"]], *[given.get(it.id, "") for it in inst.items]]
        if inst.enps:
            row.append("" if resp["enps"] is None else resp["enps"])
        rows.append([neutralise(v) for v in row])
    _SHUFFLE.shuffle(rows)
    return header, rows


def export_labels(depts: list[Department], hidden: set[str], language: str) -> tuple[dict[int, str], set[int]]:
    """Return the export's group label of each unit's own respondents, and the units whose respondents are merged.

    A shown unit without sub-units keeps its name. Everyone else (a hidden unit, or the people
    who answered for a unit with sub-units) goes to the "other" group of the nearest shown unit
    above, or to the organisation's "other" group. Such a group is exactly what its shown unit
    minus its shown sub-units stands for, which the confidentiality rules keep at k or more.
    """
    by_code = {d.code: d for d in depts}
    has_children = {d.parent for d in depts if d.parent}
    labels, merged = {}, set()
    for d in depts:
        if d.code not in hidden and d.code not in has_children:
            labels[d.id] = d.name
            continue
        merged.add(d.id)
        node = d.code if d.code in has_children else d.parent  # a unit with sub-units: its own "other" group
        while node is not None and node in hidden:
            node = by_code[node].parent
        other = OTHER.get(language, OTHER["en"])
        labels[d.id] = (
            other if node is None else OTHER_UNDER.get(language, OTHER_UNDER["en"]).format(name=by_code[node].name)
        )
    return labels, merged


def export_comments(db: Database, survey: Survey) -> list[str]:
    """Return the comments HR may read: only from groups at or above the comment threshold, shuffled, undated."""
    require_released(survey)
    return [neutralise(text) for text in comments_for(db, survey) or []]


def comments_csv(comments: list[str]) -> str:
    """Write the comments as a one-column CSV (no department, no date, random order)."""
    return to_csv(["comment"], [[text] for text in comments])


def to_csv(header: list[str], rows: list[list]) -> str:
    """Write the export as CSV text (UTF-8 with a byte-order mark, so spreadsheets read æøå)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_xlsx(header: list[str], rows: list[list], comments: list[str] | None = None) -> bytes:
    """Write the export as an Excel workbook (answers; comments on a sheet of their own), values only."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if comments is not None:
        notes = book.create_sheet("comments")
        notes.append(["comment"])
        for text in comments:
            notes.append([text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
