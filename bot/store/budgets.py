"""Rate-limit budgets shared by every process of a deployment, in PostgreSQL.

One row per (bucket, scope) holds the instants booked in its rolling window. A booking is one
short transaction on a connection of its own (never the caller's): an upsert that locks the row
and returns it with the database's clock, then the update. Concurrent bookers of one bucket
queue on that row lock for the time of two statements; buckets never wait for each other. The
database's clock is the one clock every replica agrees on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from bot.core.pacing import Slot, Window, book, unbook
from bot.store.db import Database

PRUNE_EVERY = 500  # bookings per process between two sweeps of rows nobody needs any more

_CLAIM = text(
    "INSERT INTO pacing_budget (bucket, scope, booked, expires) "
    "VALUES (:bucket, :scope, CAST('[]' AS json), 0) "
    "ON CONFLICT (bucket, scope) DO UPDATE SET expires = pacing_budget.expires "
    "RETURNING booked, extract(epoch FROM clock_timestamp())"
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
        row = self._row(name, scope)
        with self._engine.begin() as conn:
            booked, now = conn.execute(_CLAIM, row).one()
            live, at = book(_floats(booked), window, float(now))
            conn.execute(
                _SAVE, {**row, "booked": json.dumps(live), "expires": live[-1] + window.seconds}
            )
        with self._count_lock:
            due = next(self._count) % PRUNE_EVERY == 0
        if due:
            self.prune()
        return Slot(name, scope, at, at - float(now))

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
