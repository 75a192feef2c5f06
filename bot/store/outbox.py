"""The outbox table: effects committed with their cause, claimed one lane at a time.

A lane (for example `chat:42`, an incident's chat effects) is delivered in order: only its
oldest pending row may be claimed, and a lease on that row keeps other workers (threads,
replicas) off the lane until it is done or the lease runs out. The claim is one conditional UPDATE, atomic on SQLite and on
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select as core_select,
    union_all,
    update,
)
from sqlmodel import Session, col, select

from bot.store.models import OutboxRow
from bot.store.read_models import QueuedEffect

_LANES = "outbox.lanes"  # Session.info: the lanes this transaction gave effects to
_BORN_CLAIMED = "outbox.born_claimed"  # Session.info: effects inserted already leased


@dataclass(frozen=True)
class Effect:
    lane: str
    kind: str
    incident_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def enqueued_lanes(session: Session) -> set[str]:
    """The lanes effects were enqueued on in this session: what is worth delivering right
    after its commit (a lane nothing was added to is left to the sweep)."""
    lanes: set[str] = session.info.setdefault(_LANES, set())
    return lanes


def enqueue(
    *,
    session: Session,
    lane: str,
    kind: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    incident_id: int | None = None,
    coalesce: bool = False,
) -> None:
    """Add an effect. With `coalesce`, an identical-kind row still waiting (not yet claimed) in
    the lane stands for this one: one card refresh serves a burst of changes."""
    enqueued_lanes(session).add(lane)
    if coalesce:
        waiting = session.exec(
            select(OutboxRow.id).where(
                OutboxRow.lane == lane,
                OutboxRow.kind == kind,
                col(OutboxRow.done_at).is_(None),
                col(OutboxRow.lease_until).is_(None),
            )
        ).first()
        if waiting is not None:
            return
    values = {
        "incident_id": incident_id,
        "lane": lane,
        "kind": kind,
        "payload": payload or {},
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "failed": False,
    }
    session.execute(insert(OutboxRow.__table__).values(**values))  # type: ignore[attr-defined]


_T = OutboxRow.__table__  # type: ignore[attr-defined]  # Core statements: no ORM bookkeeping
_INSERT = insert(_T)
_INSERT_LEASED = insert(_T).returning(_T.c.id, _T.c.lease_owner)  # one statement, any order


def enqueue_all(
    *,
    session: Session,
    effects: Sequence[Effect],
    now: datetime,
    lease: tuple[str, datetime] | None = None,
) -> None:
    """Add effects in one INSERT. With `lease` (owner, until) the first is added already
    claimed by `owner`, as `claim_head` would claim it: for the head of a lane this very
    transaction opens, run right after the commit (`born_claimed`) without a claim."""
    if not effects:
        return
    values = effect_rows(session=session, effects=effects, now=now, lease=lease)
    if lease is None:
        session.execute(_INSERT, values)
        return
    returned = session.execute(_INSERT_LEASED, values).all()
    (row_id,) = [row_id for row_id, owner in returned if owner is not None]
    note_born(session=session, row_id=row_id, values=values[0])


def effect_rows(
    *,
    session: Session | None,
    effects: Sequence[Effect],
    now: datetime,
    lease: tuple[str, datetime] | None,
) -> list[dict[str, Any]]:
    """The outbox rows of `effects` as `enqueue_all` inserts them (the first leased when
    `lease` is given), their lanes noted as enqueued in `session` (None: by the caller)."""
    values: list[dict[str, Any]] = [
        {
            "incident_id": e.incident_id,
            "lane": e.lane,
            "kind": e.kind,
            "payload": e.payload,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
            "failed": False,
            "lease_owner": None,
            "lease_until": None,
        }
        for e in effects
    ]
    if lease is not None and values:
        values[0].update(lease_owner=lease[0], lease_until=lease[1], attempts=1)
    if session is not None:
        enqueued_lanes(session).update(e.lane for e in effects)
    return values


def note_born(*, session: Session, row_id: int, values: dict[str, Any]) -> None:
    """Note an effect inserted already leased to this thread (see `born_claimed`)."""
    born: list[OutboxRow] = session.info.setdefault(_BORN_CLAIMED, [])
    born.append(OutboxRow(id=row_id, **values))


_COLUMNS = ("incident_id", "lane", "kind", "payload", "created_at", "next_attempt_at")
_ADD_WAITING: dict[int, Any] = {}  # effects in the statement → INSERT … SELECT, built once


def _add_unless_waiting(effects: int) -> Any:
    """INSERT … SELECT of `effects` rows, the last left out when a row of its kind is waiting
    unclaimed in its lane (what `enqueue(coalesce=True)` checks with a query of its own)."""
    if effects not in _ADD_WAITING:
        rows = []
        for i in range(effects):
            row = core_select(
                *(bindparam(f"{name}_{i}", type_=_T.c[name].type) for name in _COLUMNS),
                literal(0, type_=_T.c.attempts.type),
                literal(False, type_=_T.c.failed.type),
            )
            if i == effects - 1:
                row = row.where(
                    ~exists().where(
                        _T.c.lane == bindparam(f"lane_{i}", type_=_T.c.lane.type),
                        _T.c.kind == bindparam(f"kind_{i}", type_=_T.c.kind.type),
                        _T.c.done_at.is_(None),
                        _T.c.lease_until.is_(None),
                    )
                )
            rows.append(row)
        _ADD_WAITING[effects] = insert(_T).from_select(
            [*_COLUMNS, "attempts", "failed"], rows[0] if effects == 1 else union_all(*rows)
        )
    return _ADD_WAITING[effects]


def enqueue_coalescing_last(*, session: Session, effects: Sequence[Effect], now: datetime) -> None:
    """Add effects in order in one statement, the last one coalesced as `enqueue` does with
    `coalesce=True` (an identical-kind row still waiting unclaimed in the lane stands for it):
    an alert delivery's line and card refresh in a single round trip."""
    if not effects:
        return
    params: dict[str, Any] = {}
    for i, e in enumerate(effects):
        params.update(
            {
                f"incident_id_{i}": e.incident_id,
                f"lane_{i}": e.lane,
                f"kind_{i}": e.kind,
                f"payload_{i}": e.payload,
                f"created_at_{i}": now,
                f"next_attempt_at_{i}": now,
            }
        )
    enqueued_lanes(session).update(e.lane for e in effects)
    session.execute(_add_unless_waiting(len(effects)), params)


