"""The `incidentbot` command."""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import database as _database, err, settings as _settings
from bot.cli_config import config_app
from bot.cli_errors import ExplainedErrors
from bot.cli_outbox import outbox_app
from bot.cli_processes import scheduler_command, serve
from bot.cli_sandbox import demo, emulators, sandbox
from bot.cli_slack import slack_app
from bot.core.metrics import DEFINITIONS, Metric, Summary, humanize
from bot.preflight import check_credentials
from bot.store.db import Database
from bot.web.wording import said

app = typer.Typer(
    help="incidentbot: incident response in Slack.",
    no_args_is_help=True,
    add_completion=False,
    cls=ExplainedErrors,  # a configuration error ends any command with its fix, exit 2
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
playbooks_app = typer.Typer(help="Runbook playbooks (playbooks/*.yaml).", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(config_app, name="config")
app.add_typer(outbox_app, name="outbox")
app.add_typer(slack_app, name="slack")


app.command()(serve)
app.command("scheduler")(scheduler_command)
for _command in (sandbox, emulators, demo):
    app.command()(_command)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the schema (DATABASE_URL)."""
    settings = _settings()
    db = Database(settings.database_url)
    before = db.current_revision()
    db.upgrade(revision)
    after = db.current_revision()
    Console().print(f"Database {_redact(settings.database_url)}: {before or 'empty'} → {after}")


@playbooks_app.command("lint")
def playbooks_lint(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of playbook YAML files (default: PLAYBOOKS_DIR, or the shipped ones)."
        ),
    ] = None,
) -> None:
    """Check every playbook against the schema and the catalog; print each problem as file:line."""
    from bot.playbook_files import lint, load_directory

    settings = _settings()
    catalog = settings.catalog()
    directory = directory or settings.playbooks_dir
    problems = lint(directory, catalog)
    for problem in problems:
        print(problem)
    if problems:
        err.print(f"[red]{len(problems)} problem(s) in {directory}[/red]")
        raise typer.Exit(1)
    count = len(load_directory(directory, catalog).playbooks)
    Console().print(f"{count} playbooks OK in {directory}")


@app.command()
def drill(
    playbook: Annotated[str, typer.Argument(help="The playbook to practise (playbooks/*.yaml).")],
    page: Annotated[
        bool, typer.Option("--page", help="Really page the on-call through PagerDuty.")
    ] = False,
) -> None:
    """Start a game day: a drill-… channel with the playbook's checklist, its alerts and the
    on-call's acknowledgement simulated (the scheduler fires them), a report when it resolves."""
    from bot import wiring

    settings = _settings()
    settings.configure_logging()
    db = _database(settings)
    check_credentials(settings)
    bot = wiring.build(settings, db=db)
    try:
        outcome = bot.flows.start_drill(name=playbook, actor=None, request_key=None, page=page)
        if not outcome.ok:
            err.print(f"[red]{escape(said(outcome.message))}[/red]")
            raise typer.Exit(1)
        incident = bot.flows.incident(outcome.incident_id or 0)
        where = (
            f" in #{incident.conversation_name}" if incident and incident.conversation_name else ""
        )
        Console().print(escape(f"{said(outcome.message)}{where}"))
    finally:
        bot.close()


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


@app.command()
def report(
    since: Annotated[
        str | None,
        typer.Option(
            help="From this day (YYYY-MM-DD, UTC) or instant (ISO-8601 with offset), included."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Up to this day, included (YYYY-MM-DD), or this instant, excluded."),
    ] = None,
    severity: Annotated[str | None, typer.Option(help="Only this severity, e.g. SEV2.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="table, json or csv.")
    ] = ReportFormat.TABLE,
) -> None:
    """MTTD / MTTA / MTTM / MTTR: count, mean, median and p90 over the incidents that count
    (not drills, not declined or merged), placed in the period by their declaration."""
    from bot.store.reports import FilterError, metrics_json, mttx_report, parse_filters

    settings = _settings()
    try:
        filters = parse_filters(
            settings.catalog(), since=since, until=until, severity=severity, service=service
        )
    except FilterError as exc:
        err.print(f"Bad filter: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    db = _database(settings)
    try:
        with db.read() as session:
            summaries = mttx_report(
                session=session,
                since=filters.since,
                until=filters.until,
                severity=filters.severity,
                service=filters.service,
            )
    finally:
        db.dispose()
    if output is ReportFormat.JSON:
        print(json.dumps(metrics_json(summaries)))
    elif output is ReportFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["metric", "count", "missing", "mean_s", "median_s", "p90_s"])
        for metric, summary in summaries.items():
            writer.writerow(
                [
                    metric.value,
                    summary.count,
                    summary.missing,
                    *("" if v is None else repr(v) for v in _figures(summary)),
                ]
            )
    else:
        _print_report_table(summaries, filters.describe())


def _figures(summary: Summary) -> tuple[float | None, float | None, float | None]:
    return summary.mean_s, summary.median_s, summary.p90_s


def _print_report_table(summaries: dict[Metric, Summary], scope: str) -> None:
    from rich.table import Table

    table = Table(
        title=f"Incident response times — {scope}",
        caption=(
            "Drills, declined and merged incidents are left out. An incident missing a "
            "milestone is left out of that metric only (missing). Period: declaration time."
        ),
    )
    table.add_column("Metric")
    table.add_column("Definition")
    for name in ("Incidents", "Missing", "Mean", "Median", "p90"):
        table.add_column(name, justify="right")
    for metric, summary in summaries.items():
        table.add_row(
            metric.value.upper(),
            DEFINITIONS[metric][2],
            str(summary.count),
            str(summary.missing),
            *(humanize(None if v is None else timedelta(seconds=v)) for v in _figures(summary)),
        )
    Console().print(table)


@app.command("import")
def import_incidents(
    file: Annotated[
        Path,
        typer.Argument(
            help="Past incidents: a JSON array or JSON lines.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Backfill past incidents (external_id, title, severity, service, status, drill and the
    milestones as ISO-8601 with an offset). All or nothing; importing again changes nothing."""
    from bot.flows.imports import ImportFlows
    from bot.flows.ports import SystemClock

    settings = _settings()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        err.print(f"{file}: not UTF-8 text ({exc})", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    db = _database(settings)
    try:
        outcome = ImportFlows(db, settings.catalog(), SystemClock()).import_text(
            text, origin=f"file {file.name}"
        )
    finally:
        db.dispose()
    if not outcome.ok:
        for error in outcome.errors:
            print(f"row {error.index}: {error.reason}", file=sys.stderr)
        rows = len({e.index for e in outcome.errors})
        print(f"Nothing imported: {rows} row(s) rejected in {file}.", file=sys.stderr)
        raise typer.Exit(1)
    print(f"Imported {outcome.imported} incident(s); {outcome.skipped} already present.")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Every command: a configuration or environment error is a message and exit 2 (cli_errors)."""
    from bot.cli_errors import run

    run(app)
