"""Commands for accounts: `users create|disable|enable|set-password|list`, `tokens create|list|revoke`."""

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


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True, help="hr or facilitator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password (15 characters or more, not a common one) is asked for, or read from stdin."""
    password = _read_password(password_stdin)
    try:
        accounts.create_user(get_db(), email, password, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} user {email}.")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Give a user a new password; every session of the account ends."""
    password = _read_password(password_stdin)
    try:
        accounts.set_password(get_db(), email, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New password set for {email}; its sessions have ended.")


@users_cli.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """Disable a user at once: no more sign-in, every session ended, every API token it owns revoked."""
    try:
        ended = accounts.disable_user(get_db(), email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Disabled {email}: {ended['sessions']} session(s) ended, {ended['tokens']} API token(s) revoked.")


@users_cli.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """Let a disabled user sign in again (revoked tokens stay revoked)."""
    try:
        accounts.enable_user(get_db(), email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Enabled {email}.")


@users_cli.command("list")
def list_users() -> None:
    """List the accounts: e-mail, role, created, disabled, single sign-on."""
    click.echo(f"{'email':40} {'role':12} {'created':10} {'disabled':10} sso")
    for user in accounts.list_users(get_db()):
        sso = "yes" if user["sso"] else "no"
        disabled = user["disabled_on"] or "-"
        click.echo(f"{user['email']:40} {user['role']:12} {user['created_on']:10} {disabled:10} {sso}")


@tokens_cli.command("create")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True, help="hr or facilitator.")
@click.option("--label", default=None, help="A note on what the token is for.")
@click.option("--owner", default=None, help="E-mail of the account the token belongs to (disabling it revokes it).")
def create_token(role: str, label: str | None, owner: str | None) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    try:
        token = accounts.create_token(get_db(), role, label, owner)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New {role} API token (shown once; store it safely; only its hash is kept):")
    click.echo(token)


@tokens_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list revoked tokens.")
def list_tokens(show_all: bool) -> None:
    """List API tokens (never the tokens themselves): id, role, label, owner, created, last used."""
    rows = accounts.list_tokens(get_db(), include_revoked=show_all)
    if not rows:
        click.echo("No API tokens." if show_all else "No active API tokens.")
        return
    header = f"{'id':>5}  {'role':12} {'created':10} {'last used':10} {'owner':30} label"
    click.echo(header + ("  (revoked)" if show_all else ""))
    for row in rows:
        line = (
            f"{row['id']:>5}  {row['role']:12} {row['created_on']:10} {row['last_used_on'] or 'never':10} "
            f"{row['owner'] or '-':30} {row['label'] or ''}"
        )
        if row["revoked_on"]:
            line += f"  (revoked {row['revoked_on']})"
        click.echo(line)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke the API token with this id (see `tokens list`); it stops working at once."""
    if not accounts.revoke_token(get_db(), token_id):
        raise click.ClickException(f"There is no active API token #{token_id} (see `tokens list --all`).")
    click.echo(f"Revoked API token #{token_id}.")
