"""Demo data for the workshop: an action plan on the earlier demo round, so that "since last time" has content."""

from __future__ import annotations

from sqlite_utils import Database

from . import actions, surveys
from .schemas import ActionIn

# (level, band of the advice, department index or None, status, owner): a plausible year of follow-up.
PLAN = (
    ("following", "medium", None, "done", "HR"),
    ("endorsing", "medium", None, "done", "Communications"),
    ("owning", "low", 0, "in_progress", "Head of department"),
    ("leading", "low", 1, "dropped", "Management team"),
)


def add_plan(db: Database, survey: surveys.Survey) -> int:
    """Add the demo action plan to a survey (titles from the questionnaire's advice); return how many."""
    lang = survey.language if survey.language in ("nb", "nn", "en") else "en"
    depts = surveys.departments(db, survey)
    for level_id, band, dept_index, status, owner in PLAN:
        level = survey.instrument.level(level_id)
        advice = level.recommendations[band].actions[0]
        body = ActionIn.model_validate(
            {
                "level": level_id,
                "theme": advice.theme,
                "title": advice.text[lang][:300],
                "status": status,
                "owner": owner,
                **(
                    {"department": depts[dept_index].code} if dept_index is not None and dept_index < len(depts) else {}
                ),
            },
            context=actions.validation_context(db, survey),
        )
        actions.create_action(db, survey, body, "demo")
    return len(PLAN)
