"""Backfill use case: store a whole file of past incidents in one transaction, or nothing.

Rows are checked first (`bot.core.imports`); one rejected row rejects the file. Rows whose
`external_id` is already stored are skipped, so importing a file twice changes nothing.
Imported incidents are marked `imported`, their milestones carry the `import` source, and their
timeline says where they came from. They get no channel, no outbox effect (no message,
no page, no tracker issue) and no timer: they are history, counted in reports like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.catalog import Catalog
from bot.core.imports import (
    ImportedIncident,
    RowError,
    parse_array,
    parse_document,
    parse_lines,
    validate_rows,
)
from bot.core.milestones import Source
from bot.core.timeline import EntryKind
from bot.flows.ports import Clock
from bot.store.db import Database
from bot.store.models import Incident, MilestoneRow, TimelineRow

_CHUNK = 500  # external ids per IN (…) look-up


@dataclass(frozen=True)
class ImportOutcome:
    imported: int = 0
    skipped: int = 0  # already present (same external_id)
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFlows:
    def __init__(self, db: Database, catalog: Catalog, clock: Clock) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock

    def import_text(self, text: str, *, origin: str, lines: bool | None = None) -> ImportOutcome:
        """A JSON array or JSON lines (`lines`: None = tell by the first character)."""
        if lines is None:
            rows, parse_errors = parse_document(text)
        else:
            rows, parse_errors = parse_lines(text) if lines else parse_array(text)
        broken = {e.index for e in parse_errors}
        _, errors = validate_rows(rows, self.catalog)
        found = sorted(
            [*parse_errors, *(e for e in errors if e.index not in broken)],
            key=lambda e: e.index,
        )
        if found:
            return ImportOutcome(errors=tuple(found))
        return self.import_rows(rows, origin=origin)

    def import_rows(self, rows: Sequence[object], *, origin: str) -> ImportOutcome:
        incidents, errors = validate_rows(rows, self.catalog)
        if errors:
            return ImportOutcome(errors=tuple(errors))
        try:
            return self._store(incidents, origin)
        except IntegrityError:
            # Another import stored some of the same external ids between our look-up and our
            # insert: everything rolled back; this time they are found and skipped.
            return self._store(incidents, origin)

    def _store(self, incidents: Sequence[ImportedIncident], origin: str) -> ImportOutcome:
        now = self.clock.now()
        with self.db.transaction() as session:
            present = _existing_ids(session, [i.external_id for i in incidents])
            new = [i for i in incidents if i.external_id not in present]
            if new:
                _insert(session, new, origin, now)
        return ImportOutcome(imported=len(new), skipped=len(incidents) - len(new))


def _existing_ids(session: Session, external_ids: Sequence[str]) -> set[str]:
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


def _insert(
    session: Session, incidents: Sequence[ImportedIncident], origin: str, now: datetime
) -> None:
    """Bulk INSERTs: the incidents (their new ids come back by external id), their milestones,
    one timeline entry each."""
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