def born_claimed(session: Session) -> list[OutboxRow]:
    """The effects this session inserted already leased (`enqueue_all` with a lease)."""
    rows: list[OutboxRow] = session.info.get(_BORN_CLAIMED, [])
    return rows


# Built once: a statement object keeps its compiled form's cache key (SQLAlchemy memoizes it),
# where a statement built per call pays for its construction and its key every time.
_HEAD = (
    select(func.min(_T.c.id))
    .where(_T.c.lane == bindparam("b_lane"), _T.c.done_at.is_(None))
    .scalar_subquery()
)
_NOW = bindparam("now", type_=_T.c.next_attempt_at.type)
_CLAIM = (
    update(_T)
    .where(
        _T.c.id == _HEAD,
        _T.c.done_at.is_(None),
        _T.c.next_attempt_at <= _NOW,
        or_(_T.c.lease_until.is_(None), _T.c.lease_until < _NOW),
    )
    .values(
        lease_until=bindparam("until", type_=_T.c.lease_until.type),
        lease_owner=bindparam("owner", type_=_T.c.lease_owner.type),
        attempts=_T.c.attempts + 1,
    )
    .returning(*_T.c)
)


def claim_head(
    *, session: Session, lane: str, owner: str, now: datetime, lease: timedelta
) -> OutboxRow | None:
    """Lease the lane's oldest pending row if it is due and nobody holds it: one UPDATE … WHERE
    id = (the lane's head) … RETURNING, so a claim is a single round trip."""
    claimed = session.execute(
        _CLAIM, {"b_lane": lane, "now": now, "until": now + lease, "owner": owner}
    ).first()
    return OutboxRow(**claimed._mapping) if claimed is not None else None


def due_lanes(*, session: Session, now: datetime, limit: int = 100) -> Sequence[str]:
    """Lanes whose head row is due and not leased."""
    heads = (
        select(OutboxRow.lane, func.min(OutboxRow.id).label("head"))
        .where(col(OutboxRow.done_at).is_(None))
        .group_by(col(OutboxRow.lane))
        .subquery()
    )
    query = (
        select(OutboxRow.lane)
        .join(heads, and_(col(OutboxRow.id) == heads.c.head))
        .where(
            col(OutboxRow.next_attempt_at) <= now,
            or_(col(OutboxRow.lease_until).is_(None), col(OutboxRow.lease_until) < now),
        )
        .order_by(col(OutboxRow.next_attempt_at))
        .limit(limit)
    )
    return session.exec(query).all()


_FINISH = (
    update(_T)
    .where(_T.c.id == bindparam("row_id"), _T.c.lease_owner == bindparam("owner"))
    .values(done_at=bindparam("now", type_=_T.c.done_at.type), lease_until=None, last_error=None)
)


