"""Backfilled history: past incidents stored in bulk with their milestones and one timeline
entry each, keyed by the id they had where they came from (`external_id`). Keyword-only
`session=` (the caller's unit of work owns the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.imports import ImportedIncident
from bot.core.milestones import Source
from bot.core.timeline import EntryKind
from bot.store.models import Incident, MilestoneRow, TimelineRow

_CHUNK = 500  # external ids per IN (…) look-up


class ExternalIdTaken(Exception):
    """Another import stored one of the same external ids first: the transaction is spoiled,
    run it again (this time they are found and skipped)."""


def present_external_ids(*, session: Session, external_ids: Sequence[str]) -> set[str]:
    """Which of these external ids are stored already."""
    found: set[str] = set()
    for k in range(0, len(external_ids), _CHUNK):
        chunk = list(external_ids[k : k + _CHUNK])
        found.update(
            str(value)
            for value in session.exec(
                select(Incident.external_id).where(col(Incident.external_id).in_(chunk))
            ).all()
        )
    return found


def record_imported(
    *, session: Session, incidents: Sequence[ImportedIncident], origin: str, now: datetime
) -> None:
    """Bulk INSERTs: the incidents (their new ids come back by external id), their milestones,
    one timeline entry each. ExternalIdTaken when one of them is stored meanwhile."""
    try:
        _insert(session, incidents, origin, now)
    except IntegrityError as taken:
        raise ExternalIdTaken(str(taken.orig)) from taken


def _insert(
    session: Session, incidents: Sequence[ImportedIncident], origin: str, now: datetime
) -> None:
    result = session.execute(
        insert(Incident).returning(col(Incident.id), col(Incident.external_id)),
        [
            {
                "title": i.title,
                "description": "",
                "severity": i.severity,
                "status": i.status,
                "private": False,
                "drill": i.drill,
                "source": Source.IMPORT.value,
                "service": i.service,
                "disposition": i.disposition,
                "external_id": i.external_id,
                "imported": True,
                "created_at": i.created_at or now,
                "updated_at": now,
            }
            for i in incidents
        ],
    )
    ids = {str(external_id): int(incident_id) for incident_id, external_id in result}
    milestones = [
        {
            "incident_id": ids[i.external_id],
            "kind": milestone.value,
            "at": at,
            "source": Source.IMPORT.value,
            "set_by": None,
            "updated_at": now,
        }
        for i in incidents
        for milestone, at in i.milestones.items()
    ]
    if milestones:
        session.execute(insert(MilestoneRow), milestones)
    session.execute(
        insert(TimelineRow),
        [
            {
                "incident_id": ids[i.external_id],
                "at": now,
                "kind": EntryKind.NOTE.value,
                "text": f"Imported from {origin} (external id {i.external_id})",
                "actor": None,
                "source": Source.IMPORT.value,
                "data": {"import": origin, "external_id": i.external_id},
                "dedup_key": f"import:{i.external_id}"[:120],
                "created_at": now,
            }
            for i in incidents
        ],
    )
