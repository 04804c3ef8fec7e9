"""Flask commands: users, tokens, demo (init-db lives in db.py)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import accounts, demo, invitation_cli, surveys
from .db import get_db, write_transaction

users_cli = AppGroup("users", help="Manage HR and facilitator accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True, help="hr or facilitator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_user(get_db(), email, password, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} user {email}.")


@tokens_cli.command("create")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True, help="hr or facilitator.")
@click.option("--label", default=None, help="A note on what the token is for.")
def create_token(role: str, label: str | None) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    token = accounts.create_token(get_db(), role, label)
    click.echo(f"New {role} API token (shown once; store it safely; only its hash is kept):")
    click.echo(token)


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


@click.command("demo")
@with_appcontext
@click.option("--responses", "n", type=click.IntRange(0, 1_000_000), default=300, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--language", type=click.Choice(["nb", "en"]), default="nb", show_default=True)
@click.option("--replace", is_flag=True, help="Delete an existing demo survey first.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database has any survey.")
@click.option(
    "--rounds",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="2 adds an earlier round, 'demo-previous', so that the comparison shows a trend.",
)
def demo_command(n: int, seed: int, language: str, replace: bool, if_empty: bool, rounds: int) -> None:
    """Create survey 'demo' with 12 departments and N synthetic responses."""
    db = get_db()
    slugs = ["demo-previous", "demo"] if rounds == 2 else ["demo"]
    existing = [s for s in (surveys.get_survey(db, slug) for slug in ("demo", "demo-previous")) if s]
    if if_empty and db["surveys"].count:
        click.echo("The database has surveys already; no demo data added.")
    else:
        if existing and not replace:
            raise click.ClickException("Survey 'demo' exists already; add --replace to recreate it.")
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
            if earlier:
                demo.backdate(db, survey, days=365)
            click.echo(f"Created survey '{slug}' with {n:,} responses: /s/{slug} and /admin/surveys/{slug}")
    for line in ensure_demo_users():
        click.echo("Demo login: " + line)
    path = demo_credentials_path()
    if path.exists():
        click.echo(f"Demo logins are in {path}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_command)
    invitation_cli.init_app(app)
    from .backup_cli import backup_command
    from .export_cli import export_command
    from .report_cli import report_command

    app.cli.add_command(report_command)
    app.cli.add_command(export_command)
    app.cli.add_command(backup_command)
