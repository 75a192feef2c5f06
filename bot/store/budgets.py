"""Rate-limit budgets shared by every process of a deployment, in PostgreSQL.

One row per (bucket, scope) holds the instants booked in its rolling window. Every chat or pager call
books first, so a booking is one statement on a connection of its own (never the caller's,
outside any transaction): an upsert whose update computes the booking in the database, as
`bot.core.pacing.book` does, from the row it has locked and the database's clock read after the
lock. Concurrent bookers of one bucket queue on that row lock for the time of one statement;
buckets never wait for each other. The database's clock is the one clock every replica agrees
on. The booking just made is kept last in the row's list (the others in order), so the
statement returns it; readers sort.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from bot.core.pacing import Slot, Window, unbook
from bot.store.db import Database

PRUNE_EVERY = 500  # bookings per process between two sweeps of rows nobody needs any more

_NOW = "(SELECT extract(epoch FROM clock_timestamp())::float8 AS now) c"
# The bookings still in the window, newest first, at the clock `c.now` (after the row lock).
_LIVE = (
    "SELECT array_agg(l.t ORDER BY l.t DESC) AS live FROM (SELECT (e #>> '{}')::float8 AS t "
    "FROM json_array_elements(p.booked) e) l WHERE l.t > c.now - :seconds"
)
# When the new call may go: now, or when the oldest of the window's budget leaves it.
_AT = (
    "CASE WHEN coalesce(cardinality(v.live), 0) >= :budget "
    "THEN greatest(c.now, v.live[:budget] + :seconds) ELSE c.now END"
)
_BOOK = text(
    "INSERT INTO pacing_budget AS p (bucket, scope, booked, expires) "
    f"SELECT :bucket, :scope, json_build_array(c.now), c.now + :seconds FROM {_NOW} "
    "ON CONFLICT (bucket, scope) DO UPDATE SET "
    "booked = (SELECT json_agg(x.t ORDER BY x.o, x.t) "
    f"FROM {_NOW} CROSS JOIN LATERAL ({_LIVE}) v CROSS JOIN LATERAL ("
    "SELECT unnest(coalesce(v.live, '{}'::float8[])) AS t, 0 AS o "
    f"UNION ALL SELECT {_AT}, 1) x), "
    f"expires = (SELECT greatest(coalesce(v.live[1], 0), {_AT}) + :seconds "
    f"FROM {_NOW} CROSS JOIN LATERAL ({_LIVE}) v) "
    "RETURNING (booked ->> -1)::float8, extract(epoch FROM clock_timestamp())::float8"
)
_SAVE = text(
    "UPDATE pacing_budget SET booked = CAST(:booked AS json), expires = :expires "
    "WHERE bucket = :bucket AND scope = :scope"
)
_LOCK = text(
    "SELECT booked FROM pacing_budget WHERE bucket = :bucket AND scope = :scope FOR UPDATE"
)
_PRUNE = text(
    "DELETE FROM pacing_budget WHERE (bucket, scope) IN (SELECT bucket, scope FROM "
    "pacing_budget WHERE expires < extract(epoch FROM clock_timestamp()) "
    "FOR UPDATE SKIP LOCKED)"
)


def scope_key(scope: str) -> str:
    """What the row says of a scope: routing keys are secrets, so every scope is hashed."""
    return hashlib.sha256(scope.encode()).hexdigest()[:32] if scope else ""


def _floats(value: Any) -> list[float]:
    if isinstance(value, str):
        value = json.loads(value)
    return [float(v) for v in value] if isinstance(value, list) else []


class SharedBudgets:
    """`Budgets` kept in PostgreSQL: what one process books, every other one sees."""

    def __init__(
        self,
        db: Database,
        limits: Mapping[str, Window],
        default: Window | None = None,
        *,
        namespace: str,
    ) -> None:
        if not db.is_postgres:
            raise ValueError("shared budgets need PostgreSQL; SQLite keeps them in memory")
        self._engine = db.unsynced  # a booking lost with the database's crash costs nothing
        self._book_sql = str(_BOOK.compile(dialect=self._engine.dialect))
        self._limits = dict(limits)
        self._default = default
        self._namespace = namespace
        self._count = itertools.count(1)
        self._count_lock = threading.Lock()

    def limit(self, name: str) -> Window | None:
        return self._limits.get(name, self._default)

    def _row(self, name: str, scope: str) -> dict[str, str]:
        return {"bucket": f"{self._namespace}:{name}"[:80], "scope": scope_key(scope)}

    def book(self, name: str, scope: str = "") -> Slot | None:
        window = self.limit(name)
        if window is None:
            return None
        row = {**self._row(name, scope), "budget": window.budget, "seconds": window.seconds}
        at, now = self._booked(row)
        with self._count_lock:
            due = next(self._count) % PRUNE_EVERY == 0
        if due:
            self.prune()
        return Slot(name, scope, at, max(0.0, at - now))  # `now`: read just after the booking

    def _booked(self, row: dict[str, Any]) -> tuple[float, float]:
        """Run the booking on a pooled connection, through the driver alone: every chat or
        pager call books, and SQLAlchemy's statement machinery would cost each booking more of
        the process's CPU than the driver does (about 0.3 ms of 0.6)."""
        connection = self._engine.raw_connection()
        try:
            driver: Any = connection.driver_connection
            driver.autocommit = True  # one statement: its own transaction
            with driver.cursor() as cursor:
                at, now = cursor.execute(self._book_sql, row).fetchone()
            driver.autocommit = False  # as the pool hands its connections out
        except BaseException:
            connection.invalidate()  # in an unknown state: not back to the pool
            raise
        finally:
            connection.close()
        return float(at), float(now)

    def release(self, slot: Slot) -> None:
        window = self.limit(slot.name)
        if window is None:
            return
        row = self._row(slot.name, slot.scope)
        with self._engine.begin() as conn:
            found = conn.execute(_LOCK, row).one_or_none()
            if found is None:
                return
            live = unbook(_floats(found[0]), slot.at)
            expires = (live[-1] + window.seconds) if live else 0.0
            conn.execute(_SAVE, {**row, "booked": json.dumps(live), "expires": expires})

    def prune(self) -> int:
        """Deletes the rows whose bookings can no longer matter (a channel gone quiet)."""
        with self._engine.begin() as conn:
            return int(conn.execute(_PRUNE).rowcount or 0)
