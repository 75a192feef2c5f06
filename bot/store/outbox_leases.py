"""The outbox's leases held by workers that are gone: found by store.liveness, and freed so
the next sweep, in any process, runs their effects instead of waiting the leases out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.store import liveness
from bot.store.models import OutboxRow


def free_dead_leases(*, session: Session, now: datetime) -> tuple[int, list[str]]:
    """Free the running leases of owners whose process is gone: how many, and which owners.
    Only owners that announced themselves are judged (store.liveness)."""
    owners = session.exec(
        select(OutboxRow.lease_owner)
        .where(col(OutboxRow.done_at).is_(None), col(OutboxRow.lease_until) >= now)
        .distinct()
    ).all()
    judged = {o: o.rpartition(":")[0] for o in owners if o is not None}
    gone = set(liveness.dead(session, judged.values()))
    dead = [o for o, process in judged.items() if process in gone]
    if not dead:
        return 0, []
    freed = session.execute(
        update(OutboxRow)
        .where(
            col(OutboxRow.done_at).is_(None),
            col(OutboxRow.lease_owner).in_(dead),
            col(OutboxRow.lease_until) >= now,
        )
        .values(lease_until=None)
    ).rowcount  # type: ignore[attr-defined]
    return int(freed or 0), dead
