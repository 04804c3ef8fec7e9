"""Forms for the HR pages."""

from __future__ import annotations

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
from ..schemas import SurveyIn, bounds, message_text


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)])


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
            raise ValueError(_("Line %(n)s: write 'CODE, Name' or 'CODE, Name, headcount'.", n=lineno))
        headcount = None
        if len(parts) == 3 and parts[2]:
            if not parts[2].isdigit():
                raise ValueError(
                    _("Line %(n)s: the headcount '%(value)s' must be a whole number.", n=lineno, value=parts[2])
                )
            headcount = int(parts[2])
        out.append({"code": parts[0], "name": parts[1], "headcount": headcount})
    return out


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

    def validate_departments(self, field) -> None:
        """Check the department lines."""
        try:
            self.parsed_departments = parse_departments(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if not self.parsed_departments:
            raise ValidationError(_("Add at least one department."))


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
