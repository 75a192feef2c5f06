"""Rate-limit budgets shared in PostgreSQL: two pacers on two Database objects (two engines, as
two processes have) book against one budget and together never exceed it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from bot.core.pacing import Slot, Window
from bot.store.budgets import SharedBudgets, scope_key
from bot.store.db import Database

TIER2 = Window(18, 61.0)


@pytest.fixture
def pg(postgres_db: Database | None) -> Iterator[str]:
    if postgres_db is None:
        pytest.skip("PostgreSQL is not available")
    with postgres_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM pacing_budget"))
    yield postgres_db.url


@pytest.fixture
def two_processes(pg: str) -> Iterator[tuple[SharedBudgets, SharedBudgets]]:
    first, second = Database(pg), Database(pg)
    limits = {"conversations.create": TIER2, "chat.postMessage": Window(3, 3.3)}
    yield (
        SharedBudgets(first, limits, namespace="slack"),
        SharedBudgets(second, limits, namespace="slack"),
    )
    first.dispose()
    second.dispose()


def _most_in_any_window(slots: list[Slot], seconds: float) -> int:
    times = sorted(s.at for s in slots)
    return max(sum(t <= x < t + seconds for x in times) for t in times)


def test_two_processes_share_one_budget(two_processes: tuple[SharedBudgets, SharedBudgets]) -> None:
    a, b = two_processes

    def book(pacer: SharedBudgets) -> Slot:
        slot = pacer.book("conversations.create")
        assert slot is not None
        return slot

    with ThreadPoolExecutor(8) as pool:  # 15 bookings from each, all at once
        slots = list(pool.map(book, [a, b] * 15))
    now = [s for s in slots if s.wait == 0.0]
    assert len(now) == 18  # the window's budget, spent at once, by both together
    assert all(s.wait > 55.0 for s in slots if s.wait > 0)  # the rest: when the window frees
    assert _most_in_any_window(slots, TIER2.seconds) == 18


def test_a_slot_handed_back_by_one_process_serves_the_other(
    two_processes: tuple[SharedBudgets, SharedBudgets],
) -> None:
    a, b = two_processes
    booked = [a.book("conversations.create") for _ in range(18)]
    waiting = b.book("conversations.create")
    assert waiting is not None and waiting.wait > 0
    b.release(waiting)  # b goes back to its outbox instead of waiting
    last = booked[-1]
    assert last is not None
    a.release(last)  # a will not make its last call after all
    again = b.book("conversations.create")
    assert again is not None and again.wait == 0.0


def test_scopes_are_kept_apart_and_never_stored_in_clear(
    pg: str, two_processes: tuple[SharedBudgets, SharedBudgets]
) -> None:
    a, b = two_processes
    routing_key = "R0123456789abcdef0123456789abcdef"
    assert [a.book("chat.postMessage", routing_key).wait for _ in range(3)] == [0.0] * 3  # type: ignore[union-attr]
    assert b.book("chat.postMessage", "C2").wait == 0.0  # type: ignore[union-attr]
    assert b.book("chat.postMessage", routing_key).wait > 0  # type: ignore[union-attr]
    assert a.book("users.info") is None  # no limit: no row, no round trip
    db = Database(pg)
    with db.engine.connect() as conn:
        scopes = set(conn.execute(text("SELECT scope FROM pacing_budget")).scalars())
    db.dispose()
    assert scopes == {scope_key(routing_key), scope_key("C2")}
    assert routing_key not in "".join(scopes)


def test_a_booking_is_one_statement_and_keeps_only_what_can_still_matter(pg: str) -> None:
    db = Database(pg)
    statements: list[tuple[str, bool]] = []  # what the driver is asked, and in autocommit?

    class Recording(psycopg.Cursor[Any]):  # bookings bypass SQLAlchemy: watch the driver
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            statements.append((str(query), self.connection.autocommit))
            return super().execute(query, params, **kwargs)

    def recording(driver: Any, _record: Any, _proxy: Any) -> None:
        driver.cursor_factory = Recording

    event.listen(db.unsynced, "checkout", recording)
    window = Window(2, 61.0)
    pacer = SharedBudgets(db, {"pins.add": window}, namespace="slack")
    slots = [pacer.book("pins.add") for _ in range(4)]
    assert len(statements) == 4
    assert all(autocommit for _, autocommit in statements)  # no transaction around it
    assert [s.wait == 0.0 for s in slots if s is not None] == [True, True, False, False]
    first, second, third, fourth = (s.at for s in slots if s is not None)
    assert third == first + window.seconds  # as soon as the oldest leaves the window
    assert fourth == second + window.seconds
    with db.engine.connect() as conn:
        booked, expires = conn.execute(text("SELECT booked, expires FROM pacing_budget")).one()
    assert sorted(booked) == [first, second, third, fourth]
    assert expires == fourth + window.seconds  # pruned once the last booking stops mattering
    db.dispose()
