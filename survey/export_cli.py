"""The `export` command: raw responses for HR, as CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from . import export, surveys
from .db import get_db


@click.command("export")
@click.argument("slug")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.csv or .xlsx"
)
@with_appcontext
def export_command(slug: str, output: Path) -> None:
    """Export survey SLUG's responses (one row each) to a CSV or XLSX file."""
    survey = surveys.get_survey(get_db(), slug)
    if survey is None:
        raise click.ClickException(f"There is no survey '{slug}'.")
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.ClickException(f"{output}: name the file .csv or .xlsx.")
    header, rows = export.export_rows(get_db(), survey)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        output.write_text(export.to_csv(header, rows), encoding="utf-8", newline="")
    else:
        output.write_bytes(export.to_xlsx(header, rows))
    how = "left out" if survey.small_groups == "omit" else "merged into one 'other' group"
    click.echo(f"Wrote {len(rows)} responses to {output} (departments below the threshold {how}).")
