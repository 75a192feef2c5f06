"""What every web replica must agree on about signing in, kept in the database:

* which review sign-in links have been used (`use_link`: the first use wins, on every replica and
  after any restart; only the SHA-256 of a link's nonce is stored, never the link);
* how many wrong credentials each client address sent this minute (`failures`,
  `record_failure`: one row per address per minute, upserted), which the throttle reads.

`prune_sign_in_records(db, now)` deletes the links past their expiry and the minutes that no
longer count; the scheduler calls it (any process may: it is one DELETE per table)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import AuthFailure, UsedSignInLink

KEEP_MINUTES = 2  # failure rows older than this many minutes count for nothing


def link_digest(nonce: str) -> str:
    return hashlib.sha256(b"incidentbot sign-in link\x00" + nonce.encode()).hexdigest()


def _insert(db: Database, table: Any) -> Any:
    return (postgresql.insert if db.is_postgres else sqlite.insert)(table)


def use_link(db: Database, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
    """True the first time a link (by its nonce) is used, False ever after: an INSERT that does
    nothing when the row exists, so two replicas redeeming the same link at once cannot both
    win."""
    statement = (
        _insert(db, UsedSignInLink)
        .values(digest=link_digest(nonce), expires_at=expires_at, used_at=now)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(col(UsedSignInLink.digest))
    )
    with db.transaction() as session:
        return session.execute(statement).first() is not None


def minute_of(now: datetime) -> int:
    return int(now.timestamp()) // 60


def failures(db: Database, address: str, now: datetime) -> int:
    """Wrong credentials from `address` in the current minute (a primary-key lookup)."""
    with db.read() as session:
        row = session.get(AuthFailure, (address, minute_of(now)))
        return row.failures if row is not None else 0


def record_failure(db: Database, address: str, now: datetime) -> int:
    """Counts one more wrong credential from `address` this minute; the new count."""
    table = AuthFailure.__table__  # type: ignore[attr-defined]
    statement = (
        _insert(db, AuthFailure)
        .values(address=address, minute=minute_of(now), failures=1)
        .on_conflict_do_update(
            index_elements=["address", "minute"],
            set_={"failures": table.c.failures + 1},
        )
        .returning(table.c.failures)
    )
    with db.transaction() as session:
        return int(session.execute(statement).scalar_one())


def prune_sign_in_records(db: Database, now: datetime) -> int:
    """Deletes used links past their expiry and failure counts of past minutes; how many rows."""
    with db.transaction() as session:
        links = session.execute(delete(UsedSignInLink).where(col(UsedSignInLink.expires_at) <= now))
        minutes = session.execute(
            delete(AuthFailure).where(col(AuthFailure.minute) < minute_of(now) - KEEP_MINUTES)
        )
        return sum(cast(CursorResult[Any], r).rowcount or 0 for r in (links, minutes))


def used_links(db: Database) -> int:
    """How many used links are remembered (for tests and checks)."""
    with db.read() as session:
        return len(session.exec(select(UsedSignInLink.digest)).all())
