"""Shared fixtures. `db` runs every test that takes it on SQLite and on PostgreSQL.

PostgreSQL: INCIDENTBOT_TEST_POSTGRES (CI sets it and then a missing server is an error), else
INCIDENTBOT_TEST_POSTGRES_IF_UP when that server answers (`make test` sets it to 127.0.0.1:5432
database `test`), else those cases are skipped. A bare `pytest` never touches a database it was
not given: the suite wipes the one it uses.

Under pytest-xdist (`make test` runs `-n 2 --dist loadfile`) each worker takes its own database:
the configured name with the worker's id appended (`test` → `test_gw0`, `test_gw1`), created when
missing, so the workers never wipe each other's tables. SQLite needs nothing: each test has its
own file. --dist loadfile keeps a module on one worker: its module-scoped fixtures (a fuzz
module's sandbox and the payload count it asserts at its end, the installed wheel) are made
once. (Not loadgroup: pytest-xdist 3.8's xdist_group marks do nothing under pytest 9.)"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables)
from bot.store.db import Database

TABLES = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]  # every table we own


def _postgres_url() -> str | None:
    url = os.environ.get("INCIDENTBOT_TEST_POSTGRES")
    if url:
        return url
    fallback = os.environ.get("INCIDENTBOT_TEST_POSTGRES_IF_UP")
    if not fallback:
        return None
    where = make_url(fallback)
    try:
        socket.create_connection(
            (where.host or "127.0.0.1", where.port or 5432), timeout=0.5
        ).close()
    except OSError:
        return None
    return fallback


def _per_worker(url: str) -> str:
    """The worker's own database under pytest-xdist (created if missing); `url` itself when
    pytest runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    mine = given.set(database=f"{given.database}_{worker}")
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            known = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine.database}
            ).first()
            if known is None:
                conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        admin.dispose()
    return mine.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database | None]:
    url = _postgres_url()
    if url is None:
        yield None
        return
    db = Database(_per_worker(url))
    with db.engine.begin() as conn:  # start from nothing: the migrations must build it all
        for table in [*TABLES, "alembic_version"]:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db.upgrade()
    yield db
    db.dispose()


def _wipe(db: Database) -> None:
    """Every table empty and every id counting from 1 again. DELETE, children first, and the
    sequences restarted: a test leaves a few rows, and TRUNCATE's new files cost 0.1–0.5 s a test
    where this takes 10–30 ms. When that fails (a migration test left the schema downgraded),
    TRUNCATE … CASCADE of the tables there are; the test's `db` upgrades again."""
    try:
        with db.engine.begin() as conn:
            for table in TABLES:
                conn.execute(text(f'DELETE FROM "{table}"'))
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for sequence in list(sequences):
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    except DBAPIError:
        with db.engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            tables = [table for table in TABLES if table in present]
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database the migrations built once: each test starts from a copy of it (the
    same schema as an upgrade gives, in a millisecond instead of 0.2 s)."""
    path = tmp_path_factory.mktemp("template") / "incidentbot.db"
    template = Database(f"sqlite:///{path}")
    template.upgrade()
    template.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "incidentbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    pg = request.getfixturevalue("postgres_db")
    if pg is None:
        pytest.skip("no PostgreSQL: set INCIDENTBOT_TEST_POSTGRES to a database the suite may wipe")
    _wipe(pg)
    yield pg.url


@pytest.fixture(scope="session")
def head_revision() -> str | None:
    return Database("sqlite://").head_revision()


@pytest.fixture
def db(db_url: str, head_revision: str | None) -> Iterator[Database]:
    database = Database(db_url)
    if database.current_revision() != head_revision:  # (a migration test went down on it)
        database.upgrade()
    yield database
    database.dispose()
