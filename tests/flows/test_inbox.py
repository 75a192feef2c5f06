"""The inbox: a request is in the database before `accept` returns (so before the ack), runs
once in its lane's order, and is finished by another process if the one that took it dies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.flows.inbox import MAX_ATTEMPTS, Inbox
from bot.flows.ports import Clock
from bot.store.db import Database
from bot.store.models import InboxRow, ProcessedRequest

DEAD = "some-other-host:4242:dead01"  # a PostgreSQL owner nobody holds the lock of


class FixedClock(Clock):
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def inbox(db: Database, clock: FixedClock) -> Iterator[Inbox]:
    box = Inbox(db, clock, owner=lambda: "test-host:1")
    yield box
    box.stop(5)


def rows(db: Database) -> list[InboxRow]:
    with db.read() as s:
        return list(s.exec(select(InboxRow).order_by(col(InboxRow.id))).all())


def test_a_request_is_stored_before_accept_returns(db: Database, inbox: Inbox) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(payload: dict[str, Any]) -> None:
        started.set()
        release.wait(10)

    inbox.register("slow", slow)
    assert inbox.accept("slack:trigger:1", "slack:C1", "slow", {"text": "declare"})
    (row,) = rows(db)  # there before any work: a crash now loses nothing
    assert (row.key, row.lane, row.handler, row.payload) == (
        "slack:trigger:1",
        "slack:C1",
        "slow",
        {"text": "declare"},
    )
    assert row.done_at is None and row.lease_owner == "test-host:1"
    assert started.wait(5)
    release.set()
    assert inbox.wait_idle(5)
    (row,) = rows(db)
    assert row.done_at is not None and row.error is None


def test_a_replayed_key_is_refused_and_not_run_again(db: Database, inbox: Inbox) -> None:
    runs: list[str] = []
    inbox.register("count", lambda payload: runs.append(payload["n"]))
    assert inbox.accept("slack:event:Ev1", "lane", "count", {"n": "first"})
    assert not inbox.accept("slack:event:Ev1", "lane", "count", {"n": "replay"})
    assert inbox.wait_idle(5)
    assert runs == ["first"] and len(rows(db)) == 1


def test_one_lane_runs_in_order_one_at_a_time(inbox: Inbox) -> None:
    seen: list[int] = []
    overlapping = threading.Event()
    running = threading.Lock()

    def work(payload: dict[str, Any]) -> None:
        if not running.acquire(blocking=False):
            overlapping.set()
            return
        try:
            time.sleep(0.005)
            seen.append(payload["n"])
        finally:
            running.release()

    inbox.register("work", work)
    for n in range(20):
        inbox.accept(f"k{n}", "slack:C1", "work", {"n": n})
    assert inbox.wait_idle(10)
    assert seen == list(range(20)) and not overlapping.is_set()


def test_lanes_run_side_by_side(inbox: Inbox) -> None:
    """A slow request on one incident does not hold up another incident's."""
    release = threading.Event()
    inbox.register("stuck", lambda payload: release.wait(10))
    done = threading.Event()
    inbox.register("quick", lambda payload: done.set())
    inbox.accept("a", "slack:C1", "stuck", {})
    inbox.accept("b", "slack:C2", "quick", {})
    assert done.wait(5)
    release.set()


def test_concurrent_requests_are_all_stored(db: Database, inbox: Inbox) -> None:
    """Accepts from many threads share transactions; every one is stored exactly once."""
    inbox.register("noop", lambda payload: None)
    results: list[bool] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        ok = inbox.accept(f"k{n}", f"lane{n % 3}", "noop", {"n": n})
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 40
    assert inbox.wait_idle(10)
    stored = rows(db)
    assert sorted(r.payload["n"] for r in stored) == list(range(40))
    assert all(r.done_at is not None for r in stored)


def test_a_failing_handler_finishes_its_row_with_the_error(db: Database, inbox: Inbox) -> None:
    def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    inbox.register("broken", broken)
    inbox.accept("k", "lane", "broken", {})
    assert inbox.wait_idle(5)
    (row,) = rows(db)
    assert row.done_at is not None and row.error == "RuntimeError: boom"


