"""The scheduler: fires durable timers and sweeps the outbox (APScheduler 3.11 interval jobs).

Correctness never rests on there being one scheduler: timers are claimed row by row (`FOR
UPDATE SKIP LOCKED`) and outbox lanes by lease. Leadership only keeps the others idle: on
PostgreSQL an advisory lock held on its own connection (it goes with the process, so a standby
takes over at its next try, within seconds); on SQLite a file lock beside the database."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.flows.inbox import Inbox
from bot.flows.outbox import OutboxRunner
from bot.flows.timer_flows import TimerFlows
from bot.store.db import Database
from bot.store.sign_in import prune_sign_in_records

log = logging.getLogger(__name__)
LOCK_KEY = 0x1C1DE27B07  # pg_advisory_lock key of "incidentbot scheduler"


class Leadership:
    """Try to become the one active scheduler; `held()` says whether we still are."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: Any = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        if self.db.is_postgres:
            if self._connection is None:
                self._connection = self.db.engine.connect()
            got = bool(
                self._connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}
                ).scalar()
            )
            self._connection.commit()
            return got
        path = _lock_path(self.db.url)
        self._file = open(path, "a+")  # noqa: SIM115  (held for the life of the leadership)
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            self._file = None
            return False
        return True

    def held(self) -> bool:
        if self.db.is_postgres:
            try:
                self._connection.execute(text("SELECT 1"))
            except Exception:
                log.error("lost the database connection that holds the scheduler lock")
                return False
            return True
        return self._file is not None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._connection.commit()
            finally:
                self._connection.invalidate()  # not back to the pool: the session (and any lock) ends
                self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _lock_path(url: str) -> Path:
    database = make_url(url).database or ""
    if database in ("", ":memory:"):
        return Path(f"/tmp/incidentbot-scheduler-{os.getuid()}.lock")  # noqa: S108
    return Path(database + ".scheduler.lock")


def start_jobs(
    runner: OutboxRunner,
    timers: TimerFlows,
    *,
    inbox: Inbox | None = None,
    timer_every: float = 1.0,
    sweep_every: float = 5.0,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    at_once = datetime.now(UTC)  # a new leader catches up at once: due timers, pending effects

    def fire_then_deliver() -> None:  # a reminder goes out when due, not at the next sweep
        if timers.fire_due():
            runner.sweep()

    jobs: list[tuple[str, Any, float]] = [
        ("timers", fire_then_deliver, timer_every),
        ("outbox sweep", runner.sweep, sweep_every),
    ]
    if inbox is not None:

        def prune() -> None:
            # The replay guard and finished requests are kept a week, not forever; used
            # sign-in links until they would have expired, failed-login counts a few minutes.
            inbox.prune()
            prune_sign_in_records(runner.db, datetime.now(UTC))

        jobs += [
            ("inbox sweep", inbox.recover, sweep_every),  # answered requests of dead processes
            ("prune", prune, 3600.0),
        ]
    for name, job, every in jobs:
        scheduler.add_job(
            _guard(job, name),
            "interval",
            seconds=every,
            id=name.replace(" ", "-"),
            max_instances=1,
            coalesce=True,
            next_run_time=at_once,
        )
    scheduler.start()
    return scheduler


def start_in_process(
    runner: OutboxRunner, timers: TimerFlows, db: Database, inbox: Inbox | None = None
) -> tuple[BackgroundScheduler, Leadership] | None:
    """Inside `serve`: run the jobs only if no other process is the scheduler."""
    leadership = Leadership(db)
    if not leadership.try_acquire():
        log.info("another process is the scheduler; this one serves only")
        return None
    return start_jobs(runner, timers, inbox=inbox), leadership


LEADER = Gauge(
    "incidentbot_scheduler_leader", "1 while this scheduler process is the active one, else 0"
)
LEADERSHIPS = Counter("incidentbot_scheduler_leaderships", "Times this process became the leader")


def run_forever(
    runner: OutboxRunner,
    timers: TimerFlows,
    db: Database,
    *,
    inbox: Inbox | None = None,
    standby_poll: float = 2.0,
) -> None:
    """`incidentbot scheduler`: wait to lead, lead until the lock is lost, then wait again."""
    runner.keep_alive()
    leadership = Leadership(db)
    while True:
        if not leadership.try_acquire():
            LEADER.set(0)
            time.sleep(standby_poll)
            continue
        log.warning("this process is now the scheduler")
        LEADER.set(1)
        LEADERSHIPS.inc()
        jobs = start_jobs(runner, timers, inbox=inbox)
        try:
            while leadership.held():
                time.sleep(standby_poll)
        finally:
            LEADER.set(0)
            jobs.shutdown(wait=True)
            leadership.release()


def _guard(job: Any, name: str) -> Any:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", name)

    run.__name__ = name
    return run
