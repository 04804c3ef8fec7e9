"""The organisation's PDF report gains the action plan and "since last time", rendered in the report's language."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup
from sqlite_utils import Database

from . import action_labels, actions, followup
from .surveys import Survey


def action_section(db: Database, survey: Survey, lang: str) -> Markup:
    """Return the report's sections on the action plan and the follow-up of the previous round (HTML)."""
    inst = survey.instrument
    with force_locale(lang):
        html = render_template(
            "report/_actions.html",
            survey=survey,
            plan=actions.list_actions(db, survey),
            history=actions.notes_by_action(db, survey),
            followup=followup.since_last_time(db, survey),
            levels={lv.id: lv for lv in inst.levels},
            tl=lang,
            themes=action_labels.THEMES,
            statuses=action_labels.STATUSES,
        )
    return Markup(html)  # noqa: S704 (rendered by Jinja with autoescape)
