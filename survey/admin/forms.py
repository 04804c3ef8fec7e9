"""Forms for the HR pages."""

from __future__ import annotations

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

from ..schemas import SurveyIn, bounds
from .workshop_forms import followup_statement_field, instrument_field


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1024)])


class ActionForm(FlaskForm):
    """An empty form: a button that changes state carries a CSRF token too."""


def parse_departments(text: str) -> list[dict]:
    """Parse one department a line, 'CODE, Name[, headcount]'; raise ValueError naming the line."""
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or len(parts) > 3:
            raise ValueError(f"Line {lineno}: write 'CODE, Name' or 'CODE, Name, headcount'.")
        headcount = None
        if len(parts) == 3 and parts[2]:
            if not parts[2].isdigit():
                raise ValueError(f"Line {lineno}: the headcount '{parts[2]}' must be a whole number.")
            headcount = int(parts[2])
        out.append({"code": parts[0], "name": parts[1], "headcount": headcount})
    return out


def _in_bounds(name: str) -> NumberRange:
    """Check a number against the bounds and with the message of SurveyIn, the API's model of the same setting."""
    least, most = bounds(SurveyIn, name)
    return NumberRange(min=least, max=most, message=SurveyIn.messages[name])


def _at_most(name: str, message_key: str) -> Length:
    return Length(max=bounds(SurveyIn, name)[1], message=SurveyIn.messages[message_key])


class SurveyForm(FlaskForm):
    """Create a survey from the instrument in questions.yaml (the settings are checked by SurveyIn on creation)."""

    title = StringField(
        "Title", validators=[DataRequired("Give the survey a title."), _at_most("title", "title:string_too_long")]
    )
    slug = StringField("Address (optional)", validators=[Optional(), _at_most("slug", "slug")])
    language = SelectField(
        "Language",
        choices=[
            SelectChoice("nb", "Norsk (bokmål)"),
            SelectChoice("nn", "Norsk (nynorsk)"),
            SelectChoice("en", "English"),
        ],
    )
    departments = TextAreaField("Departments", validators=[DataRequired("Add at least one department.")])
    min_group_size = IntegerField(
        "Minimum group size",
        default=5,
        validators=[InputRequired("Give a number."), _in_bounds("min_group_size")],
    )
    comment_min_group_size = IntegerField(
        "Minimum group size for comments",
        default=10,
        validators=[InputRequired("Give a number."), _in_bounds("comment_min_group_size")],
    )
    collection = SelectField(
        "Who can answer",
        choices=[
            SelectChoice("open", "Anyone with the link (open link and department links; answers are not verified)"),
            SelectChoice("invitations", "Only people with a personal invitation (single-use links)"),
        ],
        default="open",
    )
    previous = SelectField("Follows the earlier round", choices=[], default="")
    small_groups = SelectField(
        "Small groups in the raw export",
        choices=[
            SelectChoice("merge", "Merge them into one “other” group"),
            SelectChoice("omit", "Leave them out"),
        ],
        default="merge",
    )
    instrument = instrument_field()
    followup_statement = followup_statement_field()

    def validate_departments(self, field) -> None:
        """Check the department lines."""
        try:
            self.parsed_departments = parse_departments(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if not self.parsed_departments:
            raise ValidationError("Add at least one department.")


class InvitationForm(FlaskForm):
    """Create personal invitation links for one department."""

    department = SelectField("Department", validators=[DataRequired("Choose a department.")])
    count = IntegerField(
        "Number of links",
        default=10,
        validators=[InputRequired("Give a number."), NumberRange(min=1, max=5000, message="Use 1 to 5,000.")],
    )


class ImportForm(FlaskForm):
    """Upload an invitation list: one 'e-mail, department code[, language]' a line."""

    file = FileField("Invitation list (CSV)", validators=[FileRequired("Choose a CSV file to upload.")])
    dry_run = BooleanField("Only check the file; import nothing")


class MailForm(FlaskForm):
    """Send, or download the links of, one kind of batch: invitations or reminders."""

    kind = HiddenField(
        validators=[
            AnyOf(["invitation", "reminder", "nudge"], message="Send kind 'invitation', 'reminder' or 'nudge'.")
        ]
    )
    retry_unconfirmed = HiddenField(default="")
