"""The respondent's form, built from the survey's frozen instrument."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..i18n import number
from ..questionnaire import Instrument
from ..surveys import Department, tree_order, unit_paths

NA = "na"
VALID = {"1", "2", "3", "4", "5"}


class ChoiceField(RadioField):
    """A radio group whose invalid-choice message says what to fix, in the respondent's language."""

    def __init__(self, *args, invalid_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form) -> None:
        """Refuse a value that is not one of the offered choices."""
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.invalid_message)


def lf_newlines(value: object) -> object:
    """Normalise line breaks to LF: browsers count CRLF as one character for maxlength but send two."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class ResponseForm(FlaskForm):
    """Base form; build_form adds one radio group per item."""

    def item_fields(self, instrument: Instrument) -> list[tuple]:
        """Return (level, [(item, field)]) pairs in questionnaire order."""
        return [(lv, [(it, self[f"q_{it.id}"]) for it in lv.items]) for lv in instrument.levels]

    def answers(self, instrument: Instrument) -> dict[str, int | None]:
        """Return the chosen answers by item id: 1..5, None for 'not applicable' (as in the API); blanks left out."""
        out: dict[str, int | None] = {}
        for it in instrument.items:
            value = self[f"q_{it.id}"].data
            if value in VALID:
                out[it.id] = int(value)
            elif value == NA:
                out[it.id] = None
        return out


def department_choices(departments: list[Department]) -> list[SelectChoice]:
    """Return the units to choose from; with a hierarchy, grouped by top-level unit (an <optgroup> each).

    A respondent picks the lowest unit they belong to: first the group of their top-level unit,
    then within it the unit itself or one below it, named by its path ("Sales North › Team 2").
    """
    if not any(d.parent for d in departments):
        return [SelectChoice(d.code, d.name) for d in departments]
    paths = unit_paths(departments)
    name = {d.code: d.name for d in departments}
    has_children = {d.parent for d in departments if d.parent}
    choices = []
    for d in tree_order(departments):
        top = paths[d.code][0]
        if top not in has_children:
            choices.append(SelectChoice(d.code, d.name))
            continue
        label = " › ".join(name[code] for code in paths[d.code][1:]) or d.name
        choices.append(SelectChoice(d.code, label, optgroup=name[top]))
    return choices


def build_form(
    instrument: Instrument,
    lang: str,
    departments: list[Department] | None,
    max_comment: int,
    followup: str | None = None,
    **kwargs,
) -> ResponseForm:
    """Build the form class for an instrument and language, and instantiate it.

    `followup` is the text of the survey's follow-up statement, asked after the instrument's
    statements and stored apart from them (survey/followup.py).
    """
    na_label = instrument.not_applicable[lang]

    class Form(ResponseForm):
        pass

    answer_error = _("Choose an answer from 1 to 5 or “%(na)s”.", na=na_label)
    for it in instrument.items:
        choices = [SelectChoice(str(v), instrument.scale[lang][v - 1]) for v in range(1, 6)]
        choices.append(SelectChoice(NA, na_label))
        field = ChoiceField(it.text[lang], choices=choices, validators=[Optional()], invalid_message=answer_error)
        setattr(Form, f"q_{it.id}", field)
    if departments is not None:
        choices = [SelectChoice("", _("Choose your department")), *department_choices(departments)]
        Form.department = SelectField(
            _("Department"),
            choices=choices,
            validators=[DataRequired(message=_("Choose your department from the list."))],
        )
    if followup is not None:
        choices = [SelectChoice(str(v), instrument.scale[lang][v - 1]) for v in range(1, 6)]
        choices.append(SelectChoice(NA, na_label))
        Form.followup = ChoiceField(followup, choices=choices, validators=[Optional()], invalid_message=answer_error)
    if instrument.enps is not None:
        Form.enps = ChoiceField(
            instrument.enps.text[lang],
            choices=[SelectChoice(str(v)) for v in range(11)],
            validators=[Optional()],
            invalid_message=_("Choose 0 to 10, or leave it blank."),
        )
    if instrument.comment is not None:
        Form.comment = TextAreaField(
            instrument.comment.text[lang],
            filters=[lf_newlines],
            validators=[
                Optional(),
                Length(
                    max=max_comment,
                    message=_(
                        "The comment can have at most %(n)s characters. Please shorten it.", n=number(max_comment)
                    ),
                ),
            ],
        )
    return Form(**kwargs)
