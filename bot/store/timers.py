"""Durable timers: armed by the flows inside their own transaction, claimed by the scheduler
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), fired at most once.
Read back as plain `Timer` values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from bot.store.models import TimerRow

_INSERT = insert(TimerRow.__table__)  # type: ignore[attr-defined]  # built once


@dataclass(frozen=True)
class Timer:
    """An armed timer: `kind` says what fires (with its subject after a colon: `step:12`)."""

    id: int
    incident_id: int
    kind: str
    due_at: datetime
    payload: Mapping[str, Any]


def _timer(row: TimerRow) -> Timer:
    assert row.id is not None
    return Timer(row.id, row.incident_id, row.kind, row.due_at, row.payload)


def arm(
    *,
    session: Session,
    incident_id: int,
    kind: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Set the incident's pending timer of this kind to `due_at` (one pending per kind)."""
    pending = session.exec(
        select(TimerRow).where(
            TimerRow.incident_id == incident_id,
            TimerRow.kind == kind,
            col(TimerRow.fired_at).is_(None),
        )
    ).first()
    if pending is None:
        pending = TimerRow(
            incident_id=incident_id, kind=kind, due_at=due_at, created_at=now, payload=payload or {}
        )
    else:
        pending.due_at, pending.payload = due_at, payload or pending.payload
    session.add(pending)
    session.flush()


def arm_fresh(
    *, session: Session, incident_id: int, timers: Sequence[tuple[str, datetime]], now: datetime
) -> None:
    """The first timers of an incident made in this transaction (kind, due): one INSERT."""
    if timers:
        session.execute(
            _INSERT,
            [
                {
                    "incident_id": incident_id,
                    "kind": kind,
                    "due_at": due_at,
                    "created_at": now,
                    "payload": {},
                }
                for kind, due_at in timers
            ],
        )


def cancel(
    *,
    session: Session,
    incident_id: int,
    now: datetime,
    kinds: Iterable[str] | None = None,
    keep_prefixes: Iterable[str] = (),
) -> None:
    """Cancel the incident's pending timers: those of `kinds`, or all but `keep_prefixes`."""
    statement = update(TimerRow).where(
        col(TimerRow.incident_id) == incident_id, col(TimerRow.fired_at).is_(None)
    )
    if kinds is not None:
        statement = statement.where(col(TimerRow.kind).in_(list(kinds)))
    for prefix in keep_prefixes:
        statement = statement.where(col(TimerRow.kind).notlike(f"{prefix}%"))
    session.execute(statement.values(fired_at=now, outcome="cancelled"))


def claim_due(*, session: Session, now: datetime, limit: int) -> list[Timer]:
    """Lock up to `limit` due timers for this transaction; other schedulers skip them."""
    query = (
        select(TimerRow)
        .where(col(TimerRow.fired_at).is_(None), col(TimerRow.due_at) <= now)
        .order_by(col(TimerRow.due_at), col(TimerRow.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [_timer(row) for row in session.exec(query)]


def pending(*, session: Session, incident_id: int) -> list[Timer]:
    """The incident's armed timers, soonest first."""
    rows = session.exec(
        select(TimerRow)
        .where(TimerRow.incident_id == incident_id, col(TimerRow.fired_at).is_(None))
        .order_by(col(TimerRow.due_at))
    )
    return [_timer(row) for row in rows]


def mark_fired(*, session: Session, timer_ids: Sequence[int], now: datetime) -> None:
    session.execute(
        update(TimerRow).where(col(TimerRow.id).in_(list(timer_ids))).values(fired_at=now)
    )


def set_outcome(*, session: Session, timer_ids: Sequence[int], outcome: str) -> None:
    session.execute(
        update(TimerRow).where(col(TimerRow.id).in_(list(timer_ids))).values(outcome=outcome)
    )
