"""Commands for erasure: `delete SLUG --yes` and `purge` (cron-friendly retention)."""

from __future__ import annotations

import click
from flask import current_app

from .. import audit, retention
from ..db import get_db
from . import bp, survey_or_fail


@bp.cli.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm: the survey and everything derived from it are erased for good.")
def delete_command(slug: str, yes: bool) -> None:
    """Delete survey SLUG and everything derived from it (answers, comments, invitations, reports), irrevocably."""
    survey = survey_or_fail(slug)
    db = get_db()
    if not yes:
        lost = retention.loss(db, survey)
        raise click.ClickException(
            f"This would erase '{slug}' for good: {lost.responses} responses, {lost.comments} comments, "
            f"{lost.invitations} invitations ({lost.emails} with an e-mail address), {lost.departments} departments "
            f"and {lost.report_files} report file(s). Add --yes to delete it."
        )
    lost = retention.delete_survey(db, survey)
    click.echo(
        f"Deleted '{slug}': {lost.responses} responses, {lost.comments} comments, {lost.invitations} invitations, "
        f"{lost.report_files} report file(s). The database file was rebuilt."
    )


@bp.cli.command("purge")
def purge_command() -> None:
    """Erase what is past its retention period (invitation e-mails, comments, audit entries); safe to run from cron."""
    done = retention.purge(get_db(), current_app._get_current_object(), actor=audit.COMMAND_LINE)
    config = current_app.config
    click.echo(
        f"Erased {done['emails']} invitation e-mail address(es) (kept {config['INVITATION_RETENTION_DAYS']} days "
        f"after closing), {done['comments']} comment(s), {done['audit']} audit entries."
    )
