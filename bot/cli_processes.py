"""`incidentbot serve` and `incidentbot scheduler`: the long-running processes, their start-up,
and how they stop (SIGTERM drains what was answered for SHUTDOWN_GRACE seconds)."""

from __future__ import annotations

import gc
import logging
import os
from typing import Annotated

import typer

from bot.cli_common import database as _database, settings as _settings
from bot.preflight import check_credentials, require_slack_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    in_process_scheduler: Annotated[
        bool, typer.Option(help="Run the outbox sweeper in this process.")
    ] = True,
) -> None:
    """Serve Slack (HTTP at POST /slack/events, or Socket Mode with SLACK_APP_TOKEN), webhooks and the API."""
    import uvicorn

    from bot import scheduler, wiring

    settings = _settings()
    settings.configure_logging()
    require_slack_settings(settings)
    db = _database(settings)
    check_credentials(settings)  # a token Slack, PagerDuty or Jira refuses: its fix, exit 2
    bot = wiring.build(settings, db=db)
    logging.getLogger("bot.serve").info(
        "%d playbooks loaded from %s; post-mortem templates from %s",
        len(bot.flows.playbooks),
        settings.playbooks_dir,
        settings.postmortem_templates_dir,
    )
    bot.runner.keep_alive()  # a kill -9 mid-effect: the sweeper frees its leases (PostgreSQL)
    bot.inbox.recover()  # answered requests a process that died left unfinished
    gc.freeze()  # start-up objects (SDKs, SQLAlchemy, the app) leave the collector's scans: shorter pauses
    in_process = (
        scheduler.start_in_process(bot.runner, bot.timers, db, bot.inbox)
        if in_process_scheduler
        else None
    )
    socket_handler = None
    if settings.slack_app_token is not None and bot.bolt is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket_handler = SocketModeHandler(bot.bolt, settings.slack_app_token.get_secret_value())
        socket_handler.connect()  # type: ignore[no-untyped-call]
    try:
        # log_config=None: uvicorn's error and access logs go through ours (bot.logs), redacted
        # SIGTERM (a deploy): uvicorn stops accepting and answers what it has read; then the
        # answered requests are worked off for up to SHUTDOWN_GRACE seconds. uvicorn raises
        # the signal again once it is done, to the handler that was there before it: ours.
        _after_uvicorn_signals()
        uvicorn.run(
            bot.web,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            log_config=None,
            timeout_graceful_shutdown=max(1, int(settings.shutdown_grace)),
        )
    finally:
        if socket_handler is not None:
            socket_handler.close()  # type: ignore[no-untyped-call]
        if in_process is not None:
            jobs, leadership = in_process
            jobs.shutdown(wait=False)
            leadership.release()
        finished = bot.close(grace=settings.shutdown_grace)
    if not finished:
        # Work still running past the grace period (a Slack call that hangs) must not hold the
        # exit: its requests are in the inbox, and the next sweep finishes them.
        logging.shutdown()
        os._exit(0)


def _after_uvicorn_signals() -> None:
    """SIGTERM and SIGINT after uvicorn has stopped: the drain goes on (a second Ctrl-C quits)."""
    import signal

    def drain_on(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and getattr(drain_on, "seen", False):
            os._exit(130)
        drain_on.seen = True  # type: ignore[attr-defined]

    signal.signal(signal.SIGTERM, drain_on)
    signal.signal(signal.SIGINT, drain_on)


def scheduler_command(
    metrics_port: Annotated[
        int,
        typer.Option(help="Serve Prometheus metrics (leader, leaderships) on this port; 0: off."),
    ] = 9108,
) -> None:
    """Fire reminders and retry pending effects; one process leads, the others stand by."""
    from prometheus_client import start_http_server

    from bot import scheduler, wiring

    settings = _settings()
    settings.configure_logging()
    if metrics_port:
        try:
            start_http_server(metrics_port, addr="0.0.0.0")  # noqa: S104  (scraped by Prometheus)
        except OSError as exc:  # a second scheduler on the same host: it still schedules
            logging.getLogger("bot.scheduler").warning(
                "metrics port %s unavailable (%s); use --metrics-port", metrics_port, exc
            )
    db = _database(settings)
    check_credentials(settings)
    bot = wiring.build(settings, db=db)
    try:
        scheduler.run_forever(bot.runner, bot.timers, db, inbox=bot.inbox)
    except KeyboardInterrupt:
        pass
    finally:
        bot.close()
