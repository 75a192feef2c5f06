"""The store answers readers (the web, the follow-up replies) with plain frozen values, never ORM
rows: they outlive the session, say only what readers show, and honour who may see what — on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import SQLModel

from bot.core.milestones import Milestone, Source
from bot.store import dashboard_reads, gauges, incident_reads
from bot.store.db import Database
from bot.store.models import (
    AlertRow,
    Followup,
    Incident,
    MilestoneRow,
    OutboxRow,
    PageRow,
    PlaybookRun,
    PlaybookStep,
    TimelineRow,
    TimerRow,
)
from bot.store.read_models import IncidentMatch, Scope

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def add_incident(db: Database, title: str, *, private: bool = False, **extra: Any) -> int:
    with db.transaction() as session:
        facts: dict[str, Any] = {"status": "investigating", "created_at": T0, **extra}
        incident = Incident(
            title=title,
            severity="SEV2",
            private=private,
            source="chat",
            conversation_id=f"C-{title}",
            updated_at=T0,
            **facts,
        )
        session.add(incident)
        session.flush()
        assert incident.id is not None
        return incident.id


def add_parts(db: Database, incident_id: int) -> None:
    """A milestone, a timeline entry, an alert, a page, a playbook step and a follow-up."""
    with db.transaction() as session:
        session.add(
            MilestoneRow(
                incident_id=incident_id,
                kind=Milestone.DECLARED.value,
                at=T0,
                source="chat",
                updated_at=T0,
            )
        )
        session.add(
            TimelineRow(
                incident_id=incident_id,
                at=T0,
                kind="declared",
                text="Declared",
                actor="U1",
                source="chat",
                data={"severity": "SEV2"},
                created_at=T0,
            )
        )
        session.add(
            AlertRow(
                incident_id=incident_id,
                fingerprint="f1",
                source="alertmanager",
                status="firing",
                name="HighLatency",
                summary="p99 over 2 s",
                labels={"service": "checkout"},
                links={"runbook": "https://runbooks.example/latency"},
                starts_at=T0,
                first_seen_at=T0,
                last_seen_at=T0,
            )
        )
        session.add(
            PageRow(
                incident_id=incident_id,
                pager="pagerduty",
                kind="event",
                key=f"page-{incident_id}",
                target="R***",
                status="acknowledged",
                pager_incident_id="P123",
                created_at=T0,
                updated_at=T0 + timedelta(minutes=3),
                acknowledged_at=T0 + timedelta(minutes=3),
            )
        )
        run = PlaybookRun(incident_id=incident_id, playbook="db", title="DB", attached_at=T0)
        session.add(run)
        session.flush()
        session.add(
            PlaybookStep(
                run_id=int(run.id or 0),
                step="failover",
                position=0,
                title="Fail over",
                owner_role="commander",
                state="done",
                by="U2",
                at=T0 + timedelta(minutes=9),
            )
        )
        session.add(
            Followup(
                incident_id=incident_id,
                text="Alert on queue depth",
                owner="U3",
                due_on=date(2026, 4, 1),
                created_at=T0,
                updated_at=T0,
                source="shortcut",
                issue_key="OPS-7",
                issue_url="https://tracker.example/OPS-7",
            )
        )


def values_in(value: Any) -> list[Any]:
    """`value` and everything inside it (dataclass fields, mappings, sequences)."""
    found = [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += values_in(getattr(value, f.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            found += values_in(k) + values_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found += values_in(v)
    return found


def test_an_incident_reads_as_plain_values_that_outlive_the_session(db: Database) -> None:
    incident_id = add_incident(db, "checkout", service="checkout")
    add_parts(db, incident_id)
    with db.read() as session:
        detail = incident_reads.detail(session=session, incident_id=incident_id)
        steps = incident_reads.steps(session=session, incident_id=incident_id)
        followups = incident_reads.followups(session=session, incident_id=incident_id)
    assert detail is not None
    everything = values_in((detail, steps, followups))
    assert not [v for v in everything if isinstance(v, SQLModel)]
    assert detail.incident.title == "checkout" and detail.incident.service == "checkout"
    assert detail.milestones[Milestone.DECLARED].source is Source.CHAT
    assert [(t.kind, t.actor, dict(t.data)) for t in detail.timeline] == [
        ("declared", "U1", {"severity": "SEV2"})
    ]
    assert [(a.name, a.status, dict(a.labels)) for a in detail.alerts] == [
        ("HighLatency", "firing", {"service": "checkout"})
    ]
    (page,) = detail.pages
    assert (page.pager_incident_id, page.acknowledged_at) == ("P123", T0 + timedelta(minutes=3))
    (step,) = steps
    assert (step.playbook, step.title, step.by, step.attached_at) == ("db", "Fail over", "U2", T0)
    (followup,) = followups
    assert (followup.tracker_key, followup.source, followup.due_on) == (
        "OPS-7",
        "shortcut",
        date(2026, 4, 1),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.incident.title = "changed"  # type: ignore[misc]


def test_a_missing_incident_reads_as_none(db: Database) -> None:
    with db.read() as session:
        assert incident_reads.detail(session=session, incident_id=404) is None
        assert incident_reads.get_summary(session=session, incident_id=404) is None


def test_a_scope_sees_public_incidents_and_only_the_private_ones_it_lists(db: Database) -> None:
    public = add_incident(db, "public")
    listed = add_incident(db, "listed", private=True)
    add_incident(db, "hidden", private=True)
    with db.read() as session:
        candidates = dashboard_reads.private_candidates(session=session, limit=10)

        def titles(scope: Scope) -> list[str]:
            found = dashboard_reads.matching(
                session=session, match=IncidentMatch(), scope=scope, limit=10
            )
            return sorted(i.title for i in found)

        assert titles(Scope(False)) == ["public"]
        assert titles(Scope(False, frozenset({listed}))) == ["listed", "public"]
        assert titles(Scope(True)) == ["hidden", "listed", "public"]
    assert sorted(c for _id, c in candidates) == ["C-hidden", "C-listed"]
    assert public not in {i for i, _c in candidates}


def test_the_gauges_leave_out_private_incidents_and_their_effects_unless_allowed(
    db: Database,
) -> None:
    for title, private in (("public", False), ("secret", True)):
        incident_id = add_incident(db, title, private=private)
        with db.transaction() as session:
            session.add(
                OutboxRow(
                    incident_id=incident_id,
                    lane=f"chat:{incident_id}",
                    kind="chat.post",
                    created_at=T0,
                    next_attempt_at=T0,
                    attempts=1,
                )
            )
            session.add(TimerRow(incident_id=incident_id, kind="nudge", due_at=T0, created_at=T0))
    with db.read() as session:
        public = gauges.gauges(
            session=session, open_statuses=["investigating"], include_private=False
        )
        every = gauges.gauges(
            session=session, open_statuses=["investigating"], include_private=True
        )
    assert (public.open_by_severity, every.open_by_severity) == ({"SEV2": 1}, {"SEV2": 2})
    assert (sum(public.pending_by_lane.values()), sum(every.pending_by_lane.values())) == (1, 2)
    assert sum(every.retrying_by_lane.values()) == 2
    assert (public.armed_timers, every.armed_timers, every.oldest_due_timer) == (1, 2, T0)


def test_the_chat_finds_an_incident_by_its_conversation_and_lists_the_open_public_ones(
    db: Database,
) -> None:
    first = add_incident(db, "first")
    add_incident(db, "secret", private=True)
    add_incident(db, "done", status="closed")
    newer = add_incident(db, "newer", created_at=T0 + timedelta(minutes=1))
    with db.transaction() as session:
        locked = incident_reads.locked_by_channel(session=session, channel_id="C-first")
    assert locked is not None and locked.id == first
    with db.transaction() as session:
        assert incident_reads.locked(session=session, incident_id=first) == locked
        assert incident_reads.locked(session=session, incident_id=404) is None
    with db.read() as session:
        found = incident_reads.summary_by_conversation(session=session, conversation_id="C-first")
        nowhere = incident_reads.summary_by_conversation(session=session, conversation_id="C-none")
        listed = incident_reads.public_summaries_in(session=session, statuses=["investigating"])
    assert found is not None and (found.id, found.title) == (first, "first")
    assert nowhere is None
    assert [s.id for s in listed] == [newer, first]


def test_an_incident_reads_as_the_snapshot_the_lifecycle_decides_on(db: Database) -> None:
    incident_id = add_incident(db, "decided")
    add_parts(db, incident_id)
    with db.read() as session:
        snapshot = incident_reads.snapshot(session=session, incident_id=incident_id)
        assert incident_reads.snapshot(session=session, incident_id=404) is None
    assert snapshot is not None
    assert (snapshot.title, snapshot.severity, snapshot.status) == (
        "decided",
        "SEV2",
        "investigating",
    )
    assert set(snapshot.milestones) == {Milestone.DECLARED}
