"""Paging a service from the channel, and who is on call: the PagerDuty side of `/incident`."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot.core.catalog import PagerDutyTarget
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging
from bot.flows.pins import NOT_AN_INCIDENT
from bot.flows.ports import OnCall, Pager
from bot.flows.slack_effects import announce_entry
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incidents as q

_PD_ID = re.compile(r"^P[A-Z0-9]{5,13}$")
NOT_CONFIGURED = "PagerDuty is not set up: set PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL (see README → PagerDuty)."


class PagerFlows(UnitOfWork):
    def target(self, service: str | None) -> PagerDutyTarget:
        """A catalog service, or a PagerDuty service id typed as is."""
        if service and self.catalog.service(service) is None and _PD_ID.match(service):
            return PagerDutyTarget(service_id=service)
        if service and self.catalog.service(service) is None and service != self.default_name:
            known = (
                ", ".join(f"`{s.id}`" for s in self.catalog.services)
                or "none yet (add them to the catalog)"
            )
            raise Refused(
                f"Unknown service `{service}`. Services: {known}, or a PagerDuty service id."
            )
        return paging.target_for(self.catalog, self.paging, service)

    default_name = "default"

    def page(
        self, *, channel_id: str, service: str, actor: str, request_key: str | None
    ) -> Outcome:
        """REST incident on the service; responders on its escalation policy when PagerDuty
        already has an incident for ours (a second page must not open a second incident)."""

        def work(session: Session, now: datetime) -> Outcome:
            if not self.paging.enabled:
                raise Refused(NOT_CONFIGURED)
            incident = q.incident_by_channel(
                session=session, channel_id=channel_id, for_update=True
            )
            if incident is None or incident.id is None:
                raise Refused(NOT_AN_INCIDENT)
            target = self.target(service)
            pages = paging.pages_of(session=session, incident_id=incident.id)
            key = f"incidentbot-{incident.id}-{service}-{len(pages)}"
            if any(p.kind != "responders" for p in pages) and target.escalation_policy_id:
                kind, target_id, effect = (
                    "responders",
                    target.escalation_policy_id,
                    paging.REQUEST_RESPONDERS,
                )
            elif target.service_id:
                kind, target_id, effect = "incident", target.service_id, paging.CREATE_INCIDENT
            else:
                raise Refused(
                    f"`{service}` has no PagerDuty service (nor escalation policy) in the catalog."
                )
            paging.add_page(
                session=session,
                incident=incident,
                kind=kind,
                key=key,
                target=target_id,
                now=now,
                effect=effect,
                requested_by=actor,
                service=service,
                ack_timeout_minutes=self.catalog.paging.ack_timeout_minutes,
            )
            announce_entry(
                session,
                incident.id,
                Entry(
                    EntryKind.PAGE,
                    now,
                    f"Paging {service}…",
                    actor,
                    Source.SLACK,
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
