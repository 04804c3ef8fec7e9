"""Flask commands for invitations: import a list, send invitations and reminders, export links, show the rate."""

from __future__ import annotations

import csv
import sys

import click
from flask.cli import AppGroup

from .. import privacy, rates
from ..db import get_db
from ..invitations import import_invitations, mailings, smtp
from . import bp, survey_or_fail

invitations_cli = AppGroup("invitations", help="Send invitations and reminders, export links, show the response rate.")
bp.cli.add_command(invitations_cli)


@bp.cli.command("invite")
@click.argument("slug")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Only check the file; import nothing.")
def invite_command(slug: str, file, dry_run: bool) -> None:
    """Import invitations from FILE.csv (e-mail, department code[, language]) into survey SLUG."""
    survey = survey_or_fail(slug)
    report = import_invitations(get_db(), survey, file.read(), dry_run=dry_run)
    for line, message in report.duplicates:
        click.echo(f"line {line}: {message}")
    if report.errors:
        for line, message in report.errors:
            click.echo(f"line {line}: {message}", err=True)
        n = len(report.errors)
        raise click.ClickException(f"Nothing imported: {n} line{'s' if n != 1 else ''} must be fixed first.")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {len(report.rows)} invitation(s); {len(report.duplicates)} duplicate(s) skipped.")


def _send(slug: str, kind: str, retry_unconfirmed: bool = False) -> None:
    survey = survey_or_fail(slug)
    try:
        settings = mailings.smtp_settings()
        if settings is None:
            raise click.ClickException(
                "E-mail is not set up: set FLASK_SMTP_HOST (and FLASK_SMTP_SENDER), "
                f"or use `invitations export {slug} -o links.csv` for your own mail tool."
            )
        report = mailings.send_batch(get_db(), survey, kind, settings, retry_unconfirmed=retry_unconfirmed)
    except (mailings.MailingError, smtp.MailConfigError, smtp.TemporaryMailError) as exc:
        raise click.ClickException(str(exc)) from exc
    for address, reason in report.refused:
        click.echo(f"not delivered to {address}: {reason}", err=True)
    what = {"invitation": "invitation(s)", "reminder": "reminder(s)", "nudge": "reminder(s) to those not answered yet"}
    click.echo(f"Sent {report.sent} {what[kind]}; {len(report.refused)} refused; {report.remaining} still to send.")
    if report.unconfirmed:
        click.echo(
            f"{report.unconfirmed} message(s) broke off while being handed over and may not have arrived; "
            "add --retry-unconfirmed to send them again.",
            err=True,
        )
    if report.stopped:
        raise click.ClickException(f"Stopped: {report.stopped} Run the command again to continue.")


@invitations_cli.command("send")
@click.argument("slug")
@click.option("--retry-unconfirmed", is_flag=True, help="Also resend messages whose delivery was interrupted.")
def send_command(slug: str, retry_unconfirmed: bool) -> None:
    """E-mail the invitations not sent yet (an interrupted batch resumes; nobody is mailed twice)."""
    _send(slug, "invitation", retry_unconfirmed)


@invitations_cli.command("remind")
@click.argument("slug")
@click.option("--retry-unconfirmed", is_flag=True, help="Also resend reminders whose delivery was interrupted.")
@click.option(
    "--unanswered",
    is_flag=True,
    help="Only those who have not answered (the mail server's log will show who got one).",
)
def remind_command(slug: str, retry_unconfirmed: bool, unanswered: bool) -> None:
    """E-mail a reminder to everyone invited, worded for both (or, with --unanswered, only to non-responders)."""
    _send(slug, "nudge" if unanswered else "reminder", retry_unconfirmed)


@invitations_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), required=True, help="CSV file to write.")
@click.option("--reminders", is_flag=True, help="Links for a reminder to everyone invited, instead of new invitations.")
def export_command(slug: str, output, reminders: bool) -> None:
    """Write fresh personal links (email, department, language, link) to a CSV file for your own mail tool."""
    survey = survey_or_fail(slug)
    kind = "reminder" if reminders else "invitation"
    try:
        rows = mailings.export_links(get_db(), survey, kind)
    except mailings.MailingError as exc:
        raise click.ClickException(str(exc)) from exc
    writer = csv.DictWriter(output, fieldnames=["email", "department", "language", "link"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    name = getattr(output, "name", "the file")
    click.echo(f"Wrote {len(rows)} link(s) to {name}; they count as sent.", err=output is sys.stdout)


@invitations_cli.command("rate")
@click.argument("slug")
def rate_command(slug: str) -> None:
    """Show the response rate, overall and per department (groups below the threshold show no count)."""
    survey = survey_or_fail(slug)
    result = rates.response_rates(get_db(), survey)
    k = privacy.effective_k(survey.min_group_size)

    def pct(value: float | None) -> str:
        return f"{100 * value:.0f} %" if value is not None else "–"

    click.echo(f"{'department':24} {'invited':>8} {'base':>6} {'answers':>9} {'rate':>6}")
    for row in result["departments"]:
        count = row["responses"]
        shown = str(count) if count is not None else (f"< {k}" if row["hidden"] == "too_few" else "hidden")
        if row["over"]:
            shown += "!"  # more answers than people: a warning, never a rate above 100 %
        base = str(row["base"]) if row["base"] else "–"
        click.echo(f"{row['department'].code:24} {row['invited']:>8} {base:>6} {shown:>9} {pct(row['rate']):>6}")
    base = str(result["base"]) if result["base"] else "–"
    total = str(result["responses"]) if result["responses"] is not None else f"< {k}"
    click.echo(f"{'all':24} {result['invited']:>8} {base:>6} {total:>9} {pct(result['rate']):>6}")
