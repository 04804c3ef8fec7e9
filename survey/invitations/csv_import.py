"""Read an invitation list (e-mail, department code[, language]) and report every bad row by line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..i18n import number
from ..questionnaire import LANGUAGES
from ..surveys import Department

MAX_ROWS = 20_000
# ASCII addresses only, starting with a letter or digit: a leading "=", "+" or "@" would
# also turn an exported CSV cell into a spreadsheet formula.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._%+'-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
HEADERS = {
    "email": {"email", "e-mail", "epost", "e-post", "mail", "address"},
    "department": {"department", "department code", "dept", "code", "avdeling", "avdelingskode"},
    "language": {"language", "lang", "språk", "sprak"},
}


@dataclass(frozen=True)
class InviteRow:
    """One valid, new invitee: e-mail (lower case), department id and optional language."""

    line: int
    email: str
    department_id: int
    language: str | None


@dataclass
class CsvReport:
    """What a file holds: new invitees, bad rows and duplicates, each with its line number."""

    rows: list[InviteRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when no row is bad (duplicates are only reported)."""
        return not self.errors


def parse(data: bytes | str, departments: list[Department], existing: Mapping[str, int]) -> CsvReport:
    """Check every row of an invitation file against the survey's departments and earlier invitations.

    `existing` maps e-mails already invited to their department id. A row repeating an
    earlier row or invitation for the same department is a duplicate (reported, skipped);
    one that names another department is an error, like a bad address or an unknown code.
    """
    report = CsvReport()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            report.errors.append((line, _("The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again.")))
            return report
    _Checker(departments, existing, report).read(data)
    if not report.errors and not report.rows and not report.duplicates:
        report.errors.append((1, _("The file has no invitations: write one “e-mail, department code” a line.")))
    return report


def _delimiter(text: str) -> str:
    # Spreadsheets with a comma as decimal mark (Norwegian Excel) write ";" between cells.
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", ";", "\t"), key=first.count)


def _header(cells: list[str]) -> dict[str, int] | None:
    """Map column roles to positions when a row is a header, else return None."""
    names = [cell.strip().lower() for cell in cells]
    if not any(name in HEADERS["email"] for name in names):
        return None
    columns: dict[str, int] = {}
    for role, words in HEADERS.items():
        for pos, name in enumerate(names):
            if name in words:
                columns.setdefault(role, pos)
    return columns


class _Checker:
    """Check rows one by one, remembering the e-mails seen so far."""

    def __init__(self, departments: list[Department], existing: Mapping[str, int], report: CsvReport):
        self.by_code = {d.code.lower(): d for d in departments}
        self.code_of = {d.id: d.code for d in departments}
        self.existing = existing
        self.report = report
        self.seen: dict[str, tuple[int, int]] = {}  # e-mail -> (line, department id)
        self.columns = {"email": 0, "department": 1, "language": 2}
        self.has_header = False

    def read(self, text: str) -> None:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        first = True
        try:
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                    continue
                if first and (columns := _header(cells)) is not None:
                    first = False
                    if "department" not in columns:
                        self.report.errors.append((line, _("The header names no department column (“department”).")))
                        return
                    self.columns, self.has_header = columns, True
                    continue
                first = False
                if len(self.report.rows) + len(self.report.duplicates) >= MAX_ROWS:
                    message = _("The file has more than %(n)s rows; split it in parts.", n=number(MAX_ROWS))
                    self.report.errors.append((line, message))
                    return
                self.check(line, [c.strip() for c in cells])
        except csv.Error as exc:
            self.report.errors.append((reader.line_num, _("The file is not valid CSV: %(error)s.", error=exc)))

    def cell(self, cells: list[str], role: str) -> str:
        pos = self.columns.get(role)
        return cells[pos] if pos is not None and pos < len(cells) else ""

    def check(self, line: int, cells: list[str]) -> None:
        errors, duplicates = self.report.errors, self.report.duplicates
        if not self.has_header and len(cells) not in (2, 3):
            message = _("Expected 2 or 3 columns (e-mail, department code, language), found %(n)s.", n=len(cells))
            errors.append((line, message))
            return
        email = self.cell(cells, "email").lower()
        code = self.cell(cells, "department")
        language = self.cell(cells, "language").lower()
        problems = []
        if not email:
            problems.append(_("the e-mail address is missing"))
        elif len(email) > 254 or not EMAIL_RE.match(email):
            problems.append(_("“%(email)s” is not an e-mail address", email=email[:80]))
        dept = self.by_code.get(code.lower())
        if not code:
            problems.append(_("the department code is missing"))
        elif dept is None:
            codes = sorted(d.code for d in self.by_code.values())
            known = ", ".join(codes[:15]) + (", …" if len(codes) > 15 else "")
            problems.append(
                _("the survey has no department “%(code)s” (its codes: %(codes)s)", code=code[:40], codes=known)
            )
        if language and language not in LANGUAGES:
            problems.append(_("the language must be nb, nn or en, not “%(value)s”", value=language[:20]))
        if problems:
            text = "; ".join(problems)
            errors.append((line, text[0].upper() + text[1:] + "."))
            return
        if email in self.seen:
            first_line, first_dept = self.seen[email]
            if first_dept == dept.id:
                duplicates.append(
                    (line, _("%(email)s is listed already on line %(n)s; skipped.", email=email, n=first_line))
                )
            else:
                message = _(
                    "%(email)s is listed for department %(first)s on line %(n)s and %(code)s here.",
                    email=email,
                    first=self.code_of[first_dept],
                    n=first_line,
                    code=dept.code,
                )
                errors.append((line, message))
            return
        self.seen[email] = (line, dept.id)
        if email in self.existing:
            if self.existing[email] == dept.id:
                duplicates.append((line, _("%(email)s has been invited already; skipped.", email=email)))
            else:
                other = self.code_of.get(self.existing[email], "?")
                errors.append(
                    (line, _("%(email)s has been invited already, to department %(code)s.", email=email, code=other))
                )
            return
        self.report.rows.append(InviteRow(line, email, dept.id, language or None))
