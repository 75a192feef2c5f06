"""A declared incident's rows, written in as few statements as the database allows (one on
PostgreSQL), read back as the one-row-at-a-time writes would have stored them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.core import lifecycle
from bot.core.catalog import default_catalog
from bot.core.milestones import Milestone, Source
from bot.core.text import NUL_STANDIN
from bot.store import fresh_incident as fresh, incidents as q, outbox
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow, ProcessedRequest, TimelineRow, TimerRow
from bot.store.outbox import Effect

NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
ALICE = "U0ALICE"


def opening(title: str = "Checkout API returns 500s") -> lifecycle.Opening:
    return lifecycle.declare(
        default_catalog(),
        title=title,
        severity="SEV3",
        now=NOW,
        actor=ALICE,
        impact_started_at=NOW - timedelta(minutes=5),
    )


def new(made: lifecycle.Opening) -> Incident:
    return q.new_incident(opening=made, now=NOW, source=Source.CHAT, created_by=ALICE, drill=False)


def declared(
    session: Session,
    key: str | None,
    incident: Incident,
    made: lifecycle.Opening,
    effects: list[Effect] | None = None,
    first_timers: list[tuple[str, datetime]] | None = None,
    lease: tuple[str, datetime] | None = None,
) -> bool:
    return fresh.insert_declared(
        session=session,
        key=key,
        incident=incident,
        opening=made,
        now=NOW,
        effects=effects or [],
        first_timers=first_timers or [],
        lease=lease,
    )


def test_the_request_id_is_claimed_with_the_incident_and_a_replay_inserts_nothing(
    db: Database,
) -> None:
    with db.transaction() as session:
        first = new(opening())
        assert declared(session, "T1", first, opening())
        assert first.id is not None
    with db.transaction() as session:
        again = new(opening())
        lane = f"chat:{fresh.NEW_ID}"
        assert not declared(session, "T1", again, opening(), [Effect(lane, "open")], [("t", NOW)])
        assert again.id is None
    with db.read() as session:
        assert [i.id for i in session.exec(select(Incident)).all()] == [first.id]
        assert session.exec(select(ProcessedRequest.key)).all() == ["T1"]
        assert session.exec(select(OutboxRow)).all() == []
        assert session.exec(select(TimerRow)).all() == []
        stored = session.get(Incident, first.id)
        assert stored is not None
        assert (stored.title, stored.severity, stored.created_by, stored.created_at) == (
            "Checkout API returns 500s",
            "SEV3",
            ALICE,
            NOW,
        )
        assert (stored.drill, stored.imported, stored.conversation_id) == (False, False, None)


def test_the_new_incident_belongs_to_the_session_so_a_later_change_updates_it(
    db: Database,
) -> None:
    """A playbook attached in the same transaction may change the incident (its cadence)."""
    with db.transaction() as session:
        incident = new(opening())
        assert declared(session, None, incident, opening())
        incident.status_update_minutes = 15
        session.add(incident)
        session.flush()
        assert q.get_incident(session=session, incident_id=incident.id or 0) is incident
    with db.read() as session:
        stored = session.get(Incident, incident.id)
        assert stored is not None and stored.status_update_minutes == 15
        assert len(session.exec(select(Incident)).all()) == 1


def test_its_other_rows_keep_their_order_and_the_first_effect_is_born_leased(
    db: Database,
) -> None:
    made = opening("Disk\x00full")
    until = NOW + timedelta(minutes=2)
    with db.transaction() as session:
        incident = new(made)
        lane = f"chat:{fresh.NEW_ID}"
        assert declared(
            session,
            "T2",
            incident,
            made,
            [
                Effect(lane, "open", None, {"trying": "inc-disk\x00full", "n": [1, 2]}),
                Effect(lane, "announce"),
                Effect("pager:1", "page", None, {"at": "x"}),
            ],
            [("status_update", NOW + timedelta(minutes=30)), ("stale", NOW)],
            ("worker-1", until),
        )
        assert incident.id is not None
        lane = f"chat:{incident.id}"
        born = outbox.born_claimed(session)
        assert outbox.enqueued_lanes(session) == {lane, "pager:1"}
    with db.read() as session:
        rows = session.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()
        assert [
            (r.kind, r.lane, r.incident_id, r.attempts, r.lease_owner, r.lease_until) for r in rows
        ] == [
            ("open", lane, incident.id, 1, "worker-1", until),
            ("announce", lane, incident.id, 0, None, None),
            ("page", "pager:1", incident.id, 0, None, None),
        ]
        assert rows[0].payload == {"trying": "inc-disk\x00full", "n": [1, 2]}  # JSON: as is
        assert [(b.id, b.lane, b.incident_id, b.lease_owner, b.attempts) for b in born] == [
            (rows[0].id, lane, incident.id, "worker-1", 1)
        ]
        entries = session.exec(select(TimelineRow).order_by(col(TimelineRow.id))).all()
        assert [(e.kind, e.text, e.actor, e.data) for e in entries] == [
            (e.kind.value, e.text.replace("\x00", NUL_STANDIN), e.actor, dict(e.data))
            for e in made.entries
        ]
        assert any(NUL_STANDIN in e.text for e in entries)
        assert q.milestones(session=session, incident_id=incident.id) == dict(
            made.snapshot.milestones
        )
        assert Milestone.IMPACT_STARTED in made.snapshot.milestones
        assert q.roles(session=session, incident_id=incident.id) == dict(made.snapshot.roles)
        timers = session.exec(select(TimerRow.kind, TimerRow.due_at, TimerRow.payload)).all()
        assert sorted(timers) == [
            ("stale", NOW, {}),
            ("status_update", NOW + timedelta(minutes=30), {}),
        ]
