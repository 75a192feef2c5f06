"""What an alert delivery costs the database: a storm is thousands of them. The open incident
of the group is locked, the delivery's alerts go in with one statement whatever their number
(new, changed or only seen again), then the timeline and the chat effects: one statement on
PostgreSQL, one each on SQLite (where a line still waiting is read first, to take the new one in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from bot.core.alerts import parse_alertmanager
from bot.core.catalog import default_catalog
from bot.flows.alerts import AlertFlows
from bot.store.db import Database
from tests.flows.fakes import StepClock

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def notification(firing: int, resolved: int = 0) -> dict[str, Any]:
    """Alertmanager's whole group again, as it sends it on every change."""
    alerts = [
        {
            "status": "firing" if i < firing else "resolved",
            "labels": {"alertname": "Checkout5xx", "service": "checkout-api", "instance": f"n{i}"},
            "annotations": {"summary": "Checkout API returns 500s"},
            "startsAt": (START + timedelta(seconds=i)).isoformat(),
            "endsAt": (START + timedelta(minutes=5)).isoformat()
            if i >= firing
            else "0001-01-01T00:00:00Z",
            "fingerprint": f"{i:04x}",
        }
        for i in range(firing + resolved)
    ]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="Checkout5xx"}',
        "status": "firing" if firing else "resolved",
        "commonLabels": {"alertname": "Checkout5xx", "service": "checkout-api"},
        "alerts": alerts,
    }


class Statements:
    """The statements a delivery sends, as the driver sees them: on PostgreSQL every cursor of
    the engine's connections records what it executes (some statements bypass SQLAlchemy:
    store.driver); on SQLite SQLAlchemy's own hook sees them all."""

    def __init__(self, db: Database) -> None:
        self.seen: list[str] = []
        self.db = db
        self._hooks: list[tuple[str, Callable[..., None]]] = [("commit", self._commit)]
        if db.is_postgres:
            self._hooks += [("checkout", self._recording), ("checkin", self._plain)]
        else:
            self._hooks.append(("before_cursor_execute", self._hooked))
        for name, hook in self._hooks:
            event.listen(db.engine, name, hook)

    def _recording(self, dbapi_connection: Any, *_: Any) -> None:
        seen = self._statement

        class Recording(psycopg.Cursor[Any]):
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                seen(str(query))
                return super().execute(query, *args, **kwargs)

        dbapi_connection.cursor_factory = Recording

    @staticmethod
    def _plain(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.cursor_factory = psycopg.Cursor

    def _hooked(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        self._statement(statement)

    def _statement(self, statement: str) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb == "WITH":  # data-modifying CTEs: the tables it inserts into, in order
            into = [words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() == "INTO"]
            self.seen.append(f"INSERT {' + '.join(into)}")
        elif verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            anchor = {"SELECT": "FROM", "INSERT": "INTO", "DELETE": "FROM"}.get(verb)
            self.seen.append(f"{verb} {words[words.index(anchor) + 1] if anchor else words[1]}")

    def _commit(self, _conn: Any) -> None:
        self.seen.append("COMMIT")

    def close(self) -> None:
        for name, hook in self._hooks:
            event.remove(self.db.engine, name, hook)


@pytest.fixture
def recorded(db: Database) -> Iterator[tuple[AlertFlows, Statements]]:
    flows = AlertFlows(db, default_catalog(), StepClock(), None)
    statements = Statements(db)
    yield flows, statements
    statements.close()


def deliver(flows: AlertFlows, statements: Statements, payload: dict[str, Any]) -> list[str]:
    statements.seen.clear()
    assert flows.ingest(parse_alertmanager(payload)).ok
    return list(statements.seen)


def test_a_repeat_delivery_locks_the_incident_and_writes_its_alerts_in_one_statement(
    db: Database, recorded: tuple[AlertFlows, Statements]
) -> None:
    flows, statements = recorded
    deliver(flows, statements, notification(firing=5))
    # PostgreSQL tells what each alert was in the same statement; SQLite reads them first
    # (it is in the process: no round trip)
    before = [] if db.is_postgres else ["SELECT alert"]
    # SQLite reads the lane's newest waiting effect: a line still waiting takes the next one in
    written = ["INSERT alert", "INSERT timeline_entry", "SELECT outbox", "INSERT outbox", "COMMIT"]
    joined = [*written[:3], "UPDATE outbox", *written[3:]]
    if db.is_postgres:
        written = joined = ["INSERT alert", "INSERT timeline_entry + outbox", "COMMIT"]
    assert deliver(flows, statements, notification(firing=20)) == [
        "SELECT incident",
        *before,
        *written,
    ]
    # a wave of resolutions costs the same: no statement per alert (its line joins the one
    # still waiting: no runner here)
    assert deliver(flows, statements, notification(firing=2, resolved=18)) == [
        "SELECT incident",
        *before,
        *joined,
    ]


def test_a_delivery_that_opens_the_incident_reads_no_alerts_back(
    recorded: tuple[AlertFlows, Statements],
) -> None:
    flows, statements = recorded
    seen = deliver(flows, statements, notification(firing=5))
    assert seen[0] == "SELECT incident"
    assert "SELECT alert" not in seen
    assert "UPDATE incident" not in seen  # its group key goes in with the INSERT
    assert seen.count("INSERT alert") == 1


def test_a_delivery_to_a_lane_held_back_until_later_leaves_it_to_whoever_runs_it_then(
    db: Database,
) -> None:
    """In a storm the channels wait for the chat's pace: the head of each incident's lane is
    put off to a later time. A delivery then hands no work to the pool (it would claim nothing);
    once the head is due, or someone holds it, a delivery runs the lane again. (PostgreSQL
    learns it in the statement that queues the effects; SQLite always hands the lane on.)"""
    handed: list[int] = []

    def pool(work: Callable[..., None], incident_id: int, *rest: Any) -> None:
        handed.append(incident_id)
        work(incident_id, *rest)  # no runner: nothing to deliver

    flows = AlertFlows(db, default_catalog(), StepClock(), None, background=pool)
    first = flows.ingest(parse_alertmanager(notification(firing=5)))
    assert first.incident_id is not None and handed == [first.incident_id]

    def hold_head(until: str, lease: str | None = None) -> None:
        with db.transaction() as session:
            session.execute(
                text(
                    "UPDATE outbox SET next_attempt_at = :until, lease_until = :lease"
                    " WHERE id = (SELECT min(id) FROM outbox WHERE lane = :lane)"
                ),
                {"until": until, "lease": lease, "lane": f"chat:{first.incident_id}"},
            )

    hold_head("2099-01-01T00:00:00+00:00")
    handed.clear()
    assert flows.ingest(parse_alertmanager(notification(firing=10))).ok
    assert handed == ([] if db.is_postgres else [first.incident_id])

    hold_head("2099-01-01T00:00:00+00:00", lease="2099-01-01T00:00:00+00:00")  # someone on it
    assert flows.ingest(parse_alertmanager(notification(firing=15))).ok
    hold_head("2000-01-01T00:00:00+00:00")  # due
    assert flows.ingest(parse_alertmanager(notification(firing=20))).ok
    assert handed == [first.incident_id] * (2 if db.is_postgres else 3)
