"""Commands for accounts: `users create`, `tokens create`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from .. import accounts
from ..db import get_db
from . import bp

users_cli = AppGroup("users", help="Manage HR and facilitator accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")
bp.cli.add_command(users_cli)
bp.cli.add_command(tokens_cli)


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
