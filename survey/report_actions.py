"""The organisation's PDF report gains the action plan and "since last time", rendered in the report's language."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlite_utils import Database

from . import action_labels, actions, followup
from .surveys import Survey


def action_section(db: Database, survey: Survey, lang: str) -> str:
    """Return the report's sections on the action plan and on the previous round's actions (HTML, autoescaped)."""
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
    return html
