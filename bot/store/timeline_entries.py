"""An incident's timeline rows: entries added (one by one when their rows are wanted back, in
one multi-row INSERT for alert storms), found by their dedup key, and read in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bot.core.timeline import Entry
from bot.store.models import TimelineRow

Rows = list[dict[str, Any]]
_INSERT_TIMELINE = insert(TimelineRow.__table__)  # type: ignore[attr-defined]


def add_entries(
    *,
    session: Session,
    incident_id: int,
    entries: Iterable[Entry],
    now: datetime,
    dedup_key: str | None = None,
) -> list[TimelineRow]:
    rows = [
        TimelineRow(
            incident_id=incident_id,
            at=e.at,
            kind=e.kind.value,
            text=e.text,
            actor=e.actor,
            source=e.source.value,
            data=dict(e.data),
            dedup_key=dedup_key,
            created_at=now,
        )
        for e in entries
    ]
    session.add_all(rows)
    session.flush()
    return rows


def insert_entries(
    *, session: Session, incident_id: int, entries: Sequence[Entry], now: datetime
) -> None:
    """Many entries in one multi-row INSERT (alert storms); `add_entries` when you need the rows."""
    if entries:
        insert_rows(session, entry_rows(incident_id, entries, now))


def insert_rows(session: Session, rows: Rows) -> None:
    """Entries' rows (`entry_rows`) in one multi-row INSERT."""
    if rows:
        session.execute(_INSERT_TIMELINE, rows)


def entry_rows(incident_id: int, entries: Sequence[Entry], now: datetime) -> Rows:
    return [
        {
            "incident_id": incident_id,
            "at": e.at,
            "kind": e.kind.value,
            "text": e.text,
            "actor": e.actor,
            "source": e.source.value,
            "data": dict(e.data),
            "dedup_key": None,
            "created_at": now,
        }
        for e in entries
    ]


def timeline_entry_by_key(
    *, session: Session, incident_id: int, dedup_key: str
) -> TimelineRow | None:
    return session.exec(
        select(TimelineRow).where(
            TimelineRow.incident_id == incident_id, TimelineRow.dedup_key == dedup_key
        )
    ).first()


def timeline(*, session: Session, incident_id: int) -> Sequence[TimelineRow]:
    return session.exec(
        select(TimelineRow)
        .where(TimelineRow.incident_id == incident_id)
        .order_by(col(TimelineRow.at), col(TimelineRow.id))
    ).all()
