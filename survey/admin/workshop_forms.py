"""Forms of the workshop pages: actions of the plan, progress notes, live polls."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange


def instrument_field() -> SelectField:
    """Return the new-survey form's choice of questionnaire: full, or one statement per level."""
    return SelectField(
        _l("Questionnaire"),
        choices=[
            SelectChoice("full", _l("Full: every statement of questions.yaml")),
            SelectChoice("short", _l("Short: one statement per level (a quick pulse or a live poll)")),
        ],
        default="full",
    )


def followup_statement_field() -> BooleanField:
    """Return the new-survey form's option to ask the follow-up statement (reported on its own)."""
    return BooleanField(_l("Also ask “I have seen changes since the last survey”"))


class PlanActionForm(FlaskForm):
    """An action of the plan; its values are checked by the API's model (schemas.ActionIn) in actions.parse_new."""

    level = SelectField(_l("Level"), validate_choice=False)
    theme = SelectField(_l("Theme"), validate_choice=False)
    title = TextAreaField(_l("What will be done"))
    department = SelectField(_l("For"), validate_choice=False)
    owner = StringField(_l("Owner (a name or a role)"))
    owner_email = EmailField(_l("Owner's e-mail (for reminders)"))
    due = StringField(_l("Due date (YYYY-MM-DD)"))
    status = SelectField(_l("Status"), validate_choice=False)
    note = TextAreaField(_l("Progress note"))
    next = HiddenField()

    def values(self, fields: tuple[str, ...]) -> dict:
        """Return the posted values of `fields` as the model takes them: blanks left out."""
        out = {}
        for name in fields:
            value = self[name].data
            if isinstance(value, str):
                value = value.replace("\r\n", "\n").strip()
            if value not in (None, ""):
                out[name] = value
        return out


class NoteForm(FlaskForm):
    """A progress note, optionally with a new status."""

    note = TextAreaField(_l("Progress note"))
    status = SelectField(_l("New status"), validate_choice=False)


LANGUAGES = [
    SelectChoice("nb", "Norsk (bokmål)"),
    SelectChoice("nn", "Norsk (nynorsk)"),
    SelectChoice("en", "English"),
]


class PollForm(FlaskForm):
    """Start a live poll: a short survey answered in the room."""

    title = StringField(_l("Title shown on the screen"), validators=[Length(max=200)])
    language = SelectField(_l("Language of the statements"), choices=LANGUAGES)
    linked = SelectField(_l("Linked to a survey (optional)"), validate_choice=False)
    min_group_size = IntegerField(
        _l("Fewest answers before anything is shown"),
        default=5,
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=3, max=1000, message=_l("Use 3 to 1,000."))],
    )
