"""`incidentbot outbox`: see what is waiting for Slack, PagerDuty or Jira, and send again what was
given up once the cause is fixed (a missing scope, a revoked token, an archived channel)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_common import database, err, settings
from bot.store import outbox_admin

outbox_app = typer.Typer(
    help="Effects waiting for, or given up on, Slack, PagerDuty and Jira.", no_args_is_help=True
)

Incident = Annotated[int | None, typer.Option("--incident", help="Only this incident's effects.")]


@outbox_app.command("list")
def outbox_list(
    incident: Incident = None,
    given_up: Annotated[
        bool, typer.Option("--given-up", help="The given-up effects instead of the waiting ones.")
    ] = False,
) -> None:
    """Effects still waiting (retrying) or, with --given-up, abandoned after their last attempt."""
    db = database(settings())
    with db.read() as session:
        rows = outbox_admin.listing(session=session, given_up=given_up, incident_id=incident)
    if not rows:
        print("Nothing given up." if given_up else "Nothing waiting: every effect has landed.")
        return
    table = Table(
        "id", "incident", "effect", "attempts", "next try" if not given_up else "at", "error"
    )
    for row in rows:
        when = row.done_at if given_up else row.next_attempt_at
        table.add_row(
            str(row.id),
            str(row.incident_id or "—"),
            row.kind,
            str(row.attempts),
            f"{when:%Y-%m-%d %H:%M:%S}" if when else "—",
            (row.last_error or "")[:80],
        )
    Console().print(table)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Effect ids (from `outbox list`).")
    ] = None,
    incident: Incident = None,
    all_given_up: Annotated[bool, typer.Option("--all", help="Every given-up effect.")] = False,
) -> None:
    """Send given-up effects again (the scheduler or `serve` delivers them within seconds).
    Retries look before they act, so what did land is not doubled."""
    if not ids and incident is None and not all_given_up:
        err.print(
            "Say which: effect ids, --incident ID, or --all (see `incidentbot outbox list --given-up`)."
        )
        raise typer.Exit(2)
    db = database(settings())
    with db.transaction() as session:
        chosen = [
            r.id
            for r in outbox_admin.listing(
                session=session, given_up=True, incident_id=incident, limit=100_000
            )
            if r.id is not None and (not ids or r.id in ids)
        ]
        revived = outbox_admin.revive(session=session, now=datetime.now(UTC), ids=chosen)
    missing = sorted(set(ids or []) - set(chosen))
    if missing:
        err.print(f"[yellow]Not given up (or not found): {', '.join(map(str, missing))}[/yellow]")
    print(f"{revived} effect(s) back in line.")