def _orphan(db: Database, clock: FixedClock, key: str, owner: str, attempts: int = 1) -> None:
    with db.transaction() as s:
        s.add(
            InboxRow(
                key=key,
                lane="slack:C9",
                handler="count",
                payload={"key": key},
                received_at=clock.now(),
                attempts=attempts,
                lease_owner=owner,
                lease_until=clock.now() + timedelta(minutes=10),
            )
        )


def test_requests_of_a_dead_process_are_taken_over_in_order(
    db: Database, clock: FixedClock
) -> None:
    """A process died after acking: its rows are still leased, but its owner is gone."""
    dead = DEAD if db.is_postgres else _a_dead_local_process()
    for n in range(3):
        _orphan(db, clock, f"k{n}", dead)
    runs: list[str] = []
    heir = Inbox(db, clock, owner=lambda: "test-host:2")
    heir.register("count", lambda payload: runs.append(payload["key"]))
    try:
        assert heir.recover() == 3
        assert heir.wait_idle(5)
        assert runs == ["k0", "k1", "k2"]
        assert heir.recover() == 0  # done once, not again
    finally:
        heir.stop(5)
    assert all(r.done_at is not None and r.attempts == 2 for r in rows(db))


def test_a_live_owners_rows_are_left_alone_until_their_lease_runs_out(
    db: Database, clock: FixedClock
) -> None:
    _orphan(db, clock, "k", "test-host:1")  # the owner is this very process: alive
    heir = Inbox(db, clock, owner=lambda: "test-host:2")
    heir.register("count", lambda payload: None)
    try:
        assert heir.recover() == 0
        clock.at += timedelta(minutes=11)
        assert heir.recover() == 1
    finally:
        heir.stop(5)


def test_a_request_that_keeps_killing_its_process_is_set_aside(
    db: Database, clock: FixedClock
) -> None:
    clock.at += timedelta(hours=1)
    _orphan(db, clock, "poison", "test-host:1", attempts=MAX_ATTEMPTS)
    clock.at += timedelta(minutes=11)
    heir = Inbox(db, clock, owner=lambda: "test-host:2")
    runs: list[str] = []
    heir.register("count", lambda payload: runs.append("ran"))
    try:
        assert heir.recover() == 0
    finally:
        heir.stop(5)
    (row,) = rows(db)
    assert runs == [] and row.done_at is not None
    assert row.error == f"set aside after {MAX_ATTEMPTS} attempts"


def test_prune_forgets_old_finished_requests_and_replay_ids(
    db: Database, clock: FixedClock, inbox: Inbox
) -> None:
    old = clock.now() - timedelta(days=8)
    with db.transaction() as s:
        s.add(ProcessedRequest(key="old", received_at=old))
        s.add(ProcessedRequest(key="new", received_at=clock.now()))
        s.add(InboxRow(key="old-done", lane="l", handler="h", received_at=old, done_at=old))
        s.add(InboxRow(key="old-pending", lane="l", handler="h", received_at=old))
        s.add(InboxRow(key="new-done", lane="l", handler="h", received_at=clock.now()))
    assert inbox.prune() == (1, 1)
    with db.read() as s:
        assert [r.key for r in s.exec(select(ProcessedRequest)).all()] == ["new"]
    assert sorted(r.key for r in rows(db)) == ["new-done", "old-pending"]


def _a_dead_local_process() -> str:
    """`host:pid` of a process of this host that has exited (SQLite's notion of gone)."""
    import subprocess
    import sys

    from bot.store.liveness import this_host

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{this_host()}:{child.pid}"


def test_the_same_request_twice_at_once_is_stored_and_run_once(db: Database, inbox: Inbox) -> None:
    """Slack's retry racing the original (or a double submit): one row, one run, one True."""
    runs: list[int] = []
    inbox.register("count", lambda payload: runs.append(payload["n"]))
    results: list[bool] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        ok = inbox.accept("slack:event:Ev9", "lane", "count", {"n": n})
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inbox.wait_idle(5)
    assert sorted(results) == [False] * 9 + [True]
    assert len(runs) == 1 and len(rows(db)) == 1
