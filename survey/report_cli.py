"""The `report` command: write a survey's PDF report."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from . import report, surveys
from .db import get_db


@click.command("report")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="PDF file to write.")
@click.option("--department", default=None, help="Department code: that department against the organisation.")
@click.option("--lang", type=click.Choice(["nb", "en"]), default=None, help="Language (default: the survey's).")
@click.option("--no-comments", is_flag=True, help="Leave the comments out (e.g. for a wider audience).")
@with_appcontext
def report_command(slug: str, output: Path | None, department: str | None, lang: str | None, no_comments: bool):
    """Write the PDF report of survey SLUG (to reports/ unless -o is given)."""
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        raise click.ClickException(f"There is no survey '{slug}'.")
    try:
        pdf = report.make_report(get_db(), survey, lang, department, with_comments=not no_comments)
    except report.ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    if output is None:
        path = report.save_report(pdf, report.report_filename(survey, lang or survey.language, department))
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(pdf)
        path = output
    click.echo(f"Wrote {path} ({len(pdf) / 1024:.0f} KB)")
