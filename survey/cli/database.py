"""Commands for the database: `init-db` (create or migrate) and `backup` (a consistent copy)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click
from flask import current_app

from ..db import get_db, migrate
from . import bp


@bp.cli.command("init-db")
def init_db_command() -> None:
    """Create or migrate the database (safe to run again)."""
    migrate(get_db())
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


def backup_database(source: str, target: Path) -> dict[str, int]:
    """Write a rebuilt copy of the database (VACUUM INTO), owner-only, and check it; return row counts.

    VACUUM INTO writes every page anew in key order, so the copy holds no freed pages and
    nothing about the order in which rows were stored, unlike a page-by-page copy.
    """
    tmp = target.with_name(target.name + ".part")
    tmp.unlink(missing_ok=True)
    # Created empty and owner-only before SQLite fills it (VACUUM INTO accepts an empty file):
    # a backup holds every answer.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        src.execute("PRAGMA temp_store = MEMORY")
        src.execute("VACUUM INTO ?", [str(tmp)])
    finally:
        src.close()
    dst = sqlite3.connect(tmp)
    try:
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"{target}: the copy failed its integrity check ({check}).")
        counts = {
            "surveys": dst.execute("SELECT COUNT(*) FROM surveys").fetchone()[0],
            "responses": dst.execute("SELECT COUNT(*) FROM responses").fetchone()[0],
            "answers": dst.execute("SELECT COUNT(*) FROM answers").fetchone()[0],
        }
    finally:
        dst.close()
    os.replace(tmp, target)
    return counts


@bp.cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup_command(file: Path, force: bool) -> None:
    """Write a consistent copy of the database to FILE (safe while the app is serving)."""
    database = current_app.config["DATABASE"]
    if not Path(database).exists():
        raise click.ClickException(f"{database}: there is no database to back up (run init-db first).")
    if file.exists() and not force:
        raise click.ClickException(f"{file}: exists already; add --force to overwrite it.")
    if file.resolve() == Path(database).resolve():
        raise click.ClickException(f"{file}: that is the live database itself.")
    file.parent.mkdir(parents=True, exist_ok=True)
    counts = backup_database(database, file)
    click.echo(
        f"Backed up {database} to {file}: {counts['surveys']} surveys, {counts['responses']:,} responses, "
        f"{counts['answers']:,} answers. Integrity check: ok."
    )
