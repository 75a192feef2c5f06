"""Is the process that leased a row still alive?

A process names itself `host:pid` (SQLite) or `host:pid:token` (PostgreSQL, once it holds the
advisory lock `(LIVENESS_LOCK, crc32(name))` on a connection of its own for as long as it
lives; `OutboxRunner.keep_alive`). On PostgreSQL a name whose lock nobody holds is gone, on any
host. On SQLite, which only processes of one host share, a name of this host whose pid no
longer runs is gone. Names of another form are never judged: their leases only expire.
"""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

LIVENESS_LOCK = 0x1C1D0  # pg_advisory_lock(LIVENESS_LOCK, key of owner): "this worker lives"


def key(process: str) -> int:
    return zlib.crc32(process.encode()) & 0x7FFFFFFF


def this_host() -> str:
    return socket.gethostname()[:30]


def announce(engine: Engine, process: str) -> Connection | None:
    """PostgreSQL: take, on a connection of its own, the advisory lock naming `process`, and
    hold it as long as the connection lives (`let_go` ends it). None when another live process
    holds that key already (a hash collision)."""
    connection = engine.connect()
    held = connection.execute(
        text("SELECT pg_try_advisory_lock(:c, :k)"), {"c": LIVENESS_LOCK, "k": key(process)}
    ).scalar()
    connection.commit()
    if not held:
        connection.close()
        return None
    return connection


def let_go(connection: Connection) -> None:
    """The process is going: its announcing connection is dropped, not pooled, so the
    session and its lock end."""
    connection.invalidate()


def dead(session: Session, processes: Iterable[str]) -> list[str]:
    """The processes among `processes` known to be gone."""
    names = sorted({p for p in processes if p})
    if not names:
        return []
    if session.get_bind().dialect.name == "postgresql":
        announced = [n for n in names if n.count(":") == 2]
        if not announced:
            return []
        alive = set(
            session.execute(
                text(
                    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND "
                    "classid = :c AND objsubid = 2 AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"c": LIVENESS_LOCK},
            ).scalars()
        )
        return [n for n in announced if key(n) not in alive]
    return [n for n in names if _local_process_gone(n)]


def _local_process_gone(name: str) -> bool:
    host, _, pid = name.partition(":")
    if host != this_host() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
