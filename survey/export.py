"""Raw export for HR: one row per response, small departments merged or left out, safe in spreadsheets."""

from __future__ import annotations

import csv
import io
import random
import re

from flask_babel import gettext as _
from sqlite_utils import Database

from . import i18n
from .comments import comments_for
from .db import NOT_APPLICABLE
from .errors import AppError
from .rates import response_rates
from .results import mark_read, require_released
from .surveys import Department, Survey, departments

_SHUFFLE = random.SystemRandom()

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(db: Database, survey: Survey, lang: str | None = None) -> tuple[list[str], list[list]]:
    """Return the header and one row per response: department and answers (and eNPS), for HR.

    The header and the "other" groups are in `lang` (default: the survey's language); item ids
    and "enps" stay codes, the same in every language, so that analyses keep working.

    Released only when the survey is closed. Units hidden by the confidentiality rules (below
    the threshold, or hidden to protect one that is) are merged into the "other" group of the
    nearest shown unit above them (see export_labels) or left out, as the survey says; every
    merged group holds at least k responses. No
    invitation, id, date, time or comment is exported with the answers (comments come in a
    list of their own, see export_comments), and rows are shuffled so that their order says
    nothing about the order of submission.
    """
    require_released(survey)
    # Reading the raw answers is reading results: from now on the survey cannot be reopened.
    mark_read(db, survey)
    inst = survey.instrument
    depts = departments(db, survey)
    rates = response_rates(db, survey)
    if rates["responses"] is None:
        raise AppError(
            _(
                "'%(slug)s' has fewer than %(k)s responses: nothing may be exported.",
                slug=survey.slug,
                k=i18n.number(survey.min_group_size),
            ),
            409,
        )
    lang = lang or survey.language
    with i18n.language(lang):
        label, merged = export_labels(depts, {row["department"].code for row in rates["departments"] if row["hidden"]})
    header = [column["header"] for column in export_columns(inst, lang)]
    not_applicable = inst.not_applicable[lang]
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
        # "Not applicable" in words; a statement left blank stays an empty cell.
        cells = [given.get(it.id, "") for it in inst.items]
        row = [label[resp["department_id"]], *[not_applicable if v == NOT_APPLICABLE else v for v in cells]]
        if inst.enps:
            row.append("" if resp["enps"] is None else resp["enps"])
        rows.append([neutralise(v) for v in row])
    _SHUFFLE.shuffle(rows)
    return header, rows


SEPARATOR = " · "
HEADER_TEXT = 60  # characters of the statement in a column's header; the whole statement is on the sheet of columns


