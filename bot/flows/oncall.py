"""Paging a service from the conversation, and who is on call: the pager side of `/incident`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.catalog import PagerTarget
from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.refusals import sentence
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging
from bot.flows.chat_kinds import announce_entry
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.flows.pins import not_an_incident
from bot.flows.ports import IntegrationError, OnCall, PagerRefused
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incident_reads
from bot.store.session import Session


class PagerFlows(UnitOfWork):
    def target(self, service: str | None, what: str = paging.PAGE) -> PagerTarget:
        """A catalog service, or an id the default pager takes as is."""
        return paging.resolve_target(self.catalog, self.paging, service, what)

    def page(
        self, *, channel_id: str, service: str, actor: str, request_key: str | None
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = incident_reads.locked_by_channel(session=session, channel_id=channel_id)
            if incident is None:
                raise not_an_incident(paging.PAGE)
            paging.plan_page(
                session=session,
                catalog=self.catalog,
                pagers=self.paging,
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
    def __init__(self, flows: PagerFlows, pagers: Pagers, people: People | None = None) -> None:
        self.flows = flows
        self.pagers = pagers
        self.people = people

    def who(self, service: str | None) -> tuple[str, list[OnCall]]:
        """Who is on call for `service` by its pager, each matched by email to their chat handle
        (as an acknowledgement is: `People`) so the surface can name them as its own."""
        what = "see who is on call"
        if not self.pagers.enabled:
            raise self.pagers.none_set_up(what)
        target = self.flows.target(service, what)
        pager = paging.pager_of(self.pagers, target, what)
        kind = self.pagers.kind_of(target)
        try:
            oncalls = pager.oncalls(target)
        except PagerRefused as refused:
            why = f"{refused.reason} for `{service or 'the default service'}`."
            raise Refused(Refusal(what, why, fix=sentence(refused.fix))) from refused
        except IntegrationError as exc:  # named after the pager that did not answer
            why = f"{pager.name} did not answer ({exc})."
            raise Refused(Refusal(what, why, fix="Try again in a moment.")) from exc
        return (service or "default"), [self._matched(kind, oncall) for oncall in oncalls]

    def _matched(self, kind: str | None, oncall: OnCall) -> OnCall:
        if self.people is None or kind is None or not oncall.email:
            return oncall
        someone = self.people.from_pager(kind, user_id=None, email=oncall.email, name=oncall.name)
        return replace(oncall, chat=someone.chat)
