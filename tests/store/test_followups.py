"""The follow-ups repository: recorded, read back, done or reopened, exported — as plain values,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from bot.store import followups
from bot.store.db import Database
from tests.store.conftest import T0


def test_a_followup_is_recorded_open_and_read_back_in_order(db: Database, incident_id: int) -> None:
    with db.transaction() as session:
        first = followups.record_followup(
            session=session,
            incident_id=incident_id,
            text="Add a canary",
            owner="U1",
            due_on=date(2026, 3, 20),
            created_by="U1",
            now=T0,
            source="chat",
        )
        second = followups.record_followup(
            session=session,
            incident_id=incident_id,
            text="x" * 1200,
            owner=None,
            owner_role="comms",
            now=T0,
            source="playbook",
        )
    assert (first.state, first.owner, first.due_on, first.source) == (
        "open",
        "U1",
        date(2026, 3, 20),
        "chat",
    )
    assert len(second.text) == 1000 and second.owner_role == "comms"
    with db.read() as session:
        assert followups.followups_of(session=session, incident_id=incident_id) == [first, second]
        assert followups.followup(session=session, followup_id=first.id) == (incident_id, first)
        assert followups.followup(session=session, followup_id=second.id + 1) is None


def test_done_reopened_and_exported(db: Database, incident_id: int) -> None:
    with db.transaction() as session:
        item = followups.record_followup(
            session=session,
            incident_id=incident_id,
            text="Fix it",
            owner=None,
            now=T0,
            source="chat",
        )
    with db.transaction() as session:
        followups.record_followup_state(
            session=session, followup_id=item.id, state="done", now=T0 + timedelta(hours=1)
        )
    with db.read() as session:
        found = followups.followup(session=session, followup_id=item.id)
    assert found is not None and found[1].state == "done"
    with db.transaction() as session:
        followups.record_followup_state(session=session, followup_id=item.id, state="open", now=T0)
        followups.record_followup_exported(
            session=session, followup_id=item.id, key="OPS-7", url="https://t/OPS-7", now=T0
        )
    with db.read() as session:
        (stored,) = followups.followups_of(session=session, incident_id=incident_id)
    assert (stored.state, stored.tracker_key, stored.tracker_url) == (
        "open",
        "OPS-7",
        "https://t/OPS-7",
    )
