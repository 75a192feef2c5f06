"""Statements run through the driver alone behave as the engine's do: inside the session's
transaction, text without NUL, and SQLAlchemy's errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.store import driver
from bot.store.db import Database

_ECHO = text("SELECT CAST(:word AS varchar), CAST(:n AS integer) + 1")
_CLAIM = text("INSERT INTO processed_request (key, received_at) VALUES (:key, now())")
_COUNT = text("SELECT count(*) FROM processed_request WHERE key = :key")


@pytest.fixture
def pg(postgres_db: Database | None) -> Iterator[Database]:
    """PostgreSQL's only: SQLite has no round trips to save."""
    if postgres_db is None:
        pytest.skip("PostgreSQL is not available")
    db = Database(postgres_db.url)
    if db.current_revision() != db.head_revision():
        db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def key() -> str:
    return f"driver-test-{uuid.uuid4()}"


def test_rows_come_back_as_tuples_and_text_has_no_nul(pg: Database, key: str) -> None:
    with pg.transaction() as session:
        assert driver.rows(session, _ECHO, {"word": "a\x00b", "n": 41}) == [("a\ufffdb", 42)]
        assert driver.rows(session, _CLAIM, {"key": key}) == []


def test_it_runs_inside_the_session_s_transaction(pg: Database, key: str) -> None:
    with pytest.raises(RuntimeError), pg.transaction() as session:
        driver.rows(session, _CLAIM, {"key": key})
        raise RuntimeError("rolled back")
    with pg.read() as session:
        assert session.execute(_COUNT, {"key": key}).scalar_one() == 0


def test_a_refused_row_raises_sqlalchemy_s_integrity_error(pg: Database, key: str) -> None:
    with pg.transaction() as session:
        driver.rows(session, _CLAIM, {"key": key})
    with pytest.raises(IntegrityError), pg.transaction() as session:
        driver.rows(session, _CLAIM, {"key": key})
