"""A statement run through the database driver alone, inside the session's transaction.

For the few PostgreSQL statements every alert delivery runs (lock the group's incident, upsert
its alerts, record its entries and effects): SQLAlchemy's statement machinery around a cursor
costs about as much of the process's CPU as the driver itself does (result proxies, events,
parameter processing), and a storm is bound by that CPU. The statement is compiled once; its
parameters get what the engine's hook would give them (no NUL in text); its rows come back as
tuples; the driver's errors are raised as SQLAlchemy raises them (`IntegrityError`,
`OperationalError` …), the connection invalidated when it is gone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session

from bot.store.db import scrubbed

_COMPILED: dict[tuple[int, str], str] = {}  # module-level statements: their ids stay theirs


def rows(session: Session, statement: ClauseElement, params: Mapping[str, Any]) -> list[Any]:
    """The rows `statement` returns (none for a statement without RESULT columns)."""
    connection = session.connection()
    dialect = connection.dialect
    key = (id(statement), dialect.name)
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = str(statement.compile(dialect=dialect))
    driver: Any = connection.connection.driver_connection
    values = scrubbed(dict(params))
    base = dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall() if cursor.description is not None else []
    except base as exc:
        gone = dialect.is_disconnect(exc, driver, None)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, values, exc, base, connection_invalidated=gone, dialect=dialect
        ) from exc
