"""The operator's view of the outbox (`incidentbot outbox list|retry`): what is waiting or was
given up, and sending given-up effects again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.store.models import OutboxRow


def listing(
    *, session: Session, given_up: bool, incident_id: int | None = None, limit: int = 200
) -> Sequence[OutboxRow]:
    """Effects still waiting (given_up False) or given up (True), oldest first."""
    query = select(OutboxRow).where(
        col(OutboxRow.failed).is_(True) if given_up else col(OutboxRow.done_at).is_(None)
    )
    if incident_id is not None:
        query = query.where(OutboxRow.incident_id == incident_id)
    return session.exec(query.order_by(col(OutboxRow.id)).limit(limit)).all()


def revive(*, session: Session, now: datetime, ids: Sequence[int]) -> int:
    """Put given-up effects back in their lanes, due now, with a fresh count of attempts. A
    revived effect is older than what its lane holds now, so it goes first, as it would have."""
    result = session.execute(
        update(OutboxRow)
        .where(col(OutboxRow.id).in_(ids), col(OutboxRow.failed).is_(True))
        .values(
            done_at=None,
            failed=False,
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            lease_owner=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
