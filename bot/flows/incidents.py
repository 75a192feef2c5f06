"""Incident use cases: declare, act on an incident (status, severity, roles, ack, note), pins.

Each runs one transaction — the request id, the state change, its timeline entries and the
outbox rows for Slack — then delivers the Slack lane. A refusal rolls everything back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core import lifecycle
from bot.core.catalog import Phase
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone, Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging, timers
from bot.flows import slack_effects as fx
from bot.flows.oncall import PagerFlows
from bot.flows.pins import NOT_AN_INCIDENT, PinFlows
from bot.flows.playbooks import PlaybookFlows
from bot.flows.unit import Outcome
from bot.store import incidents as q
from bot.store import outbox
from bot.store import timers as timer_store
from bot.store.models import Incident

__all__ = ["NOT_AN_INCIDENT", "IncidentFlows", "Outcome"]


class IncidentFlows(PinFlows, PagerFlows, PlaybookFlows):
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
        def work(session: Session, now: datetime) -> Outcome:
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
            incident = q.create_incident(
                session=session,
                opening=opening,
                now=now,
                source=source,
                created_by=actor,
                drill=drill,
            )
            self.opened(session, incident, now, alert_born=False)
            snap = opening.snapshot
            return Outcome(True, f"Declared {snap.severity}: {snap.title}", incident.id)

        return self.run(request_key, work)

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
        def work(session: Session, now: datetime) -> Outcome:
            incident = self._locked(session, channel_id, incident_id)
            if incident is None or incident.id is None:
                raise Refused(NOT_AN_INCIDENT)
            snapshot = q.snapshot(session=session, incident=incident)
            decision = lifecycle.decide(
                self.catalog, snapshot, command, now=now, actor=actor, source=source
            )
            q.apply_decision(session=session, incident=incident, decision=decision, now=now)
            self._announce(session, incident.id, decision.entries, now)
            self._follow(session, incident, decision, source, now)
            return Outcome(True, "; ".join(e.text for e in decision.entries), incident.id)

        return self.run(request_key, work, incident_id=incident_id)

    def snooze_status_update(
        self, *, incident_id: int, minutes: int, actor: str, request_key: str | None
    ) -> Outcome:
        """Push the next status-update reminder back (the commander asked for quiet)."""

        def work(session: Session, now: datetime) -> Outcome:
            incident = q.get_incident(session=session, incident_id=incident_id, for_update=True)
            if incident is None or self.catalog.status(incident.status).phase not in (
                Phase.ACTIVE,
                Phase.MITIGATED,
            ):
                raise Refused("This incident no longer needs status updates.")
            timer_store.arm(
                session=session,
                incident_id=incident_id,
                kind=timers.STATUS_UPDATE,
                due_at=now + timedelta(minutes=minutes),
                now=now,
            )
            return Outcome(True, f"Next status-update reminder in {minutes} min.", incident_id)

        return self.run(request_key, work, incident_id=incident_id)

    # -- queries ---------------------------------------------------------------------------------
    def open_incidents(self) -> Sequence[Incident]:
        open_ids = [s.id for s in self.catalog.statuses if s.phase is not Phase.CLOSED]
        with self.db.read() as session:
            return q.list_incidents(session=session, statuses=open_ids, include_private=False)

    def incident(self, incident_id: int) -> Incident | None:
        with self.db.read() as session:
            return q.get_incident(session=session, incident_id=incident_id)

    # -- internals -------------------------------------------------------------------------------
    def _follow(
        self,
        session: Session,
        incident: Incident,
        decision: lifecycle.Decision,
        source: Source,
        now: datetime,
    ) -> None:
        """What a change means beyond Slack: PagerDuty follows acks and resolutions made here, and
        a resolved incident stops collecting its alert group (a recurrence opens a new one)."""
        assert incident.id is not None
        phase = self.catalog.status(incident.status).phase
        if decision.status and phase in (Phase.RESOLVED, Phase.CLOSED):
            incident.open_group = None
            session.add(incident)
            timers.stop_for(session, incident.id, now, resolved=phase is Phase.RESOLVED)
        elif any(e.kind is EntryKind.REOPENED for e in decision.entries):
            timers.stop_for(session, incident.id, now)  # the stale-resolution watch
            timers.arm_for(session, self.catalog, incident, now)
            timers.watch_open(session, incident.id, now)
        elif decision.status or decision.severity or decision.roles:
            timers.arm_for(
                session,
                self.catalog,
                incident,
                now,
                status_update=bool(decision.status or decision.severity),
            )
        if Milestone.ACKNOWLEDGED in decision.set_milestones:
            timer_store.cancel(
                session=session, incident_id=incident.id, now=now, kinds=[paging.REPAGE_TIMER]
            )
        if source is Source.PAGERDUTY:
            return  # PagerDuty told us; telling it back would only echo
        if Milestone.ACKNOWLEDGED in decision.set_milestones:
            paging.follow_status(
                session=session, incident_id=incident.id, effect=paging.ACKNOWLEDGE, now=now
            )
        if decision.status and phase is Phase.RESOLVED:
            paging.follow_status(
                session=session, incident_id=incident.id, effect=paging.RESOLVE, now=now
            )

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
            payload = fx.line_payload(entry)
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
