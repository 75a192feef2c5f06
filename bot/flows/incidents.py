"""Incident use cases: declare, act on an incident (status, severity, roles, ack, note), pins.

Each runs one transaction — the request id, the state change, its timeline entries and the
outbox rows for Slack — then delivers the Slack lane. A refusal rolls everything back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core import lifecycle
from bot.core.catalog import Catalog, Phase
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import slack_effects as fx
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import Clock
from bot.store import incidents as q
from bot.store import outbox
from bot.store.db import Database
from bot.store.models import Incident

NOT_AN_INCIDENT = (
    "This channel is not an incident channel. Run this in the incident's channel, "
    "see open incidents with `/incident list`, or declare one with `/incident declare`."
)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""
    incident_id: int | None = None
    duplicate: bool = False


class _Duplicate(Exception):
    pass


class IncidentFlows:
    def __init__(
        self, db: Database, catalog: Catalog, clock: Clock, runner: OutboxRunner | None
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.runner = runner

    # -- declare ---------------------------------------------------------------------------------
    def declare(
        self,
        *,
        title: str,
        severity: str | None,
        actor: str | None,
        request_key: str | None,
        description: str = "",
        impact_started_at: datetime | None = None,
        private: bool = False,
        source: Source = Source.SLACK,
        drill: bool = False,
    ) -> Outcome:
        now = self.clock.now()
        try:
            opening = lifecycle.declare(
                self.catalog,
                title=title,
                severity=severity,
                now=now,
                actor=actor,
                source=source,
                description=description,
                impact_started_at=impact_started_at,
                private=private,
            )
            with self.db.transaction() as session:
                self._claim(session, request_key, now)
                incident = q.create_incident(
                    session=session,
                    opening=opening,
                    now=now,
                    source=source,
                    created_by=actor,
                    drill=drill,
                )
                assert incident.id is not None
                incident_id = incident.id
                lane = fx.lane(incident_id)
                outbox.enqueue(
                    session=session,
                    lane=lane,
                    kind=fx.OPEN_CHANNEL,
                    now=now,
                    incident_id=incident_id,
                )
                if not private and not drill:
                    outbox.enqueue(
                        session=session,
                        lane=lane,
                        kind=fx.ANNOUNCE,
                        now=now,
                        incident_id=incident_id,
                    )
        except Refused as refused:
            return Outcome(False, refused.reason)
        except _Duplicate:
            return Outcome(True, "Already handled.", duplicate=True)
        self.deliver(incident_id)
        return Outcome(
            True, f"Declared {opening.snapshot.severity}: {opening.snapshot.title}", incident_id
        )

    # -- act on an existing incident -------------------------------------------------------------
    def act(
        self,
        *,
        command: lifecycle.Command,
        actor: str | None,
        request_key: str | None,
        channel_id: str | None = None,
        incident_id: int | None = None,
        source: Source = Source.SLACK,
    ) -> Outcome:
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                self._claim(session, request_key, now)
                incident = self._locked(session, channel_id, incident_id)
                if incident is None:
                    raise Refused(NOT_AN_INCIDENT)
                assert incident.id is not None
                found_id = incident.id
                decision = lifecycle.decide(
                    self.catalog,
                    q.snapshot(session=session, incident=incident),
                    command,
                    now=now,
                    actor=actor,
                    source=source,
                )
                q.apply_decision(session=session, incident=incident, decision=decision, now=now)
                self._announce(session, found_id, decision.entries, now)
        except Refused as refused:
            return Outcome(False, refused.reason, incident_id)
        except _Duplicate:
            return Outcome(True, "Already handled.", incident_id, duplicate=True)
        self.deliver(found_id)
        return Outcome(True, "; ".join(e.text for e in decision.entries), found_id)

    # -- pins ------------------------------------------------------------------------------------
    def pin(self, *, channel_id: str, ts: str, actor: str, request_key: str | None) -> Outcome:
        now = self.clock.now()
        key = f"pin:{channel_id}:{ts}"
        try:
            with self.db.transaction() as session:
                self._claim(session, request_key, now)
                incident = q.incident_by_channel(
                    session=session, channel_id=channel_id, for_update=True
                )
                if incident is None or incident.id is None:
                    return Outcome(False, NOT_AN_INCIDENT)
                found_id = incident.id
                existing = q.timeline_entry_by_key(
                    session=session, incident_id=found_id, dedup_key=key
                )
                if existing is not None:  # pinned by one more person
                    pinned_by = list(existing.data.get("pinned_by", []))
                    if actor not in pinned_by:
                        existing.data = {**existing.data, "pinned_by": [*pinned_by, actor]}
                        session.add(existing)
                    return Outcome(True, "Already on the timeline.", found_id)
                said_at = _ts_instant(ts, fallback=now).isoformat()
                data = {"channel": channel_id, "ts": ts, "said_at": said_at, "pinned_by": [actor]}
                entry = Entry(EntryKind.PIN, now, "(pinned message)", actor, Source.SLACK, data)
                (row,) = q.add_entries(
                    session=session, incident_id=found_id, entries=[entry], now=now, dedup_key=key
                )
                outbox.enqueue(
                    session=session,
                    lane=fx.lane(found_id),
                    kind=fx.FILL_PIN,
                    now=now,
                    incident_id=found_id,
                    payload={"entry_id": row.id, "channel": channel_id, "ts": ts},
                )
        except _Duplicate:
            return Outcome(True, "Already handled.", duplicate=True)
        self.deliver(found_id)
        return Outcome(True, "Pinned to the timeline.", found_id)

    def unpin(self, *, channel_id: str, ts: str, actor: str, request_key: str | None) -> Outcome:
        now = self.clock.now()
        key = f"pin:{channel_id}:{ts}"
        try:
            with self.db.transaction() as session:
                self._claim(session, request_key, now)
                incident = q.incident_by_channel(
                    session=session, channel_id=channel_id, for_update=True
                )
                if incident is None or incident.id is None:
                    return Outcome(False, NOT_AN_INCIDENT)
                existing = q.timeline_entry_by_key(
                    session=session, incident_id=incident.id, dedup_key=key
                )
                if existing is None:
                    return Outcome(True, "Not on the timeline.", incident.id)
                remaining = [u for u in existing.data.get("pinned_by", []) if u != actor]
                if remaining:
                    existing.data = {**existing.data, "pinned_by": remaining}
                    session.add(existing)
                    return Outcome(True, "Still pinned by others.", incident.id)
                session.delete(existing)
                return Outcome(True, "Removed from the timeline.", incident.id)
        except _Duplicate:
            return Outcome(True, "Already handled.", duplicate=True)

    # -- queries ---------------------------------------------------------------------------------
    def open_incidents(self) -> Sequence[Incident]:
        open_ids = [s.id for s in self.catalog.statuses if s.phase is not Phase.CLOSED]
        with self.db.read() as session:
            return q.list_incidents(session=session, statuses=open_ids, include_private=False)

    def incident(self, incident_id: int) -> Incident | None:
        with self.db.read() as session:
            return q.get_incident(session=session, incident_id=incident_id)

    def incident_for_channel(self, channel_id: str) -> Incident | None:
        with self.db.read() as session:
            return q.incident_by_channel(session=session, channel_id=channel_id)

    # -- delivery --------------------------------------------------------------------------------
    def deliver(self, incident_id: int) -> None:
        if self.runner is not None:
            self.runner.run_lane(fx.lane(incident_id))

    # -- internals -------------------------------------------------------------------------------
    def _claim(self, session: Session, request_key: str | None, now: datetime) -> None:
        if request_key and not q.claim_request(session=session, key=request_key, now=now):
            raise _Duplicate

    def _locked(
        self, session: Session, channel_id: str | None, incident_id: int | None
    ) -> Incident | None:
        if incident_id is not None:
            return q.get_incident(session=session, incident_id=incident_id, for_update=True)
        if channel_id is not None:
            return q.incident_by_channel(session=session, channel_id=channel_id, for_update=True)
        return None

    def _announce(
        self, session: Session, incident_id: int, entries: Sequence[Entry], now: datetime
    ) -> None:
        lane = fx.lane(incident_id)
        for entry in entries:
            if entry.kind is EntryKind.ROLE and entry.data.get("user"):  # bring them in first
                outbox.enqueue(
                    session=session,
                    lane=lane,
                    kind=fx.INVITE,
                    now=now,
                    incident_id=incident_id,
                    payload={"users": [entry.data["user"]]},
                )
            payload = {
                "kind": entry.kind.value,
                "text": entry.text,
                "actor": entry.actor,
                "at": entry.at.isoformat(),
                "data": entry.data,
            }
            outbox.enqueue(
                session=session,
                lane=lane,
                kind=fx.POST_LINE,
                now=now,
                incident_id=incident_id,
                payload=payload,
            )
        outbox.enqueue(
            session=session,
            lane=lane,
            kind=fx.REFRESH,
            now=now,
            incident_id=incident_id,
            coalesce=True,
        )


def _ts_instant(ts: str, *, fallback: datetime) -> datetime:
    """A Slack message ts is its Unix time: when the pinned message was said."""
    try:
        return datetime.fromtimestamp(float(ts), tz=fallback.tzinfo)
    except (ValueError, OverflowError, OSError):
        return fallback
