"""The unit of work's changes to an incident, by its id: the store locks the row for the change
(unless the transaction holds it already), changes it in place and answers the incident as it
is now — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot.core import lifecycle
from bot.core.catalog import default_catalog
from bot.core.milestones import Source
from bot.store import incident_changes, incident_reads
from bot.store.db import Database
from bot.store.models import Incident
from tests.store.conftest import T0

CATALOG = default_catalog()


def raise_to_sev1(db: Database, incident_id: int) -> lifecycle.Decision:
    with db.read() as session:
        snapshot = incident_reads.snapshot(session=session, incident_id=incident_id)
    assert snapshot is not None
    return lifecycle.decide(
        CATALOG, snapshot, lifecycle.ChangeSeverity("SEV1"), now=T0, actor=None, source=Source.CHAT
    )


@pytest.fixture
def reads_of_incidents(db: Database) -> Iterator[list[str]]:
    """The statements that read the incident table, as they are sent."""
    seen: list[str] = []

    def statement(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM incident" in sql:
            seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", statement)
    yield seen
    event.remove(db.engine, "before_cursor_execute", statement)


def test_a_decision_applied_by_id_is_stored_and_answered_as_the_incident_now(
    db: Database, incident_id: int
) -> None:
    decision = raise_to_sev1(db, incident_id)
    with db.transaction() as session:
        assert (
            incident_changes.snapshot(session=session, incident_id=incident_id).severity == "SEV2"
        )
        changed = incident_changes.apply_decision(
            session=session, incident_id=incident_id, decision=decision, now=T0
        )
        assert changed.severity == "SEV1"
        assert incident_changes.current(session=session, incident_id=incident_id) == changed
        cadence = incident_changes.record_status_cadence(
            session=session, incident_id=incident_id, minutes=7
        )
        assert (cadence.severity, cadence.status_update_minutes) == ("SEV1", 7)
    with db.read() as session:
        stored = incident_reads.get_summary(session=session, incident_id=incident_id)
        timeline = incident_reads.timeline(session=session, incident_id=incident_id)
    assert stored is not None and (stored.severity, stored.status_update_minutes) == ("SEV1", 7)
    assert [item.text for item in timeline] == [entry.text for entry in decision.entries]


def test_a_resolved_incident_releases_its_alert_group(db: Database, incident_id: int) -> None:
    with db.transaction() as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        row.open_group = "group-hash"
        session.add(row)
    with db.transaction() as session:
        incident_changes.release_group(session=session, incident_id=incident_id)
    with db.read() as session:
        row = session.get(Incident, incident_id)
        assert row is not None and row.open_group is None


def test_a_row_the_transaction_locked_is_changed_without_reading_it_again(
    db: Database, incident_id: int, reads_of_incidents: list[str]
) -> None:
    decision = raise_to_sev1(db, incident_id)
    reads_of_incidents.clear()
    with db.transaction() as session:
        assert incident_reads.locked(session=session, incident_id=incident_id) is not None
        assert len(reads_of_incidents) == 1
        incident_changes.snapshot(session=session, incident_id=incident_id)
        incident_changes.apply_decision(
            session=session, incident_id=incident_id, decision=decision, now=T0
        )
        incident_changes.release_group(session=session, incident_id=incident_id)
        assert incident_changes.current(session=session, incident_id=incident_id).severity == "SEV1"
    assert len(reads_of_incidents) == 1


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite: one writer at a time
def test_a_change_to_a_row_not_yet_locked_locks_it_first(
    db: Database, incident_id: int, reads_of_incidents: list[str]
) -> None:
    decision = raise_to_sev1(db, incident_id)
    reads_of_incidents.clear()
    with db.transaction() as session:
        incident_changes.apply_decision(
            session=session, incident_id=incident_id, decision=decision, now=T0
        )
        assert [sql for sql in reads_of_incidents if "FOR UPDATE" in sql] != []
        with db.engine.connect() as other, pytest.raises(OperationalError):
            other.execute(
                text("SELECT id FROM incident WHERE id = :id FOR UPDATE NOWAIT"),
                {"id": incident_id},
            )


def test_there_is_no_current_state_of_an_incident_that_is_not(db: Database) -> None:
    with db.transaction() as session, pytest.raises(LookupError):
        incident_changes.current(session=session, incident_id=404)
