"""What does "answered means done" cost? The durable write behind every ack, alone.

`Inbox.accept_async` — what `/incident …` over HTTP awaits before its answer — on SQLite and
PostgreSQL: one request at a time (the cost a lone request pays), and bursts of 50 at once on
one event loop (they share a commit). Printed beside a plain `INSERT` + `COMMIT` of the same
row through the same engine, one at a time, the floor of any durable write. No work handler
is registered, so nothing runs after the write.

    .venv/bin/python bench/inbox_write.py [--db sqlite|postgres|both] [--pg-db bench] [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import bench_db
from loopback import pct
from sqlalchemy import insert

from bot.flows.inbox import Inbox
from bot.flows.ports import SystemClock
from bot.store.db import Database
from bot.store.models import InboxRow

PAYLOAD = {
    "command": "/incident",
    "text": "declare sev3 Bench incident",
    "user_id": "U000000002",
    "channel_id": "C000000001",
    "response_url": "http://127.0.0.1:1/response/x",
    "trigger_id": "1234.5678.abcdef",
}


def plain_inserts(db: Database, n: int) -> list[float]:
    table = InboxRow.__table__  # type: ignore[attr-defined]
    clock, times = SystemClock(), []
    for i in range(n):
        began = time.perf_counter()
        with db.transaction() as session:
            session.execute(
                insert(table).values(
                    key=f"plain:{i}",
                    lane="plain",
                    handler="none",
                    payload=PAYLOAD,
                    received_at=clock.now(),
                    attempts=1,
                )
            )
        times.append((time.perf_counter() - began) * 1000)
    return times


async def one_at_a_time(inbox: Inbox, n: int) -> list[float]:
    times = []
    for i in range(n):
        began = time.perf_counter()
        await inbox.accept_async(f"one:{i}", f"lane{i}", "none", PAYLOAD)
        times.append((time.perf_counter() - began) * 1000)
    return times


async def bursts(inbox: Inbox, n: int, size: int = 50) -> tuple[list[float], float]:
    """Each burst: `size` accepts at once. Returns every accept's wait and the wall time per
    request over all bursts."""
    times: list[float] = []

    async def one(key: str) -> None:
        began = time.perf_counter()
        await inbox.accept_async(key, key, "none", PAYLOAD)
        times.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    for b in range(max(1, n // size)):
        await asyncio.gather(*(one(f"burst:{b}:{i}") for i in range(size)))
    return times, (time.perf_counter() - started) * 1000 / len(times)


def run(label: str, url: str, n: int) -> None:
    db = Database(url)
    db.upgrade()
    inbox = Inbox(db, SystemClock(), owner=lambda: "bench:1")
    inbox.register("none", lambda payload: None)
    plain = plain_inserts(db, n)
    lone = asyncio.run(one_at_a_time(inbox, n))
    burst, per_request = asyncio.run(bursts(inbox, n * 2))
    inbox.stop(30)
    db.dispose()
    print(f"\n== {label}")
    print(f"{'':38}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'plain INSERT + COMMIT, one at a time':38}{pct(plain, 50):9.2f}{pct(plain, 99):9.2f}")
    print(f"{'inbox write, one at a time':38}{pct(lone, 50):9.2f}{pct(lone, 99):9.2f}")
    print(f"{'inbox write, 50 at once (each waits)':38}{pct(burst, 50):9.2f}{pct(burst, 99):9.2f}")
    print(f"{'inbox write, 50 at once, per request':38}{per_request:9.2f}")
    print(
        f"one at a time: {statistics.median(lone) / statistics.median(plain):.2f}× a plain insert"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    bench_db.add_arguments(parser, "both")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in bench_db.kinds(args.db):
            run(kind, bench_db.fresh(kind, tmp, args.pg_db, "inbox"), args.n)


if __name__ == "__main__":
    main()