def finish(*, session: Session, row_id: int, now: datetime, owner: str) -> None:
    session.execute(_FINISH, {"row_id": row_id, "owner": owner, "now": now})


# PostgreSQL: the effect done and the lane's next claimed, in one statement. The claim only if
# the finish found the lease still ours (else whoever holds the row holds the lane); the
# statement's snapshot still sees the row as pending, so the head is sought past it.
_DONE = _FINISH.returning(_T.c.id).cte("done")
_NEXT = (
    select(func.min(_T.c.id))
    .where(
        _T.c.lane == bindparam("b_lane"),
        _T.c.done_at.is_(None),
        _T.c.id != bindparam("row_id"),
    )
    .scalar_subquery()
)
_FINISH_CLAIM = (
    update(_T)
    .add_cte(_DONE)
    .where(
        _T.c.id == _NEXT,
        _T.c.done_at.is_(None),
        _T.c.next_attempt_at <= _NOW,
        or_(_T.c.lease_until.is_(None), _T.c.lease_until < _NOW),
        exists(select(_DONE.c.id)),
    )
    .values(
        lease_until=bindparam("until", type_=_T.c.lease_until.type),
        lease_owner=bindparam("owner", type_=_T.c.lease_owner.type),
        attempts=_T.c.attempts + 1,
    )
    .returning(*_T.c)
)


def finish_and_claim(
    *, session: Session, row_id: int, lane: str, owner: str, now: datetime, lease: timedelta
) -> OutboxRow | None:
    """`finish` the effect, then `claim_head` of its lane: on PostgreSQL one statement (give
    it a session of its own: `Database.one_write`), elsewhere two."""
    if session.get_bind().dialect.name != "postgresql":
        finish(session=session, row_id=row_id, now=now, owner=owner)
        return claim_head(session=session, lane=lane, owner=owner, now=now, lease=lease)
    params = {"row_id": row_id, "b_lane": lane, "now": now, "until": now + lease, "owner": owner}
    claimed = session.execute(_FINISH_CLAIM, params).first()
    return OutboxRow(**claimed._mapping) if claimed is not None else None


def retry_later(
    *, session: Session, row_id: int, owner: str, at: datetime, error: str, refund: bool = False
) -> None:
    """Back to the queue until `at`; `refund` gives the attempt back (it was paced, not failed)."""
    values: dict[str, Any] = {
        "next_attempt_at": at,
        "lease_until": None,
        "last_error": error[:2000],
    }
    if refund:
        values["attempts"] = _T.c.attempts - 1
    _release(session, row_id, owner, **values)


def give_up(*, session: Session, row_id: int, owner: str, now: datetime, error: str) -> None:
    _release(
        session, row_id, owner, done_at=now, failed=True, lease_until=None, last_error=error[:2000]
    )


def _release(session: Session, row_id: int, owner: str, **values: Any) -> None:
    session.execute(update(_T).where(_T.c.id == row_id, _T.c.lease_owner == owner).values(**values))


def pending(*, session: Session, incident_id: int) -> Sequence[OutboxRow]:
    return session.exec(
        select(OutboxRow)
        .where(OutboxRow.incident_id == incident_id, col(OutboxRow.done_at).is_(None))
        .order_by(col(OutboxRow.id))
    ).all()


def note(*, session: Session, row_id: int, **values: Any) -> None:
    """Remember something about an effect's progress in its payload (a retry reads it)."""
    row = session.get(OutboxRow, row_id, with_for_update=True)
    if row is not None:
        row.payload = {**row.payload, **values}
        session.add(row)


def given_up(*, session: Session, incident_id: int, kind: str) -> bool:
    """Was an effect of this kind given up for the incident (and none of it still pending)?"""
    rows = session.exec(
        select(OutboxRow.failed).where(OutboxRow.incident_id == incident_id, OutboxRow.kind == kind)
    ).all()
    return bool(rows) and all(rows)


def pending_of_kind(*, session: Session, kind: str) -> Sequence[OutboxRow]:
    return session.exec(
        select(OutboxRow).where(OutboxRow.kind == kind, col(OutboxRow.done_at).is_(None))
    ).all()


def failed_alike(*, session: Session, row: QueuedEffect, error: str, since: datetime) -> bool:
    """Did another effect of the incident fail the same way lately (already reported)?"""
    return (
        session.exec(
            select(OutboxRow.id)
            .where(
                OutboxRow.incident_id == row.incident_id,
                OutboxRow.id != row.id,
                col(OutboxRow.failed).is_(True),
                OutboxRow.last_error == error[:2000],
                col(OutboxRow.done_at) >= since,
            )
            .limit(1)
        ).first()
        is not None
    )
