"""The backfilled history: past incidents stored in bulk, found again by their external id, and
a second import of the same id that raced the first refused as such — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.imports import ImportedIncident
from bot.core.milestones import Milestone
from bot.store import imported, incident_reads
from bot.store.db import Database
from tests.store.conftest import T0


def past(external_id: str) -> ImportedIncident:
    return ImportedIncident(
        index=0,
        external_id=external_id,
        title=f"Outage {external_id}",
        severity="sev2",
        service="db",
        status="closed",
        disposition=None,
        drill=False,
        milestones={Milestone.DETECTED: T0, Milestone.RESOLVED: T0 + timedelta(hours=1)},
    )


def test_imported_incidents_are_stored_with_their_history(db: Database) -> None:
    with db.transaction() as session:
        imported.record_imported(
            session=session, incidents=[past("A-1"), past("A-2")], origin="old.json", now=T0
        )
    with db.read() as session:
        ids = ["A-1", "A-2", "A-3"]
        assert imported.present_external_ids(session=session, external_ids=ids) == {"A-1", "A-2"}
        (first, *_) = incident_reads.list_summaries(session=session, limit=10, offset=0)
        detail = incident_reads.detail(session=session, incident_id=first.id)
    assert detail is not None
    assert set(detail.milestones) == {Milestone.DETECTED, Milestone.RESOLVED}
    assert [t.text for t in detail.timeline][-1].startswith("Imported from old.json")


def test_an_external_id_stored_meanwhile_is_refused_by_name(db: Database) -> None:
    with db.transaction() as session:
        imported.record_imported(session=session, incidents=[past("B-1")], origin="a", now=T0)
    with pytest.raises(imported.ExternalIdTaken), db.transaction() as session:
        imported.record_imported(session=session, incidents=[past("B-1")], origin="b", now=T0)
    with db.read() as session:
        assert imported.present_external_ids(session=session, external_ids=["B-1"]) == {"B-1"}
