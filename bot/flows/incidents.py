"""Incident use cases: declare, act on an incident (status, severity, roles, ack, note), pins.

Each runs one transaction — the request id, the state change, its timeline entries and the
outbox rows for the chat — then delivers the incident's chat lane. A refusal rolls everything back."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import lifecycle
from bot.core.catalog import Phase
from bot.core.decisions import doing
from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Milestone, Source, Stamp
from bot.core.people import typed
from bot.flows import timers, tracker_effects
from bot.flows.changes import apply_command
from bot.flows.drills import DrillFlows
from bot.flows.followups import FollowupFlows
from bot.flows.oncall import PagerFlows
from bot.flows.pins import NOT_AN_INCIDENT, PinFlows, not_an_incident
from bot.flows.playbooks import PlaybookFlows
from bot.flows.unit import Outcome
from bot.store import incident_reads, incidents as q, timers as timer_store
from bot.store.read_models import IncidentSummary
from bot.store.session import Session

__all__ = ["NOT_AN_INCIDENT", "IncidentFlows", "Outcome"]


class IncidentFlows(PinFlows, PagerFlows, PlaybookFlows, FollowupFlows, DrillFlows):
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
        source: Source = Source.CHAT,
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
            incident = self.declared(
                session,
                opening,
                now,
                request_key=request_key,
                source=source,
                created_by=actor,
                drill=drill,
            )
            snap = opening.snapshot
            return Outcome(True, f"Declared {snap.severity}: {typed(snap.title)}", incident.id)

        # the request id is claimed with the incident's row, after the decision; when the
        # incident sets off nothing more, that row and the others are the only statement
        found = self.catalog.find_severity(severity or self.catalog.default_severity)
        alone = found is None or not self.sets_off_more(severity=found.id, drill=drill)
        return self.run(None, work, alone=alone)

    # -- act on an existing incident -------------------------------------------------------------
    def act(
        self,
        *,
        command: lifecycle.Command,
        actor: str | None,
        request_key: str | None,
        channel_id: str | None = None,
        incident_id: int | None = None,
        source: Source = Source.CHAT,
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = self._locked(session, channel_id, incident_id)
            if incident is None:
                raise not_an_incident(doing(command))
            decision = apply_command(
                session, self.catalog, incident.id, command, actor=actor, source=source, now=now
            )
            return Outcome(True, "; ".join(e.text for e in decision.entries), incident.id)

        return self.run(request_key, work, incident_id=incident_id)

    def snooze_status_update(
        self, *, incident_id: int, minutes: int, actor: str, request_key: str | None
    ) -> Outcome:
        """Push the next status-update reminder back (the commander asked for quiet)."""

        def work(session: Session, now: datetime) -> Outcome:
            incident = incident_reads.locked(session=session, incident_id=incident_id)
            if incident is None or self.catalog.status(incident.status).phase not in (
                Phase.ACTIVE,
                Phase.MITIGATED,
            ):
                why = "This incident no longer needs status updates."
                raise Refused(Refusal("snooze the status-update reminder", why))
            timer_store.arm(
                session=session,
                incident_id=incident_id,
                kind=timers.STATUS_UPDATE,
                due_at=now + timedelta(minutes=minutes),
                now=now,
            )
            return Outcome(True, f"Next status-update reminder in {minutes} min.", incident_id)

        return self.run(request_key, work, incident_id=incident_id)

    def export_postmortem(
        self, *, incident_id: int, actor: str, request_key: str | None
    ) -> Outcome:
        """Draft the post-mortem into the tracker now (again: the same issue is updated)."""

        def work(session: Session, now: datetime) -> Outcome:
            incident = incident_reads.locked(session=session, incident_id=incident_id)
            what = "export the post-mortem"
            if incident is None:
                raise not_an_incident(what)
            held = tracker_effects.private_hold(self.catalog, incident)
            if held is not None:
                fix = "The draft stays here: `/incident postmortem`."
                raise Refused(Refusal(what, f"Not exported: {held}.", fix=fix))
            tracker_effects.enqueue_export(session, incident_id, now)
            return Outcome(True, tracker_effects.DRAFTING, incident_id)

        return self.run(request_key, work, incident_id=incident_id)

    def milestones_of(self, channel_id: str) -> tuple[IncidentSummary, dict[Milestone, Stamp]]:
        with self.db.read() as session:
            incident = incident_reads.summary_by_conversation(
                session=session, conversation_id=channel_id
            )
            if incident is None:
                raise not_an_incident("look up the incident's milestones")
            return incident, q.milestones(session=session, incident_id=incident.id)

    def stamps(self, incident_id: int) -> dict[Milestone, Stamp]:
        with self.db.read() as session:
            return q.milestones(session=session, incident_id=incident_id)

    def check(self, *, incident_id: int, command: lifecycle.Command, actor: str) -> str | None:
        """Why `command` would be refused now (None: it would pass), without changing anything:
        lets a form show the problem in place."""
        with self.db.read() as session:
            snapshot = incident_reads.snapshot(session=session, incident_id=incident_id)
        if snapshot is None:
            return NOT_AN_INCIDENT
        try:
            lifecycle.decide(self.catalog, snapshot, command, now=self.clock.now(), actor=actor)
        except Refused as refused:
            return refused.reason
        return None

    # -- queries ---------------------------------------------------------------------------------
    def open_incidents(self) -> list[IncidentSummary]:
        """Open public incidents, newest first."""
        open_ids = [s.id for s in self.catalog.statuses if s.phase is not Phase.CLOSED]
        with self.db.read() as session:
            return incident_reads.public_summaries_in(session=session, statuses=open_ids)

    def incident(self, incident_id: int) -> IncidentSummary | None:
        with self.db.read() as session:
            return incident_reads.get_summary(session=session, incident_id=incident_id)

    # -- internals -------------------------------------------------------------------------------
    def _locked(
        self, session: Session, channel_id: str | None, incident_id: int | None
    ) -> IncidentSummary | None:
        """The incident acted on, its row locked until the transaction ends."""
        if incident_id is not None:
            return incident_reads.locked(session=session, incident_id=incident_id)
        if channel_id is not None:
            return incident_reads.locked_by_channel(session=session, channel_id=channel_id)
        return None
