"""An alert delivery's line joins the line still waiting in its lane (one message for what the
chat has not been shown yet), only when nothing else was queued after that line, no runner holds
it, and the two fit in one message."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.store.alert_deliveries import LineMerge, record_delivery
from bot.store.db import Database
from bot.store.outbox import Effect

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
LINE, REFRESH, OPEN, PROPOSE = "chat.post_line", "chat.refresh", "chat.open", "chat.propose"
MERGE = LineMerge(line=LINE, behind=REFRESH, limit=40)


def lane(incident_id: int) -> str:
    return f"chat:{incident_id}"


def deliver(db: Database, incident_id: int, *effects: tuple[str, dict[str, str]]) -> None:
    with db.transaction() as session:
        record_delivery(
            session=session,
            incident_id=incident_id,
            entries=[],
            lane=lane(incident_id),
            effects=[Effect(lane(incident_id), kind, incident_id, p) for kind, p in effects],
            now=T0,
            merge=MERGE,
        )


def line(words: str, kind: str = "alert") -> tuple[str, dict[str, str]]:
    return LINE, {"kind": kind, "text": words}


def queued(db: Database, incident_id: int) -> list[tuple[str, str | None]]:
    with db.read() as session:
        rows = session.execute(
            text("SELECT kind, payload FROM outbox WHERE lane = :lane ORDER BY id"),
            {"lane": lane(incident_id)},
        ).all()
    payloads = [json.loads(p) if isinstance(p, str) else p for _, p in rows]
    return [(kind, (p or {}).get("text")) for (kind, _), p in zip(rows, payloads, strict=True)]


@pytest.fixture
def waiting(db: Database, incident_id: int) -> int:
    """A lane whose channel is still to be made, with a line and a card refresh behind it."""
    deliver(db, incident_id, (OPEN, {}))
    deliver(db, incident_id, line("a"), (REFRESH, {}))
    return incident_id


def test_a_line_joins_the_one_still_waiting_behind_the_card_refresh(
    db: Database, waiting: int
) -> None:
    deliver(db, waiting, line("b"), (REFRESH, {}))
    deliver(db, waiting, line("c"), (REFRESH, {}))
    assert queued(db, waiting) == [(OPEN, None), (LINE, "a\nb\nc"), (REFRESH, None)]


def test_a_line_a_runner_holds_is_not_changed_under_it(db: Database, waiting: int) -> None:
    with db.transaction() as session:
        session.execute(
            text(
                "UPDATE outbox SET lease_owner = 'w', lease_until = :t WHERE kind = :k"
                " AND lane = :lane"
            ),
            {"t": T0, "k": LINE, "lane": lane(waiting)},
        )
    deliver(db, waiting, line("b"), (REFRESH, {}))
    assert queued(db, waiting) == [(OPEN, None), (LINE, "a"), (REFRESH, None), (LINE, "b")]


def test_a_line_queued_before_something_else_keeps_its_place(db: Database, waiting: int) -> None:
    deliver(db, waiting, (PROPOSE, {}))
    deliver(db, waiting, line("b"), (REFRESH, {}))
    assert [k for k, _ in queued(db, waiting)] == [OPEN, LINE, REFRESH, PROPOSE, LINE]


def test_lines_that_would_not_fit_one_message_stay_apart(db: Database, waiting: int) -> None:
    deliver(db, waiting, line("b" * 38), (REFRESH, {}))  # "a\n" and 38: 40, the limit
    deliver(db, waiting, line("c"), (REFRESH, {}))
    assert queued(db, waiting)[1:] == [(LINE, "a\n" + "b" * 38), (REFRESH, None), (LINE, "c")]


def test_only_alert_lines_are_joined(db: Database, waiting: int) -> None:
    deliver(db, waiting, line("a note", kind="note"), (REFRESH, {}))
    deliver(db, waiting, line("b"), (REFRESH, {}))
    assert queued(db, waiting)[1:] == [(LINE, "a"), (REFRESH, None), (LINE, "a note"), (LINE, "b")]
