"""Flask commands for action plans: `actions remind` e-mails owners of actions due within a week or overdue."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from .. import reminders
from ..db import get_db
from ..invitations import mailings, smtp
from . import bp

actions_cli = AppGroup("actions", help="Action plans: remind the owners of actions that are due.")
bp.cli.add_command(actions_cli)


def _day(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise click.BadParameter("write the date as YYYY-MM-DD") from exc


@actions_cli.command("remind")
@click.option("--today", "day", callback=_day, help="Count due dates from this day (YYYY-MM-DD) instead of today.")
def remind_command(day: str | None) -> None:
    """E-mail each owner (with an e-mail) of actions due within a week or overdue, at most once a day.

    Safe to run from cron as often as you like: an owner reminded today is skipped, and a run that
    was interrupted resumes where it stopped.
    """
    try:
        settings = mailings.smtp_settings()
        if settings is None:
            raise click.ClickException("E-mail is not set up: set FLASK_SMTP_HOST and FLASK_SMTP_SENDER.")
        report = reminders.send_reminders(get_db(), settings, day)
    except (smtp.MailConfigError, smtp.TemporaryMailError) as exc:
        raise click.ClickException(str(exc)) from exc
    for address, reason in report.refused:
        click.echo(f"not delivered to {address}: {reason}", err=True)
    click.echo(
        f"Sent {report.sent} reminder(s) about {report.actions} action(s); "
        f"{report.skipped} owner(s) already reminded today; {len(report.refused)} refused."
    )
    if report.stopped:
        raise click.ClickException(f"Stopped: {report.stopped} Run the command again to continue.")
