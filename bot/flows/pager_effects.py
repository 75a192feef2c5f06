"""Outbox handlers that page. Each is idempotent: the pager opens at most one page per key
(its adapter looks the page up, or lets the pager dedup on it), and a page the pager's webhook
reported first is only said once."""

from __future__ import annotations

from typing import Any

from bot.core.catalog import Catalog, Responder
from bot.core.milestones import Milestone, Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging, step_actions
from bot.flows.chat_kinds import announce_entry
from bot.flows.pagers import Pagers
from bot.flows.ports import (
    CardView,
    Clock,
    ConversationLink,
    IntegrationError,
    PagePlan,
    Pager,
    PageRef,
    PageRequest,
)
from bot.flows.views import card_view
from bot.store import incident_reads, pages as page_store
from bot.store.db import Database
from bot.store.pages import Page
from bot.store.read_models import IncidentSummary, QueuedEffect as OutboxRow


def page_ref(page: Page) -> PageRef:
    return PageRef(
        key=page.key, kind=page.kind, target=page.target, pager_id=page.pager_incident_id
    )


class PagerEffects:
    def __init__(
        self,
        db: Database,
        pagers: Pagers,
        catalog: Catalog,
        clock: Clock,
        *,
        public_url: str | None,
        conversation_link: ConversationLink | None = None,
    ) -> None:
        self.db = db
        self.conversation_link = conversation_link
        self.pagers = pagers
        self.catalog = catalog
        self.clock = clock
        self.public_url = public_url

    @property
    def handlers(self) -> dict[str, Any]:
        return {
            paging.OPEN: self.open,
            paging.ADD_RESPONDERS: self.add_responders,
            paging.ACKNOWLEDGE: lambda row: self.follow(row, "acknowledge"),
            paging.RESOLVE: lambda row: self.follow(row, "resolve"),
        }

    # -- helpers ---------------------------------------------------------------------------------
    def _load(self, row: OutboxRow) -> tuple[Page | None, IncidentSummary, CardView]:
        with self.db.read() as session:
            page = (
                page_store.page(session=session, page_id=row.payload["page_id"])
                if "page_id" in row.payload
                else None
            )
            incident = incident_reads.get_summary(
                session=session, incident_id=int(row.incident_id or 0)
            )
            if incident is None:
                raise IntegrationError("bot", "incident_gone", retryable=False)
            return (
                page,
                incident,
                card_view(
                    session=session,
                    incident=incident,
                    catalog=self.catalog,
                    public_url=self.public_url,
                ),
            )

    def _pager(self, page: Page) -> Pager:
        pager = self.pagers.get(page.pager)
        if pager is None:
            raise IntegrationError(
                "bot", "pager_gone", retryable=False, detail=f"no `{page.pager}` pager is set up"
            )
        return pager

    def _names(self, row: OutboxRow) -> str:
        """The pager(s) a row talks to, for what the channel is told."""
        with self.db.read() as session:
            if "page_id" in row.payload:
                page = page_store.page(session=session, page_id=row.payload["page_id"])
                kinds = [page.pager] if page is not None else []
            else:
                kinds = [
                    p.pager
                    for p in page_store.pages_of(
                        session=session, incident_id=int(row.incident_id or 0)
                    )
                ]
        names = [p.name for k in dict.fromkeys(kinds) if (p := self.pagers.get(k)) is not None]
        return " and ".join(names) or "the pager"

    def _landed(
        self,
        row: OutboxRow,
        page: Page,
        text: str,
        *,
        pager_incident_id: str | None = None,
        html_url: str | None = None,
    ) -> None:
        """Record the page as landed, on the timeline and in the channel, and the playbook
        step that asked for it as done, in one transaction."""
        now = self.clock.now()
        with self.db.transaction() as session:
            stored = page_store.record_page_landed(
                session=session,
                page_id=page.id,
                now=now,
                pager_incident_id=pager_incident_id,
                html_url=html_url,
            )
            data = {
                "page_id": page.id,
                "pager": page.pager,
                "kind": page.kind,
                "pager_incident_id": stored.pager_incident_id,
                "html_url": stored.html_url,
            }
            announce_entry(
                session,
                page.incident_id,
                Entry(EntryKind.PAGE, now, text, page.requested_by, Source.PAGER, data),
                now,
            )
            if "step_id" in row.payload:
                result = (
                    f"{text}: {stored.html_url}"
                    if stored.html_url and stored.html_url not in text
                    else text
                )
                step_actions.finish(
                    session, row.payload["step_id"], ok=True, result=result, now=now
                )

    def _links(self, card: CardView) -> tuple[tuple[str, str], ...]:
        links = []
        if card.conversation_id and self.conversation_link is not None:
            links.append(self.conversation_link(card.conversation_id, card.conversation_name))
        if card.review_url:
            links.append(("incidentbot review page", card.review_url))
        return tuple(links)

    def _request(self, page: Page, incident: IncidentSummary, card: CardView) -> PageRequest:
        target = paging.target_for(self.catalog, self.pagers, page.service)
        policy = (
            (Responder(type="escalation", id=target.escalation_policy_id),)
            if target.escalation_policy_id
            else ()
        )
        links = self._links(card)
        detected = card.milestones.get(Milestone.DETECTED)
        return PageRequest(
            key=page.key,
            plan=PagePlan(page.kind, page.target),
            title=f"[{card.severity.id}] {card.title}",
            details="\n".join(
                filter(None, [incident.description, *(f"{text}: {url}" for text, url in links)])
            ),
            severity_rank=self.catalog.severity_rank(card.severity.id),
            source=incident.service or "incidentbot",
            detected_at=detected.at if detected else self.clock.now(),
            links=links,
            responders=(*target.responders, *policy),
            facts=(
                ("incident", card.id),
                ("severity", card.severity.id),
                ("status", card.status.name),
                ("service", incident.service),
                ("description", incident.description),
            ),
        )

    # -- handlers --------------------------------------------------------------------------------
    def _heard_first(self, row: OutboxRow, page: Page, incident: IncidentSummary) -> None:
        """The pager's webhook told us about the page before its own answer reached us (a lost
        answer, retried): say it landed, and finish the playbook step behind it, once."""
        if page.status not in ("triggered", "acknowledged", "resolved"):
            return
        name = self._pager(page).name
        with self.db.read() as session:
            said = page_store.page_announced(
                session=session,
                incident_id=page.incident_id,
                page_id=page.id,
                prefix=f"Paged {name}",
            )
        if said:
            return
        now = self.clock.now()
        text = f"Paged {name} ({page.service or incident.service or 'default routing'})"
        with self.db.transaction() as session:
            data = {
                "page_id": page.id,
                "pager": page.pager,
                "kind": page.kind,
                "pager_incident_id": page.pager_incident_id,
                "html_url": page.html_url,
            }
            announce_entry(
                session,
                page.incident_id,
                Entry(EntryKind.PAGE, now, text, page.requested_by, Source.PAGER, data),
                now,
            )
            if "step_id" in row.payload:
                step_actions.finish(session, row.payload["step_id"], ok=True, result=text, now=now)

    def open(self, row: OutboxRow) -> None:
        page, incident, card = self._load(row)
        if page is not None and (page.pager_incident_id or page.status != "pending"):
            self._heard_first(row, page, incident)
        if page is None or page.pager_incident_id or page.status != "pending":
            return
        pager = self._pager(page)
        opened = pager.open(self._request(page, incident, card))
        where = opened.url or opened.id
        self._landed(
            row,
            page,
            f"Paged {pager.name}: {where}"
            if where
            else f"Paged {pager.name} ({incident.service or 'default routing'})",
            pager_incident_id=opened.id or None,
            html_url=opened.url or None,
        )

    def add_responders(self, row: OutboxRow) -> None:
        page, _incident, card = self._load(row)
        if page is None or page.status != "pending":
            return
        pager = self._pager(page)
        with self.db.read() as session:
            opened = next(
                (
                    p
                    for p in page_store.pages_of(session=session, incident_id=card.id)
                    if p.pager == page.pager and p.pager_incident_id
                ),
                None,
            )
        if opened is None:
            raise IntegrationError(
                pager.kind,
                "no_page_yet",
                retryable=True,
                detail=f"waiting for {pager.name} to report the page",
            )
        pager.add_responders(
            page_ref(opened),
            PagePlan(page.kind, page.target),
            f"Help needed on [{card.severity.id}] {card.title}",
        )
        self._landed(
            row,
            page,
            f"Requested responders from {pager.name} ({page.service or page.target})",
            pager_incident_id=opened.pager_incident_id,
        )

    def follow(self, row: OutboxRow, action: str) -> None:
        """An ack / resolve made here, carried to every page of the incident."""
        iid = int(row.incident_id or 0)
        with self.db.read() as session:  # the pages only: no card to build
            if incident_reads.get_summary(session=session, incident_id=iid) is None:
                raise IntegrationError("bot", "incident_gone", retryable=False)
            pages = page_store.pages_of(session=session, incident_id=iid)
        status = {"acknowledge": "acknowledged", "resolve": "resolved"}[action]
        for page in pages:
            pager = self.pagers.get(page.pager)
            if (
                page.status in (status, "resolved", "pending", "failed")
                or page.kind == paging.RESPONDERS
                or pager is None
            ):
                continue
            try:
                if action == "acknowledge":
                    pager.acknowledge(page_ref(page))
                else:
                    pager.resolve(page_ref(page))
            except IntegrationError as exc:
                if exc.retryable:
                    raise
                # e.g. already resolved in the pager: nothing left to carry over
            with self.db.transaction() as session:
                page_store.record_page_followed(
                    session=session, page_id=page.id, status=status, now=self.clock.now()
                )

    def still_trying(self, row: OutboxRow, error: str) -> None:
        """The first failure of a page, or of telling the pager an acknowledgement or a
        resolution (it keeps escalating meanwhile), is told in the channel; it keeps being retried."""
        what = {
            paging.OPEN: "Paging {}",
            paging.ADD_RESPONDERS: "Paging {}",
            paging.ACKNOWLEDGE: "Telling {} it is acknowledged",
            paging.RESOLVE: "Telling {} it is resolved",
        }.get(row.kind)
        if what is None or row.incident_id is None:
            return
        what = what.format(self._names(row))
        now = self.clock.now()
        with self.db.transaction() as session:
            entry = Entry(
                EntryKind.PAGE,
                now,
                f"{what} failed ({error}); retrying until it lands",
                None,
                Source.SYSTEM,
                {"pending": True},
            )
            announce_entry(session, row.incident_id, entry, now)

    def gave_up(self, row: OutboxRow, error: str) -> None:
        if row.incident_id is None or row.kind not in (paging.OPEN, paging.ADD_RESPONDERS):
            return
        name = self._names(row)
        now = self.clock.now()
        with self.db.transaction() as session:
            page_store.record_page_failed(session=session, page_id=row.payload["page_id"], now=now)
            if "step_id" in row.payload:
                step_actions.finish(
                    session,
                    row.payload["step_id"],
                    ok=False,
                    result=f"{name} said {error}",
                    now=now,
                )
            entry = Entry(
                EntryKind.PAGE,
                now,
                f"Paging {name} failed for good ({error}). Page by hand: /incident page <service>",
                None,
                Source.SYSTEM,
                {},
            )
            announce_entry(session, row.incident_id, entry, now)
