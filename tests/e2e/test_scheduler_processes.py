"""Two real `incidentbot scheduler` processes on one database: one leads, the other stands by;
kill -9 the leader and the standby takes over; every timer fires exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.core.catalog import default_catalog
from bot.flows.incidents import IncidentFlows
from bot.store.db import Database
from bot.store.models import OutboxRow, TimerRow
from tests.e2e.processes import free_port, leader_gauge, wait_for
from tests.flows.fakes import StepClock


def _declare_overdue(db: Database, n: int) -> int:
    """An incident declared 31 minutes ago: its SEV2 status reminder is due now."""
    clock = StepClock(datetime.now(UTC) - timedelta(minutes=31))
    outcome = IncidentFlows(db, default_catalog(), clock, None).declare(
        title=f"Overdue {n}", severity="SEV2", actor="U0ALICE", request_key=f"k{n}"
    )
    assert outcome.incident_id is not None
    return outcome.incident_id


def _fired(db: Database, incident_id: int) -> list[TimerRow]:
    with db.read() as s:
        return list(
            s.exec(
                select(TimerRow).where(
                    TimerRow.incident_id == incident_id, TimerRow.outcome == "fired"
                )
            ).all()
        )


def test_one_scheduler_leads_and_a_standby_takes_over(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    db.upgrade()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "WARNING",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    logs = [tmp_path / f"scheduler{i}.log" for i in range(2)]
    ports = [free_port() for _ in logs]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "scheduler", "--metrics-port", str(port)],
            env=env,
            cwd=tmp_path,
            stderr=log.open("w"),
        )
        for log, port in zip(logs, ports, strict=True)
    ]
    try:
        first = _declare_overdue(db, 1)
        assert wait_for(lambda: _fired(db, first), 20), [log.read_text() for log in logs]
        leaders = [i for i, log in enumerate(logs) if "now the scheduler" in log.read_text()]
        assert len(leaders) == 1, [log.read_text() for log in logs]
        # the leader may fire before the standby is up and serving its metrics: wait for both
        assert wait_for(lambda: None not in [leader_gauge(port) for port in ports], 20)
        gauges = [leader_gauge(port) for port in ports]  # what Prometheus sees of each
        assert gauges[leaders[0]] == 1.0 and gauges[1 - leaders[0]] == 0.0
        leader = procs[leaders[0]]
        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        killed_at = time.monotonic()
        second = _declare_overdue(db, 2)
        assert wait_for(lambda: _fired(db, second), 20), [log.read_text() for log in logs]
        assert time.monotonic() - killed_at < 10  # failover within seconds
        standby = logs[1 - leaders[0]].read_text()
        assert "now the scheduler" in standby
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
    for incident_id in (first, second):
        assert len(_fired(db, incident_id)) == 1
    with db.read() as s:
        reminders = [
            r for r in s.exec(select(OutboxRow)).all() if r.payload.get("kind") == "reminder"
        ]
    assert sorted(r.incident_id for r in reminders) == [first, second]  # once each
    db.dispose()
