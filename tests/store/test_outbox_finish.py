"""An effect done and its lane's next one claimed together (one statement on PostgreSQL): the
next is claimed only while the lane is still ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.store import outbox
from bot.store.db import Database
from bot.store.models import OutboxRow
from bot.store.outbox import Effect

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
LANE = "chat:7"


def lane_of_three(db: Database, owner: str) -> int:
    """Three effects in the lane, the first claimed by `owner`; returns its id."""
    with db.transaction() as session:
        outbox.enqueue_all(
            session=session,
            effects=[Effect(LANE, kind) for kind in ("first", "second", "third")],
            now=NOW,
        )
    with db.transaction() as session:
        head = outbox.claim_head(session=session, lane=LANE, owner=owner, now=NOW, lease=LEASE)
    assert head is not None and head.id is not None and head.kind == "first"
    return head.id


def states(db: Database) -> list[tuple[str, bool, str | None, int]]:
    with db.read() as session:
        rows = session.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()
    return [(r.kind, r.done_at is not None, r.lease_owner, r.attempts) for r in rows]


def test_the_effect_is_done_and_the_next_of_its_lane_claimed(db: Database) -> None:
    first = lane_of_three(db, "w1")
    with db.one_write() as session:
        claimed = outbox.finish_and_claim(
            session=session, row_id=first, lane=LANE, owner="w1", now=NOW, lease=LEASE
        )
    assert claimed is not None and (claimed.kind, claimed.lease_owner) == ("second", "w1")
    assert claimed.lease_until == NOW + LEASE
    assert states(db) == [
        ("first", True, "w1", 1),
        ("second", False, "w1", 1),
        ("third", False, None, 0),
    ]


def test_a_lane_taken_over_by_another_worker_is_left_to_it(db: Database) -> None:
    """The lease ran out and another worker took the effect: this one's finish changes
    nothing, and it must not run the next effect while the other still runs the first."""
    first = lane_of_three(db, "w2")
    with db.one_write() as session:
        claimed = outbox.finish_and_claim(
            session=session, row_id=first, lane=LANE, owner="w1", now=NOW, lease=LEASE
        )
    assert claimed is None
    assert states(db) == [
        ("first", False, "w2", 1),
        ("second", False, None, 0),
        ("third", False, None, 0),
    ]


def test_a_next_effect_not_yet_due_stays_waiting(db: Database) -> None:
    first = lane_of_three(db, "w1")
    with db.transaction() as session:
        later = session.exec(select(OutboxRow).where(OutboxRow.kind == "second")).one()
        later.next_attempt_at = NOW + timedelta(seconds=30)
        session.add(later)
    with db.one_write() as session:
        claimed = outbox.finish_and_claim(
            session=session, row_id=first, lane=LANE, owner="w1", now=NOW, lease=LEASE
        )
    assert claimed is None
    assert states(db) == [
        ("first", True, "w1", 1),
        ("second", False, None, 0),
        ("third", False, None, 0),
    ]
