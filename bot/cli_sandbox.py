"""`incidentbot sandbox`, `incidentbot emulators` and `incidentbot demo`: the bot and its
emulated Slack, PagerDuty, Opsgenie and Jira on loopback, to try it without any account."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from bot.cli_common import err

if TYPE_CHECKING:
    from bot.sandbox import Sandbox


def sandbox(
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Slack reaches the bot over Socket Mode instead of signed HTTP."
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(help="The bot's port on 127.0.0.1 (0: any free port).", min=0, max=65535)
    ] = 0,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite database file (kept; default: a temporary one)."),
    ] = None,
) -> None:
    """Run the bot and the Slack, PagerDuty, Opsgenie and Jira emulators on loopback, until Ctrl-C.

    Seeded so everything works (users alice, bob, carol; #incidents; Jira project OPS). It prints
    the settings, the dashboard with a sign-in link, and how to act as a user:
    incidentbot slack --as alice "/incident declare Checkout is down"."""
    from bot.sandbox import Sandbox
    from bot.sandbox_run import (
        acting_lines,
        environment_block,
        serve_in_foreground,
        sign_in_lines,
    )

    if db is not None and not db.parent.is_dir():
        err.print(f"--db {db}: the directory {db.parent} does not exist.", markup=False)
        raise typer.Exit(2)
    _quiet_logs()
    with tempfile.TemporaryDirectory(prefix="incidentbot-sandbox-db-") as tmp:
        path = db if db is not None else Path(tmp) / "sandbox.db"
        sb = Sandbox(
            f"sqlite:///{path.resolve()}",
            socket_mode=socket_mode,
            port=port,
            in_process_scheduler=True,
        )
        sb.catalog_extra = {"admins": [sb.slack.user_id("alice")]}
        try:
            _start_isolated(sb)
        except OSError as exc:
            err.print(f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}): choose another --port.")
            raise typer.Exit(2) from exc
        mode = "Socket Mode" if socket_mode else "HTTP mode"
        lines = [
            f"incidentbot sandbox: the bot ({mode}) at {sb.url}, with the Slack, PagerDuty,"
            " Opsgenie and Jira emulators, all on loopback.",
            f"Database: {path}" + ("" if db else " (removed on exit; keep one with --db PATH)"),
            "",
            *environment_block(
                sb,
                [
                    "The bot's settings: in a .env file, `incidentbot serve` reads the same ones",
                    "(they point at this sandbox's emulators while it runs).",
                ],
            ),
            "",
            *sign_in_lines(sb),
            "",
            *acting_lines(sb),
            "",
        ]
        serve_in_foreground(sb, lines)


def emulators(
    bot_url: Annotated[
        str,
        typer.Option(
            help="Where your `incidentbot serve` listens: Slack's signed requests go to"
            " <bot-url>/slack/events, PagerDuty's webhooks to <bot-url>/webhooks/pagerduty,"
            " Opsgenie's to <bot-url>/webhooks/opsgenie."
        ),
    ] = "http://127.0.0.1:8080",
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode",
            help="Slack talks to the bot over Socket Mode (SLACK_APP_TOKEN, no signing secret).",
        ),
    ] = False,
) -> None:
    """Run the Slack, PagerDuty, Opsgenie and Jira emulators, without the bot, until Ctrl-C.

    It prints the settings (for .env) that make your own `incidentbot serve` use them."""
    from bot.sandbox import Sandbox
    from bot.sandbox_run import acting_lines, environment_block, serve_in_foreground

    parts = urlsplit(bot_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        err.print(f"--bot-url {bot_url}: give the bot's base URL, e.g. http://127.0.0.1:8080.")
        raise typer.Exit(2)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sb = Sandbox(
        "sqlite:///incidentbot.db",  # the default: no DATABASE_URL line
        socket_mode=socket_mode,
        with_bot=False,
        bot_url=bot_url,
    )
    sb.catalog_extra = {"admins": [sb.slack.user_id("alice")]}
    _start_isolated(sb)
    if socket_mode:
        how = [
            "Socket Mode: `serve` connects out to the Slack emulator with SLACK_APP_TOKEN; the",
            "emulator sends commands, clicks and events over that connection, none over HTTP.",
        ]
    else:
        how = [
            f"HTTP mode: the Slack emulator sends slash commands, clicks and events to {sb.url}"
            "/slack/events,",
            "signed with SLACK_SIGNING_SECRET (--bot-url says where; --socket-mode for Socket"
            " Mode).",
        ]
    lines = [
        "incidentbot emulators: Slack, PagerDuty, Opsgenie and Jira on loopback, seeded (alice,",
        f"bob and carol in all four; #{sb.feed}; Jira project OPS), for the bot at {sb.url}.",
        "",
        *environment_block(
            sb,
            [
                "Put these in .env (or export them), then in another terminal:",
                "  incidentbot db upgrade",
                f"  incidentbot serve --port {port}",
            ],
        ),
        "",
        *how,
        "",
        *acting_lines(sb),
        "",
    ]
    serve_in_foreground(sb, lines)


def demo(
    keep: Annotated[
        Path | None, typer.Option(help="Keep the SQLite database at this path.")
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="After the story, keep the bot running and print the dashboard and review page"
            " (until Ctrl-C).",
        ),
    ] = False,
) -> None:
    """Play a whole incident offline against the emulators (SQLite) and print the report."""
    from bot.demo import run_demo

    if serve:
        _quiet_logs()
    sys.exit(run_demo(keep=keep, serve=serve))


def _start_isolated(sb: Sandbox) -> None:
    """Starts ``sb`` with nothing of this deployment's settings: neither the environment's nor a
    `.env` in the current directory (a real routing key or proxy header must not leak in)."""
    from bot.settings import Settings

    here = Path.cwd()
    for name in [k for k in os.environ if k.lower() in Settings.model_fields]:
        del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="incidentbot-sandbox-cwd-") as empty:
        os.chdir(empty)
        try:
            sb.start()
        finally:
            os.chdir(here)


def _quiet_logs() -> None:
    """The sandbox's own lines stay readable: the bot logs warnings and errors (LOG_LEVEL says
    otherwise) as plain lines on stderr."""
    from bot.logs import configure

    configure(os.environ.get("LOG_LEVEL", "WARNING"), "console")
