"""Pinned messages on an incident's timeline: one entry per message (keyed by it), with who
pinned it. Keyword-only `session=`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.timeline import Entry
from bot.store import incidents as q
from bot.store.models import TimelineRow


@dataclass(frozen=True)
class PinnedEntry:
    id: int  # the timeline entry's
    pinned_by: tuple[str, ...]


def pinned_entry(*, session: Session, incident_id: int, key: str) -> PinnedEntry | None:
    row = q.timeline_entry_by_key(session=session, incident_id=incident_id, dedup_key=key)
    if row is None:
        return None
    assert row.id is not None
    return PinnedEntry(row.id, tuple(row.data.get("pinned_by", [])))


def record_pin(*, session: Session, incident_id: int, entry: Entry, key: str, now: datetime) -> int:
    """The pinned message's entry (its text filled in later); its id."""
    (row,) = q.add_entries(
        session=session, incident_id=incident_id, entries=[entry], now=now, dedup_key=key
    )
    assert row.id is not None
    return row.id


def record_pinners(*, session: Session, entry_id: int, pinned_by: Sequence[str]) -> None:
    """Who pins the message now (someone more, or someone less but not nobody)."""
    row = session.get(TimelineRow, entry_id)
    assert row is not None
    row.data = {**row.data, "pinned_by": list(pinned_by)}
    session.add(row)


def record_message(
    *, session: Session, entry_id: int, text: str, author: str | None, permalink: str | None
) -> bool:
    """The pinned message as the surface gave it: its text, author and link on the entry.
    False: unpinned before it was fetched (the entry is gone)."""
    row = session.get(TimelineRow, entry_id)
    if row is None:
        return False
    row.text = text
    row.data = {**row.data, "author": author, "permalink": permalink, "fetched": True}
    session.add(row)
    return True


def remove_pin(*, session: Session, entry_id: int) -> None:
    """The last person who pinned it took their pin back: the entry goes."""
    row = session.get(TimelineRow, entry_id)
    if row is not None:
        session.delete(row)
