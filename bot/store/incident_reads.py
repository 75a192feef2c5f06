"""Read-only queries on one incident and its parts, answered as plain read models
(bot.store.read_models). Keyword-only `session=`; a session from `Database.read()` will do."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.core.lifecycle import Snapshot
from bot.store import alerts as alert_store, incidents as q
from bot.store.models import Followup, Incident, PageRow, PlaybookRun, PlaybookStep, TimelineRow
from bot.store.read_models import (
    AlertItem,
    FollowupItem,
    IncidentDetail,
    IncidentSummary,
    PageItem,
    StepItem,
    TimelineItem,
)


def summary_of(row: Incident) -> IncidentSummary:
    assert row.id is not None
    return IncidentSummary(
        id=row.id,
        title=row.title,
        description=row.description,
        severity=row.severity,
        status=row.status,
        private=row.private,
        drill=row.drill,
        summary=row.summary,
        source=row.source,
        created_by=row.created_by,
        conversation_id=row.conversation_id,
        conversation_name=row.conversation_name,
        chat_surface=row.chat_surface,
        service=row.service,
        disposition=row.disposition,
        postmortem_key=row.postmortem_key,
        postmortem_url=row.postmortem_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status_update_minutes=row.status_update_minutes,
    )


def get_summary(*, session: Session, incident_id: int) -> IncidentSummary | None:
    row = q.get_incident(session=session, incident_id=incident_id)
    return None if row is None else summary_of(row)


def snapshot(*, session: Session, incident_id: int) -> Snapshot | None:
    """The incident as the lifecycle decides on it (None: no such incident)."""
    row = q.get_incident(session=session, incident_id=incident_id)
    return None if row is None else q.snapshot(session=session, incident=row)


def summary_by_conversation(*, session: Session, conversation_id: str) -> IncidentSummary | None:
    """The incident whose conversation this is."""
    row = q.incident_by_conversation(session=session, conversation_id=conversation_id)
    return None if row is None else summary_of(row)


def locked(*, session: Session, incident_id: int) -> IncidentSummary | None:
    """`get_summary`, its row locked until the caller's transaction ends (PostgreSQL's FOR
    UPDATE): the unit of work's changes to the incident are serialised."""
    row = q.get_incident(session=session, incident_id=incident_id, for_update=True)
    return None if row is None else summary_of(row)


def locked_by_channel(*, session: Session, channel_id: str) -> IncidentSummary | None:
    """`summary_by_channel`, its row locked until the caller's transaction ends (PostgreSQL's
    FOR UPDATE): the unit of work's changes to the incident are serialised."""
    row = q.incident_by_conversation(session=session, conversation_id=channel_id, for_update=True)
    return None if row is None else summary_of(row)


def summaries_by_id(*, session: Session, incident_ids: Sequence[int]) -> dict[int, IncidentSummary]:
    """The incidents of these ids that exist, in one query."""
    rows = q.incidents_by_id(session=session, incident_ids=incident_ids)
    return {incident_id: summary_of(row) for incident_id, row in rows.items()}


def public_summaries_in(*, session: Session, statuses: Sequence[str]) -> list[IncidentSummary]:
    """The public incidents in these statuses, newest first (the first hundred)."""
    rows = q.list_incidents(session=session, statuses=statuses, include_private=False)
    return [summary_of(row) for row in rows]


def list_summaries(*, session: Session, limit: int, offset: int) -> list[IncidentSummary]:
    """Newest first (by record time, then id)."""
    rows = q.list_incidents(session=session, limit=limit, offset=offset)
    return [summary_of(row) for row in rows]


def detail(*, session: Session, incident_id: int) -> IncidentDetail | None:
    """The incident with its milestones, roles, alerts, pages and timeline; None if there is none."""
    incident = get_summary(session=session, incident_id=incident_id)
    if incident is None:
        return None
    return IncidentDetail(
        incident=incident,
        milestones=q.milestones(session=session, incident_id=incident_id),
        roles=q.roles(session=session, incident_id=incident_id),
        alerts=alerts(session=session, incident_id=incident_id),
        pages=pages(session=session, incident_id=incident_id),
        timeline=timeline(session=session, incident_id=incident_id),
    )


def timeline(*, session: Session, incident_id: int) -> list[TimelineItem]:
    return [_timeline_item(r) for r in q.timeline(session=session, incident_id=incident_id)]


def _timeline_item(row: TimelineRow) -> TimelineItem:
    return TimelineItem(
        int(row.id or 0), row.at, row.kind, row.text, row.actor, row.source, dict(row.data)
    )


def alerts(*, session: Session, incident_id: int) -> list[AlertItem]:
    """Oldest first."""
    return [
        AlertItem(
            a.fingerprint,
            a.name,
            a.summary,
            a.status,
            dict(a.labels),
            dict(a.links),
            a.starts_at,
            a.ends_at,
        )
        for a in alert_store.alerts_of(session=session, incident_id=incident_id)
    ]


def pages(*, session: Session, incident_id: int) -> list[PageItem]:
    """In the order they were sent."""
    rows = session.exec(
        select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
    ).all()
    return [
        PageItem(
            p.kind,
            p.service,
            p.status,
            p.pager_incident_id,
            p.html_url,
            p.created_at,
            p.updated_at,
            p.acknowledged_at,
            p.pager,
        )
        for p in rows
    ]


def steps(*, session: Session, incident_id: int) -> list[StepItem]:
    """Every step of every playbook attached, by attachment then position."""
    rows = session.exec(
        select(PlaybookStep, PlaybookRun)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(PlaybookRun.incident_id == incident_id)
        .order_by(col(PlaybookRun.id), col(PlaybookStep.position))
    ).all()
    return [
        StepItem(
            run.playbook, run.attached_at, s.title, s.state, s.by, s.at, s.skip_reason, s.result
        )
        for s, run in rows
    ]


def followups(*, session: Session, incident_id: int) -> list[FollowupItem]:
    """In the order they were recorded."""
    rows = session.exec(
        select(Followup).where(Followup.incident_id == incident_id).order_by(col(Followup.id))
    ).all()
    return [followup_item(f) for f in rows]


def followup_item(row: Followup) -> FollowupItem:
    return FollowupItem(
        id=int(row.id or 0),
        text=row.text,
        owner=row.owner,
        owner_role=row.owner_role,
        due_on=row.due_on,
        state=row.state,
        tracker_key=row.issue_key,
        tracker_url=row.issue_url,
        source=row.source,
        permalink=row.permalink,
    )