def _short(text: str, limit: int = HEADER_TEXT) -> str:
    """Return text cut at a word to at most `limit` characters, with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def export_columns(inst, lang: str) -> list[dict]:
    """Return the export's columns: header (readable, with the code kept), code, level and the whole text.

    A statement's header is "Level · code · The statement…", so that a spreadsheet reads as the
    questionnaire did while analyses can still find each column by its code.
    """
    with i18n.language(lang):
        department, what = _("department"), _("The department, or the group that small departments are merged into")
    columns = [{"header": department, "code": "department", "level": "", "text": what}]
    levels = {lv.id: lv.name[lang] for lv in inst.levels}
    for it in inst.items:
        header = SEPARATOR.join((levels[it.level], it.id, _short(it.text[lang])))
        columns.append({"header": header, "code": it.id, "level": levels[it.level], "text": it.text[lang]})
    if inst.enps:
        header = SEPARATOR.join(("eNPS", "enps", _short(inst.enps.text[lang])))
        columns.append({"header": header, "code": "enps", "level": "", "text": inst.enps.text[lang]})
    return columns


def column_notes(survey: Survey, lang: str) -> list[list]:
    """Return the rows of the sheet that explains every column and value of the export, in `lang`."""
    inst = survey.instrument
    with i18n.language(lang):
        rows = [[_("column"), _("code"), _("level"), _("statement or question")]]
        rows += [[c["header"], c["code"], c["level"], c["text"]] for c in export_columns(inst, lang)]
        scale = "; ".join(f"{n} = {label}" for n, label in enumerate(inst.scale[lang], start=1))
        rows += [
            [],
            [_("What the cells hold")],
            [_("Statements: %(scale)s.", scale=scale)],
            [
                _(
                    "“%(na)s”: the respondent chose “%(na)s”. An empty cell: the statement was left blank. "
                    "Both count as missing in every figure, never as zero.",
                    na=inst.not_applicable[lang],
                )
            ],
        ]
        if inst.enps:
            rows.append([_("eNPS: 0 to 10; an empty cell: not answered.")])
        rows.append(
            [
                _(
                    "One row per response, in random order. Departments with fewer than %(k)s responses, and any "
                    "hidden to protect them, are merged into the “(other)” group of the nearest department shown "
                    "above them, or into “%(other)s”, or left out, as the survey says. No name, date, time or "
                    "comment is exported with the answers.",
                    k=i18n.number(survey.min_group_size),
                    other=_("Other (small departments)"),
                )
            ]
        )
    return rows


def list_separator(lang: str) -> str:
    """Return the separator a spreadsheet in this language expects in a CSV file: ';' where ',' is the decimal mark."""
    return ";" if lang in ("nb", "nn") else ","


def export_labels(depts: list[Department], hidden: set[str]) -> tuple[dict[int, str], set[int]]:
    """Return the export's group label of each unit's own respondents, and the units whose respondents are merged.

    A shown unit without sub-units keeps its name. Everyone else (a hidden unit, or the people
    who answered for a unit with sub-units) goes to the "other" group of the nearest shown unit
    above, or to the organisation's "other" group. Such a group is exactly what its shown unit
    minus its shown sub-units stands for, which the confidentiality rules keep at k or more.
    Labels are in the current language (callers choose it with i18n.language).
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
        labels[d.id] = (
            _("Other (small departments)") if node is None else _("%(name)s (other)", name=by_code[node].name)
        )
    return labels, merged


def export_comments(db: Database, survey: Survey) -> list[str]:
    """Return the comments HR may read: only from groups at or above the comment threshold, shuffled, undated."""
    require_released(survey)
    mark_read(db, survey)  # comments are read results too: no reopening after them
    return [neutralise(text) for text in comments_for(db, survey) or []]


def comments_csv(comments: list[str], lang: str = i18n.DEFAULT) -> str:
    """Write the comments as a one-column CSV (no department, no date, random order)."""
    with i18n.language(lang):
        column = _("comment")
    return to_csv([column], [[text] for text in comments], list_separator(lang))


def to_csv(header: list[str], rows: list[list], separator: str = ",") -> str:
    """Write the export as CSV text (UTF-8 with a byte-order mark, so spreadsheets read æøå).

    `separator` is the reader's list separator (see list_separator): Norwegian Excel splits on ';'.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# Characters that XML 1.0, and so an XLSX cell, cannot hold: C0 controls but tab, line feed and carriage
# return; lone surrogates; U+FFFE and U+FFFF. openpyxl refuses them (IllegalCharacterError).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def replaced_note() -> str:
    """Return the note on the XLSX's "notes" sheet, in the current language."""
    return _(
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


def to_xlsx(
    header: list[str],
    rows: list[list],
    comments: list[str] | None = None,
    lang: str = i18n.DEFAULT,
    columns: list[list] | None = None,
) -> bytes:
    """Write the export as an Excel workbook (answers; comments on a sheet of their own), values only.

    Numbers stay numbers (a spreadsheet shows them in its own convention); sheet names and
    headers are in `lang`. `columns` (see column_notes) fills a sheet that explains every column.
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

    with i18n.language(lang):
        names = _("responses"), _("comments"), _("comment"), _("notes"), replaced_note(), _("columns")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(names[0])
    sheet.append(clean(header))
    for row in rows:
        sheet.append(clean(row))
    if comments is not None:
        notes = book.create_sheet(names[1])
        notes.append([names[2]])
        for text in comments:
            notes.append(clean([text]))
    if columns is not None:
        about = book.create_sheet(names[5])
        for row in columns:
            about.append(clean(row))
    if replaced:
        book.create_sheet(names[3]).append([names[4]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
