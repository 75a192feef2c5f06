"""The Database's connections on PostgreSQL: reads hold no transaction, and a connection that
rested long enough to be pinged comes back as it was (the ping leaves no transaction open)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event, text

from bot.store.db import Database


@pytest.fixture
def pg(postgres_db: Database | None) -> Iterator[Database]:
    if postgres_db is None:
        pytest.skip("PostgreSQL is not available")
    db = Database(postgres_db.url)
    yield db
    db.dispose()


def _status(session: Any) -> TransactionStatus:
    return TransactionStatus(
        session.connection().connection.dbapi_connection.info.transaction_status
    )


def test_a_read_runs_outside_a_transaction(pg: Database) -> None:
    with pg.read() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert _status(session) is TransactionStatus.IDLE  # no BEGIN, nothing held
    with pg.transaction() as session:
        session.execute(text("SELECT 1"))
        assert _status(session) is TransactionStatus.INTRANS


def test_a_rested_connection_is_pinged_and_serves_reads_and_writes(pg: Database) -> None:
    pings: list[bool] = []

    @event.listens_for(pg.engine, "checkin")
    def _rested_long_ago(_dbapi_connection: Any, record: Any) -> None:  # after the pool's own
        record.info["used"] = -1e9

    @event.listens_for(pg.engine, "checkout")
    def _seen(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        pings.append(record.info.get("used") == -1e9)

    for _ in range(2):
        with pg.read() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        with pg.transaction() as session:
            assert session.execute(text("SELECT 2")).scalar_one() == 2
            assert _status(session) is TransactionStatus.INTRANS
    assert any(pings)  # the connections were pinged before they served again
