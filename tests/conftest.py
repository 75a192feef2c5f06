"""Shared fixtures. `db` runs every test that takes it on SQLite and on PostgreSQL.

PostgreSQL: INCIDENTBOT_TEST_POSTGRES (CI sets it and then a missing server is an error), else
127.0.0.1:5432 database `test` when it answers, else those cases are skipped."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables)
from bot.store.db import Database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TABLES = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]  # every table we own


def _postgres_url() -> str | None:
    url = os.environ.get("INCIDENTBOT_TEST_POSTGRES")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return None
    return DEFAULT_PG


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
        conn.execute(text("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'incidentbot.db'}"
        return
    pg = request.getfixturevalue("postgres_db")
    if pg is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    _wipe(pg)
    yield pg.url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.upgrade()
    yield database
    database.dispose()
