"""The inbox table: requests written before they were answered, worked off after.

A row is written already leased by the process that answers it, so no other worker takes it
while that process lives. Rows whose lease ran out, or whose owner is gone (see
`store.liveness`), are claimed again by whoever sweeps; `attempts` counts the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.store.models import InboxRow, ProcessedRequest


@dataclass(frozen=True)
class NewRequest:
    key: str
    lane: str
    handler: str
    payload: dict[str, Any]


_TABLE = InboxRow.__table__  # type: ignore[attr-defined]
_ADD = {  # built once: the statement keeps its cache key
    "postgresql": pg_insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.id, _TABLE.c.key),
    "sqlite": sqlite_insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.id, _TABLE.c.key),
}


def add_all(
    *,
    session: Session,
    requests: Sequence[NewRequest],
    owner: str,
    now: datetime,
    lease: timedelta,
) -> list[int | None]:
    """Insert the requests leased to `owner`, in one statement; for each, its row id, or None
    where its key was taken (a retry or a replay, or twice in this very batch)."""
    fresh: dict[str, NewRequest] = {}
    for request in requests:
        fresh.setdefault(request.key, request)
    values = [
        {
            "key": r.key,
            "lane": r.lane,
            "handler": r.handler,
            "payload": r.payload,
            "received_at": now,
            "attempts": 1,
            "lease_owner": owner,
            "lease_until": now + lease,
        }
        for r in fresh.values()
    ]
    # One statement compiled once, whatever the batch's size (SQLAlchemy's insertmanyvalues).
    statement = _ADD[session.get_bind().dialect.name]
    ids = {key: int(row_id) for row_id, key in session.execute(statement, values).all()}
    firsts = {id(r) for r in fresh.values()}
    return [ids.get(r.key) if id(r) in firsts else None for r in requests]


_FINISH = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        done_at=bindparam("now", type_=_TABLE.c.done_at.type),
        lease_until=None,
        error=bindparam("b_error", type_=_TABLE.c.error.type),
    )
)


def finish(*, session: Session, row_id: int, now: datetime, error: str | None = None) -> None:
    session.execute(
        _FINISH, {"row_id": row_id, "now": now, "b_error": error[:2000] if error else None}
    )


def unfinished_owners(*, session: Session, now: datetime) -> list[str]:
    """Owners holding a live lease on a pending row."""
    rows = session.exec(
        select(InboxRow.lease_owner)
        .where(col(InboxRow.done_at).is_(None), col(InboxRow.lease_until) >= now)
        .distinct()
    ).all()
    return [r for r in rows if r is not None]


def claim_orphans(
    *,
    session: Session,
    dead: Sequence[str],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 500,
) -> list[InboxRow]:
    """Lease to `owner` the pending rows whose lease ran out or whose owner is dead, oldest
    first (so each lane keeps its order)."""
    orphaned = or_(col(InboxRow.lease_until).is_(None), col(InboxRow.lease_until) < now)
    if dead:
        orphaned = or_(orphaned, col(InboxRow.lease_owner).in_(list(dead)))
    query = (
        select(InboxRow)
        .where(col(InboxRow.done_at).is_(None), orphaned)
        .order_by(col(InboxRow.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    for row in rows:
        row.lease_owner = owner
        row.lease_until = now + lease
        row.attempts += 1
    session.flush()
    return rows


def pending(*, session: Session) -> list[InboxRow]:
    return list(
        session.exec(
            select(InboxRow).where(col(InboxRow.done_at).is_(None)).order_by(col(InboxRow.id))
        ).all()
    )


def prune(*, session: Session, before: datetime) -> tuple[int, int]:
    """Forget finished requests and replay-guard ids received before `before`: a replay that
    old is refused anyway (signatures live minutes, senders retry for hours)."""
    inbox = session.execute(
        delete(InboxRow).where(
            col(InboxRow.received_at) < before, col(InboxRow.done_at).is_not(None)
        )
    ).rowcount  # type: ignore[attr-defined]
    guard = session.execute(
        delete(ProcessedRequest).where(col(ProcessedRequest.received_at) < before)
    ).rowcount  # type: ignore[attr-defined]
    return int(inbox or 0), int(guard or 0)
