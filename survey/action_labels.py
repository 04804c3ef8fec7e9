"""The names of an action's themes and statuses as people read them (gettext msgids, translated per request)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

THEMES = {
    "goals": _l("Goals and stakeholders"),
    "roles": _l("Roles"),
    "means": _l("Means"),
    "follow_up": _l("Follow-up"),
    "anchoring": _l("Anchoring"),
    "freedom": _l("Freedom with direction"),
}
STATUSES = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "dropped": _l("Dropped"),
}
HIDDEN = {
    "too_few": _l("hidden: too few answers"),
    "complementary": _l("hidden to protect a smaller group"),
    "few_invited": _l("hidden: too few invited"),
    "level_hidden": _l("hidden with its level"),
}


def hidden_reason(reason: str | None) -> str:
    """Return why a figure is hidden, in words."""
    return str(HIDDEN.get(reason or "", _l("hidden")))
