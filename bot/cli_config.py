"""`incidentbot config check`: a table for people, `--json` for CI; exit 1 when a check failed
(warnings alone exit 0)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import err
from bot.settings import Settings

config_app = typer.Typer(help="This deployment's settings.", no_args_is_help=True)

MARKS = {"ok": "[green]✓[/green]", "warning": "[yellow]![/yellow]", "failed": "[red]✗[/red]"}


@config_app.command("check")
def config_check(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the checks as a JSON list (name, ok, level, detail, fix)."
        ),
    ] = False,
) -> None:
    """Check settings, catalog, playbooks, templates, the database and every integration:
    will the first incident work?"""
    from rich.table import Table

    from bot.checks import Level, run_checks

    settings = Settings()  # invalid settings: one line each with the fix, exit 2 (cli_errors)
    checks = run_checks(settings)
    failed = [c.name for c in checks if c.level is Level.FAILED]
    if as_json:
        print(json.dumps([c.as_json() for c in checks], indent=2))
    else:
        table = Table(title="incidentbot config check")
        for column in ("", "check", "result", "fix"):
            table.add_column(column)
        for check in checks:
            table.add_row(MARKS[check.level], check.name, escape(check.detail), escape(check.fix))
        Console(width=160).print(table)
        sys.stdout.flush()  # the table before the summary on stderr
        warned = [c.name for c in checks if c.level is Level.WARNING]
        if warned:
            err.print(f"[yellow]{len(warned)} warning(s):[/yellow] {', '.join(warned)}")
    if failed:
        err.print(f"[red]{len(failed)} check(s) failed:[/red] {', '.join(failed)}")
        raise typer.Exit(1)
