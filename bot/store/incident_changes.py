"""What the flows change on the unit of work's incident, by its id: a new incident opened, a
lifecycle decision applied, the alert group released, a playbook's status-update cadence.

The row stays the store's. The first change of a transaction locks it (FOR UPDATE on
PostgreSQL), unless the transaction locked it already (`incident_reads.locked`,
`locked_by_channel`) or made it: then it is the row the session holds, and nothing is read
again. It is changed in place and written with its other changes when the transaction flushes;
the flows get the incident back as a read model (`IncidentSummary`). Keyword-only `session=`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.lifecycle import Decision, Opening, Snapshot
from bot.core.milestones import Source
from bot.store import incidents as q
from bot.store.incident_reads import summary_of
from bot.store.models import Incident
from bot.store.read_models import IncidentSummary


def open_incident(
    *,
    session: Session,
    opening: Opening,
    now: datetime,
    source: Source,
    created_by: str | None,
    drill: bool = False,
) -> IncidentSummary:
    """A new incident with its milestones, roles and first entries; the transaction holds it."""
    row = q.create_incident(
        session=session, opening=opening, now=now, source=source, created_by=created_by, drill=drill
    )
    return summary_of(row)


def current(*, session: Session, incident_id: int) -> IncidentSummary:
    """The incident as this transaction has it now, its own changes included (a row the
    transaction read already is not read again). LookupError when there is none."""
    row = q.kept(session, incident_id) or session.get(Incident, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    return summary_of(row)


def snapshot(*, session: Session, incident_id: int) -> Snapshot:
    """The incident as the lifecycle decides on a change to it, its row locked for that change."""
    return q.snapshot(session=session, incident=_held(session, incident_id))


def apply_decision(
    *, session: Session, incident_id: int, decision: Decision, now: datetime
) -> IncidentSummary:
    """Store what the lifecycle decided (state, milestones, roles, timeline entries); the
    incident as it is now."""
    row = _held(session, incident_id)
    q.apply_decision(session=session, incident=row, decision=decision, now=now)
    return summary_of(row)


def release_group(*, session: Session, incident_id: int) -> None:
    """The incident, resolved or closed, stops collecting its alert group (a recurrence opens a
    new incident)."""
    row = _held(session, incident_id)
    row.open_group = None
    session.add(row)


def record_status_cadence(*, session: Session, incident_id: int, minutes: int) -> IncidentSummary:
    """A playbook set the incident's status-update cadence (it overrides its severity's); the
    incident as it is now."""
    row = _held(session, incident_id)
    row.status_update_minutes = minutes
    session.add(row)
    return summary_of(row)


def _held(session: Session, incident_id: int) -> Incident:
    """The incident's row, locked until the transaction ends."""
    row = q.kept(session, incident_id) if incident_id in q.locked_here(session) else None
    if row is None:
        row = q.get_incident(session=session, incident_id=incident_id, for_update=True)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    return row
