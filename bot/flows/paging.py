"""Deciding and recording pages: which pager and target an incident pages, and the page rows
whose keys make every retry harmless. The calls themselves are outbox effects (pager_effects)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bot.core.catalog import Catalog, PagerTarget
from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.people import typed
from bot.core.refusals import sentence
from bot.core.timeline import Entry, EntryKind
from bot.flows.pagers import NamesTargets, Pagers
from bot.flows.ports import CannotPage, PagePlan, Pager
from bot.store import incidents as q, outbox, pages as page_store, timers as timer_store
from bot.store.pages import Page
from bot.store.session import Session

OPEN = "pager.open"
ADD_RESPONDERS = "pager.add_responders"
ACKNOWLEDGE = "pager.acknowledge"
RESOLVE = "pager.resolve"
REPAGE_TIMER = "repage"
RESPONDERS = "responders"  # the page kind of a plan that adds responders to an open page

DEFAULT_SERVICE = "default"
PAGE = "page a service"  # what a refusal of paging names


class PagedIncident(Protocol):
    """What paging reads of an incident (a read model, or a new incident as `unit.Opened`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def drill(self) -> bool: ...


def lane(incident_id: int) -> str:
    return f"pager:{incident_id}"


def target_for(catalog: Catalog, pagers: Pagers, service: str | None) -> PagerTarget:
    """The service's target in the catalog, completed with its pager's defaults."""
    mapped = catalog.service(service)
    return pagers.target(mapped.pager if mapped is not None else None)


def resolve_target(
    catalog: Catalog, pagers: Pagers, service: str | None, what: str = PAGE
) -> PagerTarget:
    """A catalog service, `default`, or an id the default pager takes as is; Refused otherwise
    (`what` was asked of it)."""
    if service and catalog.service(service) is None and service != DEFAULT_SERVICE:
        pager: object = pagers.get(pagers.default_kind)
        or_own_id = ""
        if isinstance(pager, NamesTargets):  # the pager takes its own ids typed as is
            named = pager.target_named(service)
            if named is not None:  # as typed: not completed with the defaults
                return named
            or_own_id = f", or a {getattr(pager, 'name', 'pager')} service id"
        known = (
            ", ".join(f"`{s.id}`" for s in catalog.services) or "none yet (add them to the catalog)"
        )
        why = f"Unknown service `{typed(service)}`."
        raise Refused(Refusal(what, why, fix=f"Services: {known}{or_own_id}."))
    return target_for(catalog, pagers, service)


def pager_of(pagers: Pagers, target: PagerTarget, what: str = PAGE) -> Pager:
    """The pager that serves `target`; Refused when the deployment has none of that kind."""
    if not pagers.enabled:
        raise pagers.none_set_up(what)
    kind = pagers.kind_of(target)
    pager = pagers.get(kind)
    if pager is None:
        why = f"No `{kind}` pager is set up for this bot (the catalog names it)."
        fix = f"Set up the `{kind}` pager, or name another in the catalog."
        raise Refused(Refusal(what, why, fix=fix))
    return pager


def plan_page(
    *,
    session: Session,
    catalog: Catalog,
    pagers: Pagers,
    incident: PagedIncident,
    service: str,
    actor: str | None,
    now: datetime,
    step_id: int | None = None,
) -> Page:
    """Page `service` on an incident (Refused when it cannot be). When the incident already
    has an open page on that pager, the pager may plan to add responders to it: a second page
    must not open a second incident."""
    assert incident.id is not None
    if not pagers.enabled:
        raise pagers.none_set_up(PAGE)
    target = resolve_target(catalog, pagers, service)
    pager = pager_of(pagers, target)
    pages = pages_of(session=session, incident_id=incident.id)
    has_page = any(
        p.pager == pager.kind and p.kind != RESPONDERS and p.status not in ("failed", "resolved")
        for p in pages
    )
    plan = pager.plan(target, alert_born=False, has_page=has_page)
    if isinstance(plan, CannotPage):
        why = f"`{typed(service)}` cannot be paged: {plan.reason}."
        raise Refused(Refusal(PAGE, why, fix=sentence(plan.fix)))
    return add_page(
        session=session,
        incident=incident,
        pager=pager.kind,
        plan=plan,
        key=f"incidentbot-{incident.id}-{service}-{len(pages)}",
        now=now,
        requested_by=actor,
        service=service,
        ack_timeout_minutes=catalog.paging.ack_timeout_minutes,
        step_id=step_id,
    )


def pages_at_once(catalog: Catalog, pagers: Pagers, *, severity: str, drill: bool) -> bool:
    """Whether a new incident of `severity` is paged (or told why not) when it opens."""
    if not pagers.enabled or drill:
        return False
    return severity in {s.upper() for s in catalog.paging.auto_severities}


def plan_auto_page(
    *,
    session: Session,
    incident: PagedIncident,
    catalog: Catalog,
    pagers: Pagers,
    now: datetime,
    alert_born: bool,
) -> None:
    """Page at once when the severity asks for it, with the incident's key as the page's (a
    retry never pages twice); the pager chooses how (alert-born incidents may go as events)."""
    assert incident.id is not None
    if not pages_at_once(catalog, pagers, severity=incident.severity, drill=incident.drill):
        return
    target = target_for(catalog, pagers, incident.service)
    kind = pagers.kind_of(target)
    pager = pagers.get(kind)
    plan = (
        pager.plan(target, alert_born=alert_born, has_page=False)
        if pager is not None
        else CannotPage(f"no `{kind}` pager is set up", "set it up, or name another in the catalog")
    )
    if pager is not None and isinstance(plan, PagePlan):
        add_page(
            session=session,
            incident=incident,
            pager=pager.kind,
            plan=plan,
            key=f"incidentbot-{incident.id}",
            now=now,
            ack_timeout_minutes=catalog.paging.ack_timeout_minutes,
        )
        return
    entry = Entry(
        EntryKind.PAGE,
        now,
        f"Not paged ({incident.service or 'no service'}): {plan}",
        None,
        Source.SYSTEM,
        {},
    )
    q.add_entries(session=session, incident_id=incident.id, entries=[entry], now=now)


def add_page(
    *,
    session: Session,
    incident: PagedIncident,
    pager: str,
    plan: PagePlan,
    key: str,
    now: datetime,
    requested_by: str | None = None,
    service: str | None = None,
    ack_timeout_minutes: int = 10,
    step_id: int | None = None,
) -> Page:
    assert incident.id is not None
    page = page_store.record_page_requested(
        session=session,
        incident_id=incident.id,
        pager=pager,
        kind=plan.kind,
        key=key,
        service=service or incident.service,
        target=plan.target,
        requested_by=requested_by,
        now=now,
    )
    outbox.enqueue(
        session=session,
        lane=lane(incident.id),
        kind=ADD_RESPONDERS if plan.kind == RESPONDERS else OPEN,
        now=now,
        incident_id=incident.id,
        payload={"page_id": page.id, **({"step_id": step_id} if step_id is not None else {})},
    )
    if plan.kind != RESPONDERS:  # unacknowledged by the deadline: the scheduler pages again
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


def pages_of(*, session: Session, incident_id: int) -> list[Page]:
    return page_store.pages_of(session=session, incident_id=incident_id)


def page_lines(*, session: Session, incident_id: int) -> list[tuple[str | None, str, str | None]]:
    """What the incident's card shows of its pages: service, status, link (in order)."""
    return page_store.page_lines(session=session, incident_id=incident_id)


def follow_status(*, session: Session, incident_id: int, effect: str, now: datetime) -> None:
    """An ack / resolve made here reaches the pagers too (once per incident; the effect covers
    every page)."""
    if any(p.status not in ("failed",) for p in pages_of(session=session, incident_id=incident_id)):
        outbox.enqueue(
            session=session,
            lane=lane(incident_id),
            kind=effect,
            now=now,
            incident_id=incident_id,
            coalesce=True,
        )
