"""Deciding and recording pages: which PagerDuty target an incident pages, and the page rows
whose keys make every retry harmless. The calls themselves are outbox effects (pager_effects)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select as core_select
from sqlmodel import Session, col, select

from bot.core.catalog import Catalog, PagerTarget
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.markup import escape_mrkdwn
from bot.store import incidents as q, outbox, timers as timer_store
from bot.store.models import Incident, PageRow

TRIGGER_EVENT = "pagerduty.trigger_event"
CREATE_INCIDENT = "pagerduty.create_incident"
REQUEST_RESPONDERS = "pagerduty.request_responders"
ACKNOWLEDGE = "pagerduty.acknowledge"
RESOLVE = "pagerduty.resolve"
REPAGE_TIMER = "repage"


def lane(incident_id: int) -> str:
    return f"pagerduty:{incident_id}"


@dataclass(frozen=True)
class PagingDefaults:
    """PagerDuty targets for services the catalog does not map (env PAGERDUTY_*)."""

    target: PagerTarget = field(default_factory=PagerTarget)
    enabled: bool = False  # PAGERDUTY_API_TOKEN or a routing key is configured


def target_for(catalog: Catalog, defaults: PagingDefaults, service: str | None) -> PagerTarget:
    mapped = catalog.service(service)
    base = defaults.target
    if mapped is None:
        return base
    pd = mapped.pager
    return PagerTarget(
        service_id=pd.service_id or base.service_id,
        escalation_policy_id=pd.escalation_policy_id or base.escalation_policy_id,
        routing_key=pd.routing_key or base.routing_key,
    )


_PD_ID = re.compile(r"^P[A-Z0-9]{5,13}$")
DEFAULT_SERVICE = "default"
NOT_CONFIGURED = "PagerDuty is not set up: set PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL (see README → PagerDuty)."


def resolve_target(catalog: Catalog, defaults: PagingDefaults, service: str | None) -> PagerTarget:
    """A catalog service, `default`, or a PagerDuty service id typed as is; Refused otherwise."""
    if service and catalog.service(service) is None and _PD_ID.match(service):
        return PagerTarget(service_id=service)
    if service and catalog.service(service) is None and service != DEFAULT_SERVICE:
        known = (
            ", ".join(f"`{s.id}`" for s in catalog.services) or "none yet (add them to the catalog)"
        )
        raise Refused(
            f"Unknown service `{escape_mrkdwn(service)}`. Services: {known}, or a PagerDuty service id."
        )
    return target_for(catalog, defaults, service)


def plan_page(
    *,
    session: Session,
    catalog: Catalog,
    defaults: PagingDefaults,
    incident: Incident,
    service: str,
    actor: str | None,
    now: datetime,
    step_id: int | None = None,
) -> PageRow:
    """Page `service` on an incident (Refused when it cannot be): a REST incident on the
    service, or responders on its escalation policy when PagerDuty already has an incident for
    ours (a second page must not open a second incident)."""
    assert incident.id is not None
    if not defaults.enabled:
        raise Refused(NOT_CONFIGURED)
    target = resolve_target(catalog, defaults, service)
    pages = pages_of(session=session, incident_id=incident.id)
    key = f"incidentbot-{incident.id}-{service}-{len(pages)}"
    if any(p.kind != "responders" for p in pages) and target.escalation_policy_id:
        kind, target_id, effect = "responders", target.escalation_policy_id, REQUEST_RESPONDERS
    elif target.service_id:
        kind, target_id, effect = "incident", target.service_id, CREATE_INCIDENT
    else:
        raise Refused(
            f"`{escape_mrkdwn(service)}` has no PagerDuty service (nor escalation policy) in the catalog."
        )
    return add_page(
        session=session,
        incident=incident,
        kind=kind,
        key=key,
        target=target_id,
        now=now,
        effect=effect,
        requested_by=actor,
        service=service,
        ack_timeout_minutes=catalog.paging.ack_timeout_minutes,
        step_id=step_id,
    )


def pages_at_once(
    catalog: Catalog, defaults: PagingDefaults, *, severity: str, drill: bool
) -> bool:
    """Whether a new incident of `severity` is paged (or told why not) when it opens."""
    if not defaults.enabled or drill:
        return False
    return severity in {s.upper() for s in catalog.paging.auto_severities}


def plan_auto_page(
    *,
    session: Session,
    incident: Incident,
    catalog: Catalog,
    defaults: PagingDefaults,
    now: datetime,
    alert_born: bool,
) -> None:
    """Page at once when the severity asks for it: alert-born incidents through Events v2
    (dedup_key = the incident's key), declared ones through REST (incident_key)."""
    assert incident.id is not None
    if not pages_at_once(catalog, defaults, severity=incident.severity, drill=incident.drill):
        return
    target = target_for(catalog, defaults, incident.service)
    key = f"incidentbot-{incident.id}"
    if alert_born and target.routing_key:
        add_page(
            session=session,
            incident=incident,
            kind="event",
            key=key,
            target=target.routing_key,
            now=now,
            effect=TRIGGER_EVENT,
            ack_timeout_minutes=catalog.paging.ack_timeout_minutes,
        )
    elif target.service_id:
        add_page(
            session=session,
            incident=incident,
            kind="incident",
            key=key,
            target=target.service_id,
            now=now,
            effect=CREATE_INCIDENT,
            ack_timeout_minutes=catalog.paging.ack_timeout_minutes,
        )
    else:
        why = f"no PagerDuty routing key or service for {incident.service or 'this incident'}"
        entry = Entry(
            EntryKind.PAGE,
            now,
            f"Not paged: {why}. Map the service in the catalog or set PAGERDUTY_SERVICE_ID.",
            None,
            Source.SYSTEM,
            {},
        )
        q.add_entries(session=session, incident_id=incident.id, entries=[entry], now=now)


def add_page(
    *,
    session: Session,
    incident: Incident,
    kind: str,
    key: str,
    target: str,
    now: datetime,
    effect: str,
    requested_by: str | None = None,
    service: str | None = None,
    ack_timeout_minutes: int = 10,
    step_id: int | None = None,
) -> PageRow:
    assert incident.id is not None
    page = PageRow(
        incident_id=incident.id,
        kind=kind,
        key=key,
        service=service or incident.service,
        target=target,
        requested_by=requested_by,
        status="pending",
        created_at=now,
        updated_at=now,
    )
    session.add(page)
    session.flush()
    outbox.enqueue(
        session=session,
        lane=lane(incident.id),
        kind=effect,
        now=now,
        incident_id=incident.id,
        payload={"page_id": page.id, **({"step_id": step_id} if step_id is not None else {})},
    )
    if kind != "responders":  # unacknowledged by the deadline: the scheduler pages again
        deadline = now + timedelta(minutes=ack_timeout_minutes)
        timer_store.arm(
            session=session,
            incident_id=incident.id,
            kind=REPAGE_TIMER,
            due_at=deadline,
            now=now,
            payload={"page_id": page.id},
        )
    return page


def pages_of(*, session: Session, incident_id: int) -> list[PageRow]:
    return list(
        session.exec(
            select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
        ).all()
    )


_P = PageRow.__table__.c  # type: ignore[attr-defined]
_LINES = (
    core_select(_P.service, _P.status, _P.html_url)
    .where(_P.incident_id == bindparam("incident_id"))
    .order_by(_P.id)
)


def page_lines(*, session: Session, incident_id: int) -> list[tuple[str | None, str, str | None]]:
    """What the incident's card shows of its pages: service, status, link (in order)."""
    rows = session.execute(_LINES, {"incident_id": incident_id})
    return [(service, status, url) for service, status, url in rows]


def follow_status(*, session: Session, incident_id: int, effect: str, now: datetime) -> None:
    """Slack's ack / resolve reach PagerDuty too (once per incident; the effect covers every page)."""
    if any(p.status not in ("failed",) for p in pages_of(session=session, incident_id=incident_id)):
        outbox.enqueue(
            session=session,
            lane=lane(incident_id),
            kind=effect,
            now=now,
            incident_id=incident_id,
            coalesce=True,
        )
