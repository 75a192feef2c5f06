"""Outbox handlers that page through PagerDuty. Each is idempotent: Events v2 dedups on the
incident's dedup_key, REST incidents are looked up by incident_key before one is created."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.core.catalog import Catalog
from bot.core.milestones import Milestone, Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import paging, step_actions
from bot.flows.ports import CardView, Clock, IntegrationError, PagerDutyApi as Pager
from bot.flows.slack_effects import announce_entry
from bot.flows.views import card_view
from bot.store import incidents as q
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow, PageRow, TimelineRow

# PagerDuty's event severities, most severe first; the catalog's scale maps onto them by rank.
PD_SEVERITIES = ("critical", "error", "warning", "info")


class PagerEffects:
    def __init__(
        self,
        db: Database,
        pager: Pager,
        catalog: Catalog,
        clock: Clock,
        *,
        public_url: str | None,
        defaults: paging.PagingDefaults,
    ) -> None:
        self.defaults = defaults
        self.db = db
        self.pager = pager
        self.catalog = catalog
        self.clock = clock
        self.public_url = public_url

    @property
    def handlers(self) -> dict[str, Any]:
        return {
            paging.TRIGGER_EVENT: self.trigger_event,
            paging.CREATE_INCIDENT: self.create_incident,
            paging.REQUEST_RESPONDERS: self.request_responders,
            paging.ACKNOWLEDGE: lambda row: self.follow(row, "acknowledge"),
            paging.RESOLVE: lambda row: self.follow(row, "resolve"),
        }

    # -- helpers ---------------------------------------------------------------------------------
    def _load(self, row: OutboxRow) -> tuple[PageRow | None, Incident, CardView]:
        with self.db.read() as session:
            page = (
                session.get(PageRow, row.payload["page_id"]) if "page_id" in row.payload else None
            )
            incident = q.get_incident(session=session, incident_id=int(row.incident_id or 0))
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

    def _landed(self, row: OutboxRow, page: PageRow, text: str, **values: Any) -> None:
        """Record the page's new state, on the timeline and in the channel, and the playbook
        step that asked for it as done, in one transaction."""
        now = self.clock.now()
        with self.db.transaction() as session:
            stored = session.get(PageRow, page.id)
            assert stored is not None
            for key, value in {**values, "updated_at": now}.items():
                setattr(stored, key, value)
            session.add(stored)
            data = {
                "page_id": page.id,
                "kind": page.kind,
                "pd_incident_id": stored.pd_incident_id,
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

    def _pd_severity(self, severity: str) -> str:
        return PD_SEVERITIES[min(self.catalog.severity_rank(severity), len(PD_SEVERITIES) - 1)]

    def _links(self, card: CardView) -> list[dict[str, str]]:
        links = []
        if card.channel_id:
            links.append(
                {
                    "href": f"https://slack.com/app_redirect?channel={card.channel_id}",
                    "text": f"Slack #{card.channel_name or card.channel_id}",
                }
            )
        if card.review_url:
            links.append({"href": card.review_url, "text": "incidentbot review page"})
        return links

    # -- handlers --------------------------------------------------------------------------------
    def _heard_first(self, row: OutboxRow, page: PageRow, incident: Incident) -> None:
        """PagerDuty's webhook told us about the page before its own answer reached us (a lost
        answer, retried): say it landed, and finish the playbook step behind it, once."""
        if page.status not in ("triggered", "acknowledged", "resolved"):
            return
        with self.db.read() as session:
            said = session.exec(
                select(TimelineRow).where(
                    TimelineRow.incident_id == page.incident_id,
                    TimelineRow.kind == EntryKind.PAGE.value,
                    col(TimelineRow.text).startswith("Paged PagerDuty"),
                )
            ).all()
        if any(r.data.get("page_id") == page.id for r in said):
            return
        now = self.clock.now()
        text = f"Paged PagerDuty ({page.service or incident.service or 'default routing'})"
        with self.db.transaction() as session:
            data = {
                "page_id": page.id,
                "kind": page.kind,
                "pd_incident_id": page.pd_incident_id,
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

    def trigger_event(self, row: OutboxRow) -> None:
        page, incident, card = self._load(row)
        if page is not None and page.status != "pending":
            self._heard_first(row, page, incident)
        if page is None or page.status != "pending":
            return
        detected = card.milestones.get(Milestone.DETECTED)
        self.pager.trigger(
            routing_key=page.target,
            dedup_key=page.key,
            summary=f"[{card.severity.id}] {card.title}",
            source=incident.service or "incidentbot",
            severity=self._pd_severity(card.severity.id),
            timestamp=detected.at if detected else self.clock.now(),
            custom_details={
                "incident": card.id,
                "severity": card.severity.id,
                "status": card.status.name,
                "service": incident.service,
                "description": incident.description,
            },
            links=self._links(card),
        )
        self._landed(
            row,
            page,
            f"Paged PagerDuty ({incident.service or 'default routing'})",
            status="triggered",
        )

    def create_incident(self, row: OutboxRow) -> None:
        page, incident, card = self._load(row)
        if page is not None and page.pd_incident_id:
            self._heard_first(row, page, incident)
        if page is None or page.pd_incident_id:
            return
        found = self.pager.find_incident(incident_key=page.key)  # a lost answer must not page twice
        if found is None:
            policy = paging.target_for(
                self.catalog, self.defaults, page.service
            ).escalation_policy_id
            details = "\n".join(
                filter(
                    None,
                    [
                        incident.description,
                        *(f"{link['text']}: {link['href']}" for link in self._links(card)),
                    ],
                )
            )
            found = self.pager.create_incident(
                service_id=page.target,
                escalation_policy_id=policy,
                title=f"[{card.severity.id}] {card.title}",
                incident_key=page.key,
                urgency="high" if self.catalog.severity_rank(card.severity.id) <= 1 else "low",
                details=details,
            )
        self._landed(
            row,
            page,
            f"Paged PagerDuty: {found.html_url or found.id}",
            status="triggered",
            pd_incident_id=found.id,
            html_url=found.html_url,
        )

    def request_responders(self, row: OutboxRow) -> None:
        page, _incident, card = self._load(row)
        if page is None or page.status != "pending":
            return
        with self.db.read() as session:
            pd_incident = next(
                (
                    p.pd_incident_id
                    for p in paging.pages_of(session=session, incident_id=card.id)
                    if p.pd_incident_id
                ),
                None,
            )
        if pd_incident is None:
            raise IntegrationError(
                "pagerduty",
                "no_incident_yet",
                retryable=True,
                detail="waiting for PagerDuty to report the incident",
            )
        self.pager.request_responders(
            incident_id=pd_incident,
            escalation_policy_id=page.target,
            message=f"Help needed on [{card.severity.id}] {card.title}",
        )
        self._landed(
            row,
            page,
            f"Requested responders from PagerDuty ({page.service or page.target})",
            status="triggered",
            pd_incident_id=pd_incident,
        )

    def follow(self, row: OutboxRow, action: str) -> None:
        """Slack's ack / resolve, carried to every page of the incident."""
        _page, incident, _card = self._load(row)
        with self.db.read() as session:
            pages = paging.pages_of(session=session, incident_id=int(incident.id or 0))
        status = {"acknowledge": "acknowledged", "resolve": "resolved"}[action]
        for page in pages:
            if (
                page.status in (status, "resolved", "pending", "failed")
                or page.kind == "responders"
            ):
                continue
            try:
                if page.kind == "event":
                    self.pager.event(routing_key=page.target, dedup_key=page.key, action=action)
                elif page.pd_incident_id:
                    self.pager.set_status(incident_id=page.pd_incident_id, status=status)
            except IntegrationError as exc:
                if exc.retryable:
                    raise
                # e.g. already resolved in PagerDuty: nothing left to carry over
            with self.db.transaction() as session:
                stored = session.get(PageRow, page.id)
                if stored is not None:
                    stored.status, stored.updated_at = status, self.clock.now()
                    if status == "acknowledged" and stored.acknowledged_at is None:
                        stored.acknowledged_at = stored.updated_at
                    session.add(stored)

    def still_trying(self, row: OutboxRow, error: str) -> None:
        """The first failure of a page, or of telling PagerDuty an acknowledgement or a
        resolution (it keeps escalating meanwhile), is told in the channel; it keeps being retried."""
        what = {
            paging.TRIGGER_EVENT: "Paging PagerDuty",
            paging.CREATE_INCIDENT: "Paging PagerDuty",
            paging.REQUEST_RESPONDERS: "Paging PagerDuty",
            paging.ACKNOWLEDGE: "Telling PagerDuty it is acknowledged",
            paging.RESOLVE: "Telling PagerDuty it is resolved",
        }.get(row.kind)
        if what is None or row.incident_id is None:
            return
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
        if row.incident_id is None or "page_id" not in row.payload:
            return
        now = self.clock.now()
        with self.db.transaction() as session:
            page = session.get(PageRow, row.payload["page_id"])
            if page is not None:
                page.status, page.updated_at = "failed", now
                session.add(page)
            if "step_id" in row.payload:
                step_actions.finish(
                    session,
                    row.payload["step_id"],
                    ok=False,
                    result=f"PagerDuty said {error}",
                    now=now,
                )
            entry = Entry(
                EntryKind.PAGE,
                now,
                f"Paging PagerDuty failed for good ({error}). Page by hand: /incident page <service>",
                None,
                Source.SYSTEM,
                {},
            )
            announce_entry(session, row.incident_id, entry, now)
