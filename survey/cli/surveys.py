"""Commands for surveys: `demo`, `report`, `export`."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import current_app

from .. import accounts, audit, demo, demo_actions, export, report, surveys
from ..db import get_db, write_transaction
from ..errors import AppError
from ..questionnaire import LANGUAGES
from . import bp, survey_or_fail


def demo_credentials_path() -> Path:
    """Return where the demo logins are written (instance folder, owner-only)."""
    return Path(current_app.instance_path) / "demo-login.txt"


def ensure_demo_users() -> list[str]:
    """Create demo HR and facilitator accounts with random passwords if there are no users yet."""
    db = get_db()
    if accounts.count_users(db):
        return []
    lines = []
    for email, role in (("hr@demo.example", "hr"), ("facilitator@demo.example", "facilitator")):
        password = secrets.token_urlsafe(12)
        accounts.create_user(db, email, password, role)
        lines.append(f"{role:12} {email}  password: {password}")
    path = demo_credentials_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines


DEMO_SLUGS = ("demo", "demo-previous", "demo-open")


@bp.cli.command("demo")
@click.option("--responses", "n", type=click.IntRange(0, 1_000_000), default=300, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--language", type=click.Choice(LANGUAGES), default="nb", show_default=True)
@click.option("--replace", is_flag=True, help="Delete the existing demo surveys first.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database has any survey.")
@click.option(
    "--rounds",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="2 adds an earlier round, 'demo-previous', so that the comparison shows a trend.",
)
@click.option(
    "--units",
    type=click.IntRange(0, 5000),
    default=0,
    help="Spread the answers over a hierarchy of this many units (divisions, departments, teams) instead of "
    "the 12 departments.",
)
def demo_command(n: int, seed: int, language: str, replace: bool, if_empty: bool, rounds: int, units: int) -> None:
    """Create the closed survey 'demo' (12 departments, N synthetic responses) and the open 'demo-open' to try."""
    if 0 < units < 3:
        raise click.BadParameter(
            "a hierarchy needs at least 3 units (or 0 for the 12 departments)", param_hint="--units"
        )
    db = get_db()
    slugs = ["demo-previous", "demo"] if rounds == 2 else ["demo"]
    existing = [s for s in (surveys.get_survey(db, slug) for slug in DEMO_SLUGS) if s]
    if if_empty and db["surveys"].count:
        click.echo("The database has surveys already; no demo data added.")
    else:
        if existing and not replace:
            raise click.ClickException("The demo surveys exist already; add --replace to recreate them.")
        with write_transaction(db):
            for old in existing:
                db.execute("DELETE FROM surveys WHERE id = ?", [old.id])
        inst = current_app.extensions["instrument"]
        for n_round, slug in enumerate(slugs):
            earlier = slug == "demo-previous"
            label = f"Writing {n:,} demo responses ({slug})"
            with click.progressbar(length=n, label=label, file=sys.stderr) as bar:
                survey = demo.generate(
                    db,
                    inst,
                    n,
                    seed + n_round,
                    language,
                    slug=slug,
                    progress=bar.update,
                    previous="demo-previous" if rounds == 2 and not earlier else None,
                    # The earlier round was a little less engaged, so the trend shows progress.
                    shift=-0.2 if earlier else 0.0,
                    title=demo.previous_title(language) if earlier else None,
                )
            if units:
                demo.spread_over_units(db, survey, units, seed)
            # The demo rounds are closed, so that their results are there at once (results of an
            # open survey are never shown).
            surveys.close(db, survey)
            if earlier:
                demo.backdate(db, survey, days=365)
                demo_actions.add_plan(db, survey)  # what the next round follows up
            click.echo(f"Created closed survey '{slug}' with {n:,} responses: /admin/surveys/{slug}")
        trial = demo.open_survey(db, inst, language)
        click.echo(f"Created open survey '{trial.slug}' to try the questionnaire: /s/{trial.slug}")
    for line in ensure_demo_users():
        click.echo("Demo login: " + line)
    path = demo_credentials_path()
    if path.exists():
        click.echo(f"Demo logins are in {path}")


@bp.cli.command("report")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="PDF file to write.")
@click.option("--department", default=None, help="Department code: that department against the organisation.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Language (default: the survey's).")
@click.option("--no-comments", is_flag=True, help="Leave the comments out (e.g. for a wider audience).")
def report_command(slug: str, output: Path | None, department: str | None, lang: str | None, no_comments: bool):
    """Write the PDF report of survey SLUG (to reports/ unless -o is given)."""
    survey = survey_or_fail(slug)
    try:
        pdf = report.make_report(get_db(), survey, lang, department, with_comments=not no_comments)
    except AppError as exc:
        raise click.ClickException(exc.error) from exc
    if output is None:
        path = report.save_report(pdf, report.report_filename(survey, lang or survey.language, department))
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        path = report.write_private(output, pdf)
    options = {"department": department, "lang": lang}
    detail = ", ".join(f"{name}={value}" for name, value in options.items() if value)
    audit.record(get_db(), "report-downloaded", slug, detail or None)
    click.echo(f"Wrote {path} ({len(pdf) / 1024:.0f} KB)")


@bp.cli.command("export")
@click.argument("slug")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.csv or .xlsx"
)
def export_command(slug: str, output: Path) -> None:
    """Export survey SLUG's responses (one row each) to a CSV or XLSX file."""
    survey = survey_or_fail(slug)
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.ClickException(f"{output}: name the file .csv or .xlsx.")
    try:
        header, rows = export.export_rows(get_db(), survey)
        comments = export.export_comments(get_db(), survey) if survey.instrument.comment else None
    except AppError as exc:
        raise click.ClickException(exc.error) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    audit.record(get_db(), "export-downloaded", slug, f"fmt={suffix.lstrip('.')}")
    how = "left out" if survey.small_groups == "omit" else "merged into one 'other' group"
    if suffix == ".csv":
        # In the survey's language, with its spreadsheets' list separator.
        csv_text = export.to_csv(header, rows, export.list_separator(survey.language))
        report.write_private(output, csv_text.encode("utf-8"))
        click.echo(f"Wrote {len(rows)} responses to {output} (departments below the threshold {how}).")
        if comments is not None:
            # Comments never sit next to the answers they came with: a file of their own.
            notes = output.with_name(f"{output.stem}-comments.csv")
            report.write_private(notes, export.comments_csv(comments, survey.language).encode("utf-8"))
            click.echo(
                f"Wrote {len(comments)} comments to {notes} (only from groups of at least "
                f"{survey.comment_min_group_size}, in random order)."
            )
    else:
        notes = export.column_notes(survey, survey.language)
        report.write_private(output, export.to_xlsx(header, rows, comments, survey.language, notes))
        click.echo(f"Wrote {len(rows)} responses to {output} (departments below the threshold {how}).")
