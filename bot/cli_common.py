"""What the `incidentbot` subcommands share: settings and database, with messages that say the fix."""

from __future__ import annotations

import typer
from rich.console import Console

from bot.settings import Settings
from bot.store.db import Database, SchemaOutOfDate

err = Console(stderr=True)


def settings() -> Settings:
    """The settings and a catalog that loads; what is wrong with them is told by
    bot.cli_errors (the setting, what is wrong, the fix; exit 2)."""
    loaded = Settings()
    loaded.catalog()
    return loaded


def database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    try:
        db.require_current_schema()
    except SchemaOutOfDate as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return db
