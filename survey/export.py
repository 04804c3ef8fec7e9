"""Raw export for HR: one row per response, small departments merged or left out, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
import random
import re

from sqlite_utils import Database

from .comments import comments_for
from .errors import AppError
from .rates import response_rates
from .results import require_released
from .surveys import Survey, departments

_SHUFFLE = random.SystemRandom()

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OTHER = {"nb": "Andre (små avdelinger)", "en": "Other (small departments)"}


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(db: Database, survey: Survey) -> tuple[list[str], list[list]]:
    """Return the header and one row per response: department and answers (and eNPS), for HR.

    Released only when the survey is closed. Departments hidden by the confidentiality rules
    (below the threshold, or hidden to protect one that is) are merged into one "other" group
    or left out, as the survey says; the merged group always holds at least k responses. No
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
    hidden = {row["department"].id for row in rates["departments"] if row["hidden"]}
    label = {d.id: (OTHER[survey.language] if d.id in hidden else d.name) for d in depts}
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
        if resp["department_id"] in hidden and survey.small_groups == "omit":
            continue
        given = answers.get(resp["id"], {})
        row = [label[resp["department_id"]], *[given.get(it.id, "") for it in inst.items]]
        if inst.enps:
            row.append("" if resp["enps"] is None else resp["enps"])
        rows.append([neutralise(v) for v in row])
    _SHUFFLE.shuffle(rows)
    return header, rows


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


# Characters that XML 1.0, and so an XLSX cell, cannot hold: C0 controls but tab, line feed and carriage
# return; lone surrogates; U+FFFE and U+FFFF. openpyxl refuses them (IllegalCharacterError).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACED_NOTE = (
    "Characters that a spreadsheet cannot hold (control characters such as BEL, ESC or form feed) are shown "
    "as the symbol that names them, e.g. ␇ for BEL and ␛ for ESC; other unusable characters as �."
)


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    # The Unicode "control pictures" (U+2400...) name each C0 control: the text stays readable and nothing is lost.
    return chr(0x2400 + code) if code < 0x20 else "\ufffd"


def cell_text(value: object) -> tuple[object, bool]:
    """Return a value an XLSX cell can hold, and whether characters had to be replaced."""
    if isinstance(value, str) and _NOT_IN_XML.search(value):
        return _NOT_IN_XML.sub(_visible, value), True
    return value, False


def to_xlsx(header: list[str], rows: list[list], comments: list[str] | None = None) -> bytes:
    """Write the export as an Excel workbook (answers; comments on a sheet of their own), values only.

    Characters a cell cannot hold are replaced by visible symbols, and a sheet "notes" says so.
    """
    from openpyxl import Workbook

    replaced = False

    def clean(row: list) -> list:
        nonlocal replaced
        out = []
        for value in row:
            value, changed = cell_text(value)
            replaced = replaced or changed
            out.append(value)
        return out

    book = Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append(clean(header))
    for row in rows:
        sheet.append(clean(row))
    if comments is not None:
        notes = book.create_sheet("comments")
        notes.append(["comment"])
        for text in comments:
            notes.append(clean([text]))
    if replaced:
        book.create_sheet("notes").append([REPLACED_NOTE])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
