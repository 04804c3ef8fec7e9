"""Raw export for HR: one row per response, small departments merged or left out, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
import random

from sqlite_utils import Database

from . import privacy
from .responses import counts_by_department
from .surveys import Survey, departments

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OTHER = {"nb": "Andre (små avdelinger)", "en": "Other (small departments)"}


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(db: Database, survey: Survey) -> tuple[list[str], list[list]]:
    """Return the header and one row per response: department, date, answers, eNPS, comment.

    Departments hidden by the confidentiality rules (below the threshold, or hidden to protect
    one that is) are merged into one "other" group or left out, as the survey says. No
    invitation, id or time of day is exported, and rows are shuffled so that their order
    says nothing about the order of submission.
    """
    inst = survey.instrument
    depts = departments(db, survey)
    counts = counts_by_department(db, survey)
    hidden = privacy.hidden_groups({d.id: counts.get(d.id, 0) for d in depts}, survey.min_group_size)
    label = {d.id: (OTHER[survey.language] if d.id in hidden else d.name) for d in depts}
    header = ["department", "date", *[it.id for it in inst.items]]
    header += ["enps"] if inst.enps else []
    header += ["comment"] if inst.comment else []
    position = {n: it.id for n, it in enumerate(inst.items)}
    answers: dict[int, dict[str, int]] = {}
    for row in db.query(
        "SELECT a.response_id, a.item, a.value FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE r.survey_id = ?",
        [survey.id],
    ):
        answers.setdefault(row["response_id"], {})[position[row["item"]]] = row["value"]
    rows = []
    for resp in db.query(
        "SELECT id, department_id, submitted_on, enps, comment FROM responses WHERE survey_id = ?", [survey.id]
    ):
        if resp["department_id"] in hidden and survey.small_groups == "omit":
            continue
        given = answers.get(resp["id"], {})
        row = [label[resp["department_id"]], resp["submitted_on"], *[given.get(it.id, "") for it in inst.items]]
        if inst.enps:
            row.append("" if resp["enps"] is None else resp["enps"])
        if inst.comment:
            row.append(resp["comment"] or "")
        rows.append([neutralise(v) for v in row])
    random.SystemRandom().shuffle(rows)
    return header, rows


def to_csv(header: list[str], rows: list[list]) -> str:
    """Write the export as CSV text (UTF-8 with a byte-order mark, so spreadsheets read æøå)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_xlsx(header: list[str], rows: list[list]) -> bytes:
    """Write the export as an Excel workbook, every cell stored as a value, never as a formula."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
