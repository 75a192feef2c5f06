"""Pagers' webhooks in: acknowledgements, resolutions and reopenings made in a pager move the
incident here, with the pager as the milestone's source and the on-call as its author, stamped
at the pager's own time for the event when the timeline allows it (bot/core/sender_time.py): a
delivery held back by an outage does not move the milestone by the outage. Each adapter parses
its vendor's webhook into a `PagerEvent`."""

from __future__ import annotations

from datetime import datetime

from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Phase
from bot.core.milestones import Milestone, Source
from bot.core.sender_time import Told, choose
from bot.core.timeline import Entry, EntryKind
from bot.flows.chat_kinds import announce_entry
from bot.flows.incidents import IncidentFlows
from bot.flows.pagers import Pagers
from bot.flows.people import People, Someone
from bot.flows.ports import Chat, PagerEvent
from bot.flows.unit import Outcome
from bot.store import incidents as q, pages as page_store
from bot.store.session import Session


class PagerInbound:
    def __init__(
        self, flows: IncidentFlows, pagers: Pagers, chat: Chat, people: People | None = None
    ) -> None:
        self.flows = flows
        self.pagers = pagers
        self.chat = chat
        self.people = people or People(flows.db, chat, pagers, flows.clock)

    def _kind(self, event: PagerEvent) -> str:
        pager = self.pagers.named(event.pager)
        return pager.kind if pager is not None else event.pager.lower()

    def handle(self, event: PagerEvent) -> Outcome:
        kind = self._kind(event)
        ours = self._ours(event, kind)
        if ours is None:
            return Outcome(True, "Not an incident of ours.")
        incident_id, paged_at = ours
        told = Told(event.pager, event.occurred_at)
        key = f"{kind}:event:{event.id}"
        someone = self._someone(event, kind)
        who = someone.chat
        by = f" by {someone.named}" if someone.named else ""
        catalog = self.flows.catalog
        match event.action:
            case "acknowledged":
                page_floor = (("the page", paged_at),)
                outcome = self.flows.act(
                    command=lifecycle.Acknowledge(
                        Told(event.pager, event.occurred_at, page_floor),
                        by=None if who else someone.known_as,
                    ),
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
                self._page_status(event, kind, "acknowledged", incident_id, told)
                return outcome
            case "resolved":
                self._page_status(event, kind, "resolved", incident_id, told)
                resolved = catalog.status_with_phase(Phase.RESOLVED).id
                return self.flows.act(
                    command=lifecycle.ChangeStatus(
                        resolved, f"Resolved in {event.pager}{by}", told=told
                    ),
                    actor=who,
                    request_key=key,
                    incident_id=incident_id,
                    source=Source.PAGER,
                )
            case "reopened":
                self._page_status(event, kind, "triggered", incident_id, told)
                return self.flows.act(
                    command=lifecycle.ChangeStatus(catalog.initial_status.id, told=told),
                    actor=who,
                    request_key=key,
                    incident_id=incident_id,
                    source=Source.PAGER,
                )
            case "triggered":
                self._page_status(event, kind, "triggered", incident_id, told)
                return Outcome(True, f"Recorded the {event.pager} page.", incident_id)
            case "note" if event.note:
                text = f"{event.pager}: {event.note}{by}"
                return self.flows.run(
                    key,
                    lambda session, now: self._note(session, now, incident_id, text, who),
                    incident_id=incident_id,
                )
        return Outcome(True, f"{event.note or event.action} is not used.", incident_id)

    def _ours(self, event: PagerEvent, kind: str) -> tuple[int, datetime] | None:
        """Our pages carry our key, and the pager echoes it. With the incident: when we first
        paged for it (nothing in the pager happened before that)."""
        with self.flows.db.transaction() as session:
            page = page_store.page_heard_of(
                session=session,
                pager=kind,
                pager_incident_id=event.page_id,
                key=event.page_key,
                url=event.url,
            )
        return None if page is None else (page.incident_id, page.created_at)

    def _page_status(
        self, event: PagerEvent, kind: str, status: str, incident_id: int, told: Told
    ) -> None:
        if not event.page_id:
            return
        with self.flows.db.transaction() as session:
            detected = q.milestones(session=session, incident_id=incident_id).get(
                Milestone.DETECTED
            )
            floors = [("detection", detected.at)] if detected else []
            page_store.record_pager_status(
                session=session,
                pager=kind,
                pager_incident_id=event.page_id,
                status=status,
                url=event.url,
                acknowledged_at=lambda paged_at: (
                    choose(
                        told,
                        received=self.flows.clock.now(),
                        floors=[*floors, ("the page", paged_at)],
                    ).at
                ),
            )

    def _no_commander(self, incident_id: int) -> bool:
        with self.flows.db.read() as session:
            return COMMANDER not in q.roles(session=session, incident_id=incident_id)

    def _someone(self, event: PagerEvent, kind: str) -> Someone:
        """Who acted in the pager, as a person: their chat handle when the chat knows their
        email (`flows/people.py`), else named as the pager names them or by their email."""
        if not (event.agent_id or event.agent_email):
            return Someone(None, None, None, event.agent_name)
        return self.people.from_pager(
            kind, user_id=event.agent_id, email=event.agent_email, name=event.agent_name
        )

    def _note(
        self, session: Session, now: datetime, incident_id: int, text: str, who: str | None
    ) -> Outcome:
        announce_entry(
            session, incident_id, Entry(EntryKind.PAGE, now, text, who, Source.PAGER, {}), now
        )
        return Outcome(True, text, incident_id)
