"""PagerDuty webhooks in: acknowledgements, resolutions and reopenings made in PagerDuty move
the incident here, with PagerDuty as the milestone's source and the on-call as its author, stamped
at PagerDuty's `occurred_at` when the timeline allows it (bot/core/sender_time.py): a delivery
held back by an outage does not move the milestone by the outage."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, or_, select

from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Phase
from bot.core.milestones import Milestone, Source
from bot.core.sender_time import Told, choose
from bot.core.timeline import Entry, EntryKind
from bot.flows.incidents import IncidentFlows
from bot.flows.ports import Chat, IntegrationError, PagerDutyApi as Pager, PagerDutyEvent
from bot.flows.slack_effects import announce_entry
from bot.flows.unit import Outcome
from bot.store import incidents as q
from bot.store.models import PageRow

log = logging.getLogger(__name__)

_NOTES = {
    "incident.unacknowledged": "PagerDuty: acknowledgement timed out, the incident is unacknowledged again",
    "incident.escalated": "PagerDuty: escalated",
    "incident.reassigned": "PagerDuty: reassigned",
    "incident.responder.added": "PagerDuty: responder added",
    "incident.responder.replied": "PagerDuty: a responder replied",
    "incident.delegated": "PagerDuty: delegated to another service",
    "incident.priority_updated": "PagerDuty: priority changed",
}


class PagerDutyInbound:
    def __init__(self, flows: IncidentFlows, pager: Pager, chat: Chat) -> None:
        self.flows = flows
        self.pager = pager
        self.chat = chat

    def handle(self, event: PagerDutyEvent) -> Outcome:
        ours = self._ours(event)
        if ours is None:
            return Outcome(True, "Not an incident of ours.")
        incident_id, paged_at = ours
        told = Told("PagerDuty", event.occurred_at)
        key = f"pagerduty:event:{event.id}"
        who = self._slack_user(event.agent_id)
        by = f" by {event.agent_name}" if event.agent_name else ""
        catalog = self.flows.catalog
        match event.event_type:
            case "incident.acknowledged":
                page_floor = (("the page", paged_at),)
                outcome = self.flows.act(
                    command=lifecycle.Acknowledge(Told("PagerDuty", event.occurred_at, page_floor)),
                    actor=who,
                    request_key=key,
                    incident_id=incident_id,
                    source=Source.PAGER,
                )
                incident = self.flows.incident(incident_id)
                if who and outcome.ok and incident is not None and self._no_commander(incident_id):
                    self.flows.act(
                        command=lifecycle.AssignRole(COMMANDER, who),
                        actor=who,
                        request_key=f"{key}:commander",
                        incident_id=incident_id,
                        source=Source.PAGER,
                    )
                self._page_status(event, "acknowledged", incident_id, told)
                return outcome
            case "incident.resolved":
                self._page_status(event, "resolved", incident_id, told)
                resolved = catalog.status_with_phase(Phase.RESOLVED).id
                return self.flows.act(
                    command=lifecycle.ChangeStatus(
                        resolved, f"Resolved in PagerDuty{by}", told=told
                    ),
                    actor=who,
                    request_key=key,
                    incident_id=incident_id,
                    source=Source.PAGER,
                )
            case "incident.reopened":
                self._page_status(event, "triggered", incident_id, told)
                return self.flows.act(
                    command=lifecycle.ChangeStatus(catalog.initial_status.id, told=told),
                    actor=who,
                    request_key=key,
                    incident_id=incident_id,
                    source=Source.PAGER,
                )
            case "incident.triggered":
                self._page_status(event, "triggered", incident_id, told)
                return Outcome(True, "Recorded the PagerDuty incident.", incident_id)
        note = _NOTES.get(event.event_type)
        if note is None:
            return Outcome(True, f"{event.event_type} is not used.", incident_id)
        return self.flows.run(
            key,
            lambda session, now: self._note(session, now, incident_id, f"{note}{by}", who),
            incident_id=incident_id,
        )

    def _ours(self, event: PagerDutyEvent) -> tuple[int, datetime] | None:
        """Our pages carry our key as the dedup_key / incident_key; PagerDuty echoes it. With the
        incident: when we first paged for it (nothing in PagerDuty happened before that)."""
        with self.flows.db.transaction() as session:
            clauses = [col(PageRow.pd_incident_id) == event.incident_id]
            if event.incident_key:
                clauses.append(col(PageRow.key) == event.incident_key)
            page = session.exec(
                select(PageRow).where(or_(*clauses)).order_by(col(PageRow.id))
            ).first()
            if page is None:
                return None
            if page.pd_incident_id is None:
                page.pd_incident_id, page.html_url = event.incident_id, event.html_url
                session.add(page)
            return page.incident_id, page.created_at

    def _page_status(
        self, event: PagerDutyEvent, status: str, incident_id: int, told: Told
    ) -> None:
        with self.flows.db.transaction() as session:
            detected = q.milestones(session=session, incident_id=incident_id).get(
                Milestone.DETECTED
            )
            floors = [("detection", detected.at)] if detected else []
            for page in session.exec(
                select(PageRow).where(PageRow.pd_incident_id == event.incident_id)
            ).all():
                page.status = status
                if status == "acknowledged" and page.acknowledged_at is None:
                    page.acknowledged_at = choose(
                        told,
                        received=self.flows.clock.now(),
                        floors=[*floors, ("the page", page.created_at)],
                    ).at
                if event.html_url and not page.html_url:
                    page.html_url = event.html_url
                session.add(page)

    def _no_commander(self, incident_id: int) -> bool:
        with self.flows.db.read() as session:
            return COMMANDER not in q.roles(session=session, incident_id=incident_id)

    def _slack_user(self, pagerduty_user: str | None) -> str | None:
        """The on-call's Slack account, matched by email; None when either side does not say."""
        if not pagerduty_user:
            return None
        try:
            email = self.pager.user_email(pagerduty_user)
            return self.chat.user_by_email(email) if email else None
        except IntegrationError as exc:
            log.warning("could not match PagerDuty user %s to Slack: %s", pagerduty_user, exc)
            return None

    def _note(
        self, session: Session, now: datetime, incident_id: int, text: str, who: str | None
    ) -> Outcome:
        announce_entry(
            session, incident_id, Entry(EntryKind.PAGE, now, text, who, Source.PAGER, {}), now
        )
        return Outcome(True, text, incident_id)
