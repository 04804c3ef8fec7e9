"""Forms for a survey's life: when it opens and closes, its departments until the first answer, the next round."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..schemas import SurveyIn, bounds
from ..surveys import Department
from .forms import SurveyForm, check_department_lines


def _day(field) -> str | None:
    return field.data.isoformat() if field.data else None


class DatesMixin:
    """The last day for answers, shared by the new-survey form and the schedule form."""

    closes_at = DateField(
        _l("Last day for answers (optional)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )

    @property
    def closes_day(self) -> str | None:
        """Return the last day for answers as YYYY-MM-DD, or None."""
        return _day(self.closes_at)


class NewSurveyForm(DatesMixin, SurveyForm):
    """Create a survey, and say when it opens: now, on a day, or when HR opens the draft."""

    start = RadioField(
        _l("When it opens"),
        choices=[
            SelectChoice("now", _l("Now: the links work as soon as the survey is created")),
            SelectChoice("date", _l("On a day I choose")),
            SelectChoice("draft", _l("Not yet: keep it as a draft and open it myself")),
        ],
        default="now",
    )
    opens_at = DateField(_l("Opening day"), validators=[Optional()], format="%Y-%m-%d")

    def validate(self, extra_validators=None) -> bool:
        """Check every field; a survey that opens on a day needs the day (Optional() would skip an empty one)."""
        valid = super().validate(extra_validators)
        if self.start.data == "date" and not self.opens_at.data and not self.opens_at.errors:
            self.opens_at.errors = [*self.opens_at.errors, _("Choose the day it opens, or another way to open it.")]
            valid = False
        return valid

    @property
    def schedule(self) -> dict:
        """Return the create_survey arguments for when the survey opens and closes."""
        return {
            "draft": self.start.data == "draft",
            "opens_at": _day(self.opens_at) if self.start.data == "date" else None,
            "closes_at": self.closes_day,
        }


class ScheduleForm(DatesMixin, FlaskForm):
    """A draft's opening day and the last day for answers (empty: by hand)."""

    opens_at = DateField(_l("Opening day (optional)"), validators=[Optional()], format="%Y-%m-%d")


class DepartmentsForm(FlaskForm):
    """Every department of a survey, one a line, as on the new-survey form."""

    departments = TextAreaField(_l("Departments"), validators=[DataRequired(_l("Add at least one department."))])

    validate_departments = check_department_lines


def department_lines(depts: list[Department]) -> str:
    """Write departments one a line as the department box reads them (a name with a comma in quotes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for d in depts:
        row = [d.code, d.name, "" if d.headcount is None else str(d.headcount)]
        if getattr(d, "parent", None):
            row.append(d.parent)
        while row and not row[-1]:
            row.pop()
        writer.writerow(row)
    return out.getvalue()


class NextRoundForm(FlaskForm):
    """The title and address of the next round."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the survey a title.")), Length(max=bounds(SurveyIn, "title")[1])],
    )
    slug = StringField(_l("Address (optional)"), validators=[Optional(), Length(max=bounds(SurveyIn, "slug")[1])])
