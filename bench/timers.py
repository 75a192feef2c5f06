"""Timer dispatch: 10,000 due status-update reminders, fired by the scheduler's code path
(claim with SKIP LOCKED, fire, re-arm, enqueue the reminder) — target < 10 s on PostgreSQL.

    .venv/bin/python bench/timers.py [--timers 10000] [--db sqlite|postgres|both] [--schedulers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

import bot.store.models  # noqa: F401
from bot.core.catalog import default_catalog
from bot.flows.ports import SystemClock
from bot.flows.timer_flows import TimerFlows
from bot.flows.timers import STATUS_UPDATE
from bot.store.db import Database
from bot.store.models import Incident, TimerRow

PG_URL = os.environ.get(
    "INCIDENTBOT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/incidentbot_bench"
)


def fresh(kind: str) -> Database:
    if kind == "sqlite":
        db = Database(f"sqlite:///{tempfile.mkdtemp()}/timers.db")
    else:
        sys.path.insert(0, os.path.dirname(__file__))
        from alert_storm import reset_postgres  # the same "own database" set-up

        reset_postgres(PG_URL)
        db = Database(PG_URL)
    db.upgrade()
    return db


def seed(db: Database, n: int) -> None:
    now = datetime.now(UTC)
    incidents = [
        {
            "title": f"Bench {i}",
            "description": "",
            "severity": "SEV2",
            "status": "investigating",
            "private": False,
            "drill": False,
            "source": "slack",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(Incident.__table__), incidents)  # type: ignore[attr-defined]
        ids = [row[0] for row in conn.execute(text("SELECT id FROM incident ORDER BY id"))]
        due = now - timedelta(seconds=1)
        conn.execute(
            insert(TimerRow.__table__),
            [
                {
                    "incident_id": i,
                    "kind": STATUS_UPDATE,
                    "due_at": due,
                    "payload": {},
                    "created_at": now,
                }
                for i in ids
            ],
        )  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--schedulers",
        type=int,
        default=2,
        help="concurrent dispatchers (as several scheduler processes would)",
    )
    args = parser.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        db = fresh(kind)
        seed(db, args.timers)
        flows = [TimerFlows(db, default_catalog(), SystemClock()) for _ in range(args.schedulers)]
        counts: list[int] = []
        began = time.perf_counter()

        def dispatch(flow: TimerFlows, counts: list[int] = counts) -> None:
            counts.append(flow.fire_due(batch=500, limit=args.timers * 2))

        threads = [threading.Thread(target=dispatch, args=(f,)) for f in flows]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        with db.engine.connect() as conn:
            fired = conn.execute(
                text("SELECT count(*) FROM timer WHERE outcome = 'fired'")
            ).scalar_one()
            rearmed = conn.execute(
                text("SELECT count(*) FROM timer WHERE fired_at IS NULL")
            ).scalar_one()
            reminders = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        verdict = "meets" if elapsed < 10 else "MISSES"
        print(
            f"{kind:9} {args.timers} due timers, {args.schedulers} dispatchers: {elapsed:.2f} s ({args.timers / elapsed:.0f}/s) "
            f"fired {fired}, re-armed {rearmed}, reminders queued {reminders} — {verdict} the < 10 s target"
        )
        assert fired == args.timers and reminders == args.timers, "every timer fires exactly once"
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
