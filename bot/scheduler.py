"""Periodic work. Inside `serve` (single process, SQLite default): the outbox sweeper that
retries effects whose first delivery failed."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.flows.outbox import OutboxRunner

log = logging.getLogger(__name__)


def start_in_process(runner: OutboxRunner, *, every_seconds: float = 5.0) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _sweep,
        "interval",
        args=[runner],
        seconds=every_seconds,
        id="outbox-sweep",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler


def _sweep(runner: OutboxRunner) -> None:
    try:
        delivered = runner.sweep()
        if delivered:
            log.info("outbox sweep delivered %s effects", delivered)
    except Exception:
        log.exception("outbox sweep failed")
