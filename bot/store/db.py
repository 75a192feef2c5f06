"""Engine, transactions and schema checks for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from bot.core.text import no_nul
from bot.package_data import migrations_dir

IDLE_PING = 2.0  # seconds a pooled connection may rest before it is pinged at checkout
MIGRATIONS = migrations_dir()


class SchemaOutOfDate(RuntimeError):
    pass


class Database:
    """One engine; `transaction()` yields a session that commits on success, rolls back on error."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._unsynced: Engine | None = None
        self._unsynced_lock = threading.Lock()
        # Called before a thread's outermost transaction starts (wiring: background work lets
        # the acks go first); never inside one, so no lock is held while it waits.
        self.before_transaction: Callable[[], None] | None = None
        self._depth = threading.local()
        # SQLite has one writer at a time. Its busy handler makes a waiting writer sleep (1, 2,
        # 5 … 100 ms) and poll; this process's writers queue on a lock instead and go the moment
        # the previous one commits. (Other processes still meet the busy handler.)
        self._writer = threading.Lock() if not self.is_postgres else None
        # Reads without BEGIN and ROLLBACK on PostgreSQL: at READ COMMITTED every statement
        # takes its own snapshot anyway, so a read-only transaction only costs two round trips.
        self._reader = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.is_postgres
            else self.engine
        )

    @property
    def unsynced(self) -> Engine:
        """PostgreSQL connections whose commits do not wait for the disk
        (`synchronous_commit=off`), for bookkeeping a crash of the database may lose without
        harm: rate-limit bookings. The same engine as `engine` on SQLite."""
        if not self.is_postgres:
            return self.engine
        with self._unsynced_lock:
            if self._unsynced is None:
                self._unsynced = make_engine(
                    self.url, pool_size=2, options="-c synchronous_commit=off"
                )
            return self._unsynced

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        depth = getattr(self._depth, "n", 0)
        if depth == 0 and self.before_transaction is not None:
            self.before_transaction()
        writer = self._writer if depth == 0 else None
        if writer is not None:
            writer.acquire()
        self._depth.n = depth + 1
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            self._depth.n = depth
            if writer is not None:
                writer.release()

    @contextmanager
    def one_write(self) -> Iterator[Session]:
        """A session for a single write statement: on PostgreSQL it commits by itself when it
        returns (autocommit: no BEGIN and COMMIT round trips, and as durable), so give it one
        statement only; elsewhere, and inside a transaction, `transaction()`."""
        if not self.is_postgres or getattr(self._depth, "n", 0) > 0:
            with self.transaction() as session:
                yield session
            return
        if self.before_transaction is not None:
            self.before_transaction()
        with Session(self._reader, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; on PostgreSQL its statements run outside a
        transaction (autocommit)."""
        with Session(self._reader, expire_on_commit=False) as session:
            yield session

    # -- schema ----------------------------------------------------------------------------------
    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        cfg = self.alembic_config()
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        cfg = self.alembic_config()
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def require_current_schema(self) -> None:
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "empty" if current is None else f"at revision {current}"
            raise SchemaOutOfDate(
                f"The database schema is {state}, the code needs {head}. "
                "Run `incidentbot db upgrade` first."
            )

    def dispose(self) -> None:
        self.engine.dispose()
        if self._unsynced is not None:
            self._unsynced.dispose()


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, options: str | None = None
) -> Engine:
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=10,
            # the connection used last goes out first: a steady trickle of work keeps reusing
            # a few hot connections (no idle ping), the others rest, where FIFO would hand out
            # the longest-idle one every time and ping it
            pool_use_lifo=True,
            connect_args={"options": options} if options else {},
        )
        _ping_when_idle(engine)
        _no_nul_bytes(engine)
        return engine
    memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)
    _sqlite_pragmas(engine, wal=not memory)
    _no_nul_bytes(engine)
    return engine


def _ping_when_idle(engine: Engine, idle: float = IDLE_PING) -> None:
    """`pool_pre_ping` pings on every checkout: a round trip per transaction. A connection
    given back less than `idle` seconds ago is known to be alive, so only older ones are pinged
    (SQLAlchemy's recipe for pessimistic disconnect handling); a failed ping discards the
    connection and the pool hands out a fresh one (a database restart costs no request)."""

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        record.info["used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used = record.info.get("used")
        if used is None or time.monotonic() - used < idle:
            return  # just connected, or in use a moment ago
        try:  # the dialect's ping runs outside a transaction, as it found the connection
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError() from error


def _no_nul_bytes(engine: Engine) -> None:
    """PostgreSQL refuses NUL in text, even as a query parameter; SQLite takes it. No sender we
    listen to means one (the chat, Alertmanager and the pager never send it), but anyone may type or
    post one: every text parameter gets U+FFFD instead, on both databases alike."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _scrub(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> tuple[str, Any]:
        if many and isinstance(parameters, list | tuple):
            return statement, type(parameters)(scrubbed(p) for p in parameters)
        return statement, scrubbed(parameters)


def scrubbed(parameters: Any) -> Any:
    """`parameters` with NUL replaced in each text (a copy only when one has a NUL)."""
    if isinstance(parameters, dict):
        if any(isinstance(v, str) and "\x00" in v for v in parameters.values()):
            return {k: no_nul(v) for k, v in parameters.items()}
        return parameters
    if isinstance(parameters, list | tuple) and any(
        isinstance(v, str) and "\x00" in v for v in parameters
    ):
        return type(parameters)(no_nul(v) for v in parameters)
    return parameters


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    """Foreign keys on, WAL for concurrent readers, and BEGIN IMMEDIATE so that a transaction
    that reads then writes cannot lose an update to another writer (SQLite's deferred BEGIN
    would let two of them read the same row and both decide)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
