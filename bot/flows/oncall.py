"""Paging a service from the channel, and who is on call: the PagerDuty side of `/incident`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.catalog import PagerTarget
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging
from bot.flows.pins import NOT_AN_INCIDENT
from bot.flows.ports import OnCall, PagerDutyApi as Pager
from bot.flows.slack_effects import announce_entry
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incidents as q

NOT_CONFIGURED = paging.NOT_CONFIGURED


class PagerFlows(UnitOfWork):
    def target(self, service: str | None) -> PagerTarget:
        """A catalog service, or a PagerDuty service id typed as is."""
        return paging.resolve_target(self.catalog, self.paging, service)

    def page(
        self, *, channel_id: str, service: str, actor: str, request_key: str | None
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = q.incident_by_channel(
                session=session, channel_id=channel_id, for_update=True
            )
            if incident is None or incident.id is None:
                raise Refused(NOT_AN_INCIDENT)
            paging.plan_page(
                session=session,
                catalog=self.catalog,
                defaults=self.paging,
                incident=incident,
                service=service,
                actor=actor,
                now=now,
            )
            announce_entry(
                session,
                incident.id,
                Entry(
                    EntryKind.PAGE,
                    now,
                    f"Paging {service}…",
                    actor,
                    Source.CHAT,
                    {"service": service},
                ),
                now,
            )
            return Outcome(True, f"Paging {service}.", incident.id)

        return self.run(request_key, work)


class OnCallLookup:
    def __init__(self, flows: PagerFlows, pager: Pager) -> None:
        self.flows = flows
        self.pager = pager

    def who(self, service: str | None) -> tuple[str, list[OnCall]]:
        if not self.flows.paging.enabled:
            raise Refused(NOT_CONFIGURED)
        target = self.flows.target(service)
        policy = target.escalation_policy_id or (
            self.pager.escalation_policy_of(target.service_id) if target.service_id else None
        )
        if policy is None:
            raise Refused(
                f"No escalation policy known for `{service or 'the default service'}`: set PAGERDUTY_ESCALATION_POLICY_ID or map it in the catalog."
            )
        return (service or "default"), self.pager.oncalls(escalation_policy_ids=[policy])
