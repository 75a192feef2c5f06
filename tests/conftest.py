"""Shared fixtures. `db` runs every test that takes it on SQLite and on PostgreSQL.

PostgreSQL: INCIDENTBOT_TEST_POSTGRES (CI sets it and then a missing server is an error), else
INCIDENTBOT_TEST_POSTGRES_IF_UP when that server answers (`make test` sets it to 127.0.0.1:5432
database `test`), else those cases are skipped. A bare `pytest` never touches a database it was
not given: the suite wipes the one it uses."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, make_url, text
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


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database | None]:
    url = _postgres_url()
    if url is None:
        yield None
        return
    db = Database(url)
    with db.engine.begin() as conn:  # start from nothing: the migrations must build it all
        for table in [*TABLES, "alembic_version"]:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db.upgrade()
    yield db
    db.dispose()


def _wipe(db: Database) -> None:
    with db.engine.begin() as conn:
        # a migration test may have left the schema downgraded: the tables it has are wiped,
        # and the test's `db` upgrades again
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


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.upgrade()
    yield database
    database.dispose()
