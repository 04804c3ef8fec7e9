"""Flask commands (`flask --app app ...`): one blueprint carries them all, registered by the factory."""

from __future__ import annotations

import click
from flask import Blueprint

from ..db import get_db
from ..surveys import Survey, get_survey

bp = Blueprint("cli", __name__, cli_group=None)


def survey_or_fail(slug: str) -> Survey:
    """Return the survey with this slug, or stop the command with a message naming it."""
    survey = get_survey(get_db(), slug)
    if survey is None:
        raise click.ClickException(f"There is no survey '{slug}'.")
    return survey


# Importing the modules adds their commands to bp.
from . import accounts, actions, database, invitations, retention, surveys  # noqa: E402,F401
