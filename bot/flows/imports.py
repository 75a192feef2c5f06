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

from bot.core.catalog import Catalog
from bot.core.imports import (
    ImportedIncident,
    RowError,
    parse_array,
    parse_document,
    parse_lines,
    validate_rows,
)
from bot.flows.ports import Clock
from bot.store import imported as store
from bot.store.db import Database


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
        except store.ExternalIdTaken:
            # Another import stored some of the same external ids between our look-up and our
            # insert: everything rolled back; this time they are found and skipped.
            return self._store(incidents, origin)

    def _store(self, incidents: Sequence[ImportedIncident], origin: str) -> ImportOutcome:
        now = self.clock.now()
        with self.db.transaction() as session:
            present = store.present_external_ids(
                session=session, external_ids=[i.external_id for i in incidents]
            )
            new = [i for i in incidents if i.external_id not in present]
            if new:
                store.record_imported(session=session, incidents=new, origin=origin, now=now)
        return ImportOutcome(imported=len(new), skipped=len(incidents) - len(new))
