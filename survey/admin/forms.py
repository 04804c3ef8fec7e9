"""Forms for the HR pages."""

from __future__ import annotations

import csv

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..i18n import LANGUAGE_NAMES
from ..schemas import SurveyIn, bounds, department_problem, message_text, unit_problem
from .workshop_forms import followup_statement_field, instrument_field


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)])


class ActionForm(FlaskForm):
    """An empty form: a button that changes state carries a CSRF token too."""


# Header names HR may use for the department box's columns (English and Norwegian), lower case.
UNIT_COLUMNS = {
    "code": {"code", "unit code", "department code", "kode", "avdelingskode", "enhetskode"},
    "name": {"name", "unit", "department", "navn", "avdeling", "enhet"},
    "headcount": {"headcount", "people", "employees", "size", "antall", "ansatte", "antall ansatte"},
    "parent": {"parent", "parent code", "belongs to", "overordnet", "tilhører", "forelder"},
}
POSITIONS = ("code", "name", "headcount", "parent")  # the order without a header line


def _format_hint() -> str:
    return _("write 'CODE, Name', optionally followed by ', headcount' and ', parent code'")


def _separator(line: str) -> str:
    """Return the line's cell separator: a tab (pasted from a spreadsheet), ';' (Norwegian Excel) or ','."""
    outside, quoted = [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    text = "".join(outside)
    return "\t" if "\t" in text else ";" if ";" in text else ","


def _cells(line: str, separator: str, lineno: int) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=separator, skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise ValueError(_('Line %(n)s: a quoted value is not closed ("...").', n=lineno)) from exc
    cells = [cell.strip() for cell in cells]
    while cells and not cells[-1]:  # spreadsheets pad rows with empty cells
        cells.pop()
    return cells


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    """Return column -> position when the cells are a header line (they name at least code and name)."""
    found = {}
    for position, cell in enumerate(cells):
        role = next((role for role, names in UNIT_COLUMNS.items() if cell.lower() in names), None)
        if role is None and cell:
            return None
        if role:
            found[role] = position
    return found if {"code", "name"} <= set(found) else None


def parse_departments(text: str) -> list[dict]:
    """Parse the department box: one unit a line, CSV with ',' or ';' (or tabs), quotes, an optional header.

    Columns: CODE, Name, headcount (optional), parent code (optional), or in any order under a
    header line naming them. Blank lines and lines starting with '#' are skipped. Raise
    ValueError naming the line and the problem; the checks on codes, names and parents are
    those of the API (SurveyIn), so nothing the form accepts is refused later, and the reverse.
    """
    rows: list[tuple[int, dict]] = []
    separator = columns = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if separator is None:
            separator = _separator(line)
            cells = _cells(line, separator, lineno)
            columns = _header_columns(cells)
            if columns is not None:
                continue
            columns = dict(zip(POSITIONS, range(len(POSITIONS)), strict=True))
        cells = _cells(line, separator, lineno)
        if len(cells) > max(columns.values()) + 1:
            raise ValueError(
                _(
                    "Line %(n)s: %(count)s values where at most %(most)s fit; %(hint)s. "
                    "Put a name with a '%(separator)s' in quotes.",
                    n=lineno,
                    count=len(cells),
                    most=max(columns.values()) + 1,
                    hint=_format_hint(),
                    separator=separator,
                )
            )
        value = {role: cells[position] if position < len(cells) else "" for role, position in columns.items()}
        if not value["code"] or not value.get("name"):
            raise ValueError(_("Line %(n)s: %(hint)s.", n=lineno, hint=_format_hint()))
        unit: dict = {"code": value["code"], "name": value["name"], "headcount": None}
        count = value.get("headcount", "").replace(" ", "").replace("\u00a0", "")
        if count:
            if not count.isdigit():
                raise ValueError(
                    _(
                        "Line %(n)s: the headcount '%(value)s' must be a whole number.",
                        n=lineno,
                        value=value["headcount"],
                    )
                )
            unit["headcount"] = int(count)
        if value.get("parent"):
            unit["parent"] = value["parent"]
        problem = department_problem(unit, _("Line %(n)s", n=lineno))
        if problem:
            raise ValueError(problem)
        rows.append((lineno, unit))
    problem = unit_problem(
        [(unit["code"], unit["name"], unit.get("parent")) for _line, unit in rows],
        lambda n: _("Line %(n)s", n=rows[n - 1][0]),
    )
    if problem:
        raise ValueError(problem)
    return [unit for _line, unit in rows]


def check_department_lines(form: FlaskForm, field) -> None:
    """Check the department lines of a form (new survey, departments page) and keep them parsed on the form."""
    try:
        form.parsed_departments = parse_departments(field.data or "")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if not form.parsed_departments:
        raise ValidationError(_("Add at least one department."))


def _message(key: str) -> LazyString:
    """Return SurveyIn's message for a field, translated (and its numbers written) when it is shown."""
    return LazyString(message_text, SurveyIn.messages[key])


def _in_bounds(name: str) -> NumberRange:
    """Check a number against the bounds and with the message of SurveyIn, the API's model of the same setting."""
    least, most = bounds(SurveyIn, name)
    return NumberRange(min=least, max=most, message=_message(name))


def _at_most(name: str, message_key: str) -> Length:
    return Length(max=bounds(SurveyIn, name)[1], message=_message(message_key))


class SurveyForm(FlaskForm):
    """Create a survey from the instrument in questions.yaml (the settings are checked by SurveyIn on creation)."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the survey a title.")), _at_most("title", "title:string_too_long")],
    )
    slug = StringField(_l("Address (optional)"), validators=[Optional(), _at_most("slug", "slug")])
    # Each language named in itself, as respondents will see it.
    language = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    departments = TextAreaField(_l("Departments"), validators=[DataRequired(_l("Add at least one department."))])
    min_group_size = IntegerField(
        _l("Minimum group size"),
        default=5,
        validators=[InputRequired(_l("Give a number.")), _in_bounds("min_group_size")],
    )
    comment_min_group_size = IntegerField(
        _l("Minimum group size for comments"),
        default=10,
        validators=[InputRequired(_l("Give a number.")), _in_bounds("comment_min_group_size")],
    )
    collection = SelectField(
        _l("Who can answer"),
        choices=[
            SelectChoice("open", _l("Anyone with the link (open link and department links; answers are not verified)")),
            SelectChoice("invitations", _l("Only people with a personal invitation (single-use links)")),
        ],
        default="open",
    )
    previous = SelectField(_l("Follows the earlier round"), choices=[], default="")
    small_groups = SelectField(
        _l("Small groups in the raw export"),
        choices=[
            SelectChoice("merge", _l("Merge them into one “other” group")),
            SelectChoice("omit", _l("Leave them out")),
        ],
        default="merge",
    )
    instrument = instrument_field()
    followup_statement = followup_statement_field()

    validate_departments = check_department_lines


class InvitationForm(FlaskForm):
    """Create personal invitation links for one department."""

    department = SelectField(_l("Department"), validators=[DataRequired(_l("Choose a department."))])
    count = IntegerField(
        _l("Number of links"),
        default=10,
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=1, max=5000, message=_l("Use 1 to 5,000."))],
    )


class ImportForm(FlaskForm):
    """Upload an invitation list: one 'e-mail, department code[, language]' a line."""

    file = FileField(_l("Invitation list (CSV)"), validators=[FileRequired(_l("Choose a CSV file to upload."))])
    dry_run = BooleanField(_l("Only check the file; import nothing"))


class MailForm(FlaskForm):
    """Send, or download the links of, one kind of batch: invitations or reminders."""

    kind = HiddenField(
        validators=[
            AnyOf(["invitation", "reminder", "nudge"], message=_l("Send kind 'invitation', 'reminder' or 'nudge'."))
        ]
    )
    retry_unconfirmed = HiddenField(default="")


class DeleteForm(FlaskForm):
    """Confirm the deletion of a survey by typing its address."""

    confirm = StringField(_l("Type the survey's address to confirm"), validators=[Length(max=200)])
