"""Read-only queries behind the dashboard and the review page's team figures: incidents matching
filters that a viewer may see, their milestones and role holders, and the candidates for private visibility.
Answers are read models (bot.store.read_models). Keyword-only `session=`.

An incident's place in time is when it was declared (imported history, which has no
declaration, is recorded at its detection): the same rule as bot.store.reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from bot.core.milestones import Milestone
from bot.store import incidents as q
from bot.store.incident_reads import summary_of
from bot.store.models import Incident, MilestoneRow
from bot.store.read_models import IncidentMatch, IncidentSummary, Scope

CHUNK = 1000  # ids per IN (…) list


def private_candidates(*, session: Session, limit: int) -> list[tuple[int, str]]:
    """(id, conversation) of the latest `limit` private incidents that have a conversation:
    the ones whose members may see them."""
    rows = session.exec(
        select(Incident.id, Incident.conversation_id)
        .where(col(Incident.private).is_(True), col(Incident.conversation_id).is_not(None))
        .order_by(col(Incident.id).desc())
        .limit(limit)
    ).all()
    return [(int(i or 0), str(channel)) for i, channel in rows]


def _visible(query: Any, scope: Scope) -> Any:
    if scope.all_private:
        return query
    return query.where(
        or_(col(Incident.private).is_(False), col(Incident.id).in_(sorted(scope.private_ids)))
    )


def _started() -> Any:
    """SQL for an incident's place in time: its declaration, else its record."""
    declared = (
        select(MilestoneRow.at)
        .where(
            MilestoneRow.incident_id == Incident.id, MilestoneRow.kind == Milestone.DECLARED.value
        )
        .correlate(Incident)
        .scalar_subquery()
    )
    return func.coalesce(declared, col(Incident.created_at)).label("started")


def _matching(match: IncidentMatch, scope: Scope, *columns: Any) -> Any:
    query = select(Incident, *columns)
    if match.severity:
        query = query.where(Incident.severity == match.severity)
    if match.service:
        query = query.where(Incident.service == match.service)
    if match.statuses is not None:
        query = query.where(col(Incident.status).in_(list(match.statuses)))
    return _visible(query, scope)


def started_since(
    *, session: Session, match: IncidentMatch, scope: Scope, since: datetime | None
) -> list[tuple[IncidentSummary, datetime]]:
    """Every incident matching, visible, and placed in time at or after `since` (any when None),
    with that instant."""
    started = _started()
    query = _matching(match, scope, started)
    if since is not None:
        query = query.where(started >= since)
    return [(summary_of(inc), at) for inc, at in session.exec(query).all()]


def matching(
    *, session: Session, match: IncidentMatch, scope: Scope, limit: int
) -> list[IncidentSummary]:
    """Up to `limit` incidents matching and visible, in no particular order."""
    return [summary_of(r) for r in session.exec(_matching(match, scope).limit(limit)).all()]


def latest_started(
    *,
    session: Session,
    match: IncidentMatch,
    scope: Scope,
    excluded_statuses: Sequence[str],
    since: datetime | None,
    limit: int,
) -> list[IncidentSummary]:
    """The `limit` latest incidents matching, visible, in none of `excluded_statuses`, placed in
    time at or after `since`: newest first."""
    started = _started()
    query = _matching(match, scope, started).where(
        col(Incident.status).not_in(list(excluded_statuses))
    )
    if since is not None:
        query = query.where(started >= since)
    query = query.order_by(started.desc(), col(Incident.id).desc()).limit(limit)
    return [summary_of(inc) for inc, _at in session.exec(query).all()]


def services(*, session: Session, scope: Scope) -> set[str]:
    """The services named on incidents the scope sees."""
    query = _visible(select(Incident.service).where(col(Incident.service).is_not(None)), scope)
    return {str(s) for s in session.exec(query.distinct()).all() if s}


def latest_counted_ids(*, session: Session, scope: Scope, exclude_id: int, limit: int) -> list[int]:
    """The latest `limit` incidents that count in the metrics (no drill, no disposition) the
    scope sees, but `exclude_id`: newest first."""
    query = _visible(
        select(Incident.id).where(
            Incident.id != exclude_id,
            col(Incident.drill).is_(False),
            col(Incident.disposition).is_(None),
        ),
        scope,
    ).order_by(col(Incident.id).desc())
    return [int(i or 0) for i in session.exec(query.limit(limit)).all()]


def milestones_of(
    *, session: Session, incident_ids: Sequence[int]
) -> dict[int, dict[Milestone, datetime]]:
    """The instants of each incident's milestones (every id asked for has an entry)."""
    found: dict[int, dict[Milestone, datetime]] = {i: {} for i in incident_ids}
    for start in range(0, len(incident_ids), CHUNK):
        chunk = list(incident_ids[start : start + CHUNK])
        for row in session.exec(
            select(MilestoneRow).where(col(MilestoneRow.incident_id).in_(chunk))
        ).all():
            found[row.incident_id][Milestone(row.kind)] = row.at
    return found


def roles_by_incident(
    *, session: Session, incident_ids: Sequence[int]
) -> dict[int, dict[str, str]]:
    """Who holds which role (role id → user id) on each of these incidents."""
    return q.roles_by_incident(session=session, incident_ids=incident_ids)
