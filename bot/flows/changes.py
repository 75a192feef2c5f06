"""Applying a lifecycle command to an incident, and what the change sets off: its lines in
the channel, the card, the timers, the pagers following along. Shared by people acting through
the chat or the API and by playbook steps acting on their own (`set_severity`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core import lifecycle
from bot.core.catalog import Catalog, Phase
from bot.core.milestones import Milestone, Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_kinds as fx, drill_events, paging, timers, tracker_effects
from bot.store import incident_changes, outbox, timers as timer_store
from bot.store.read_models import IncidentSummary
from bot.store.session import Session


def apply_command(
    session: Session,
    catalog: Catalog,
    incident_id: int,
    command: lifecycle.Command,
    *,
    actor: str | None,
    source: Source,
    now: datetime,
) -> lifecycle.Decision:
    """Decide (raises Refused), store, announce and follow, in the caller's transaction. The
    store locks the incident's row for the change, unless the caller did."""
    snapshot = incident_changes.snapshot(session=session, incident_id=incident_id)
    decision = lifecycle.decide(catalog, snapshot, command, now=now, actor=actor, source=source)
    incident = incident_changes.apply_decision(
        session=session, incident_id=incident_id, decision=decision, now=now
    )
    announce(session, incident_id, decision.entries, now)
    follow(session, catalog, incident, decision, source, now)
    return decision


def follow(
    session: Session,
    catalog: Catalog,
    incident: IncidentSummary,
    decision: lifecycle.Decision,
    source: Source,
    now: datetime,
) -> None:
    """What a change means beyond the conversation: a private incident made public is announced in the feed
    at last; timers stop, resume or move; the pagers follow acks and resolutions made here; a
    resolved incident stops collecting its alert group (a recurrence opens a new one).
    `incident`: as the decision left it."""
    if decision.private is False and not incident.drill:  # the announcement held back while private
        outbox.enqueue(
            session=session,
            lane=fx.lane(incident.id),
            kind=fx.ANNOUNCE,
            now=now,
            incident_id=incident.id,
        )
    phase = catalog.status(incident.status).phase
    if decision.status and phase in (Phase.RESOLVED, Phase.CLOSED):
        incident_changes.release_group(session=session, incident_id=incident.id)
        timers.stop_for(session, incident.id, now, resolved=phase is Phase.RESOLVED)
        if (
            phase is Phase.CLOSED
        ):  # the post-mortem drafted into the tracker (then the channel archived)
            tracker_effects.enqueue_export(session, incident.id, now)
        drill_events.wrap_up(session, incident, phase, now)
    elif any(e.kind is EntryKind.REOPENED for e in decision.entries):
        timers.stop_for(session, incident.id, now)  # the stale-resolution watch
        timers.arm_for(session, catalog, incident, now)
        timers.watch_open(session, incident.id, now)
        timers.resume_steps(session, incident.id, now)
    elif decision.status or decision.severity or decision.roles:
        timers.arm_for(
            session,
            catalog,
            incident,
            now,
            status_update=bool(decision.status or decision.severity),
        )
    if Milestone.ACKNOWLEDGED in decision.set_milestones:
        timer_store.cancel(
            session=session, incident_id=incident.id, now=now, kinds=[paging.REPAGE_TIMER]
        )
    if source is Source.PAGER:
        return  # the pager told us; telling it back would only echo
    if Milestone.ACKNOWLEDGED in decision.set_milestones:
        paging.follow_status(
            session=session, incident_id=incident.id, effect=paging.ACKNOWLEDGE, now=now
        )
    if decision.status and phase is Phase.RESOLVED:
        paging.follow_status(
            session=session, incident_id=incident.id, effect=paging.RESOLVE, now=now
        )


def announce(session: Session, incident_id: int, entries: Sequence[Entry], now: datetime) -> None:
    """Each entry's line in the channel (a newly assigned role holder invited first), then the
    card refreshed once."""
    lane = fx.lane(incident_id)
    for entry in entries:
        if entry.kind is EntryKind.ROLE and entry.data.get("user"):  # bring them in first
            outbox.enqueue(
                session=session,
                lane=lane,
                kind=fx.INVITE,
                now=now,
                incident_id=incident_id,
                payload={"users": [entry.data["user"]]},
            )
        outbox.enqueue(
            session=session,
            lane=lane,
            kind=fx.POST_LINE,
            now=now,
            incident_id=incident_id,
            payload=fx.line_payload(entry),
        )
    outbox.enqueue(
        session=session, lane=lane, kind=fx.REFRESH, now=now, incident_id=incident_id, coalesce=True
    )
