"""Queries on alert-born incidents and their alerts. Keyword-only `session=`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    or_,
    select as core_select,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.alerts import Alert
from bot.core.text import no_nul
from bot.store import driver
from bot.store.models import AlertRow, Incident

_A = AlertRow.__table__.c  # type: ignore[attr-defined]
_I = Incident.__table__.c  # type: ignore[attr-defined]


# A unique key refused a row (the open-group key: another replica opened the incident of the
# group meanwhile); the transaction is rolled back.
GroupTaken = IntegrityError


def group_hash(source: str, group_key: str) -> str:
    return hashlib.sha256(f"{source}\x00{group_key}".encode()).hexdigest()


@dataclass(frozen=True)
class OpenIncident:
    """What a delivery needs of its group's open incident (the row stays locked)."""

    id: int
    severity: str
    status: str


_LOCK_OPEN = (
    core_select(_I.id, _I.severity, _I.status)
    .where(_I.open_group == bindparam("group"))
    .with_for_update()
)


def lock_open_incident(*, session: Session, group: str) -> OpenIncident | None:
    """The group's open incident, locked until the transaction ends (`FOR UPDATE`: one writer
    of its alerts at a time, and one incident per group). A Core statement built once: no ORM
    row to build and track for the many deliveries that only add alerts."""
    if session.get_bind().dialect.name == "postgresql":
        found = driver.rows(session, _LOCK_OPEN, {"group": group})
        return OpenIncident(*found[0]) if found else None
    row = session.execute(_LOCK_OPEN, {"group": group}).first()
    return None if row is None else OpenIncident(*row)


@dataclass(frozen=True)
class AlertChange:
    alert: Alert
    change: str  # new | resolved | refired


def upsert_alerts(
    *,
    session: Session,
    incident_id: int,
    source: str,
    alerts: Sequence[Alert],
    now: datetime,
    fresh_incident: bool = False,
) -> list[AlertChange]:
    """Store each alert by fingerprint; report only what changed (a repeat changes nothing).

    Written for storms: one INSERT … ON CONFLICT DO UPDATE for all of a delivery's alerts: new
    ones go in, changed ones take the new state, the rest only get `last_seen_at`. What each
    was before comes back from the same statement on PostgreSQL; SQLite (no round trips) reads
    it first, unless the incident was opened by this transaction (`fresh_incident`). A
    fingerprint sent twice in one delivery counts once, as its last alert says."""
    # Keys as the database keeps them (it stores U+FFFD for NUL): else a fingerprint with a NUL
    # is never found again, and its second delivery breaks the unique key instead of matching.
    latest: dict[str, Alert] = {}
    for a in alerts:
        if "\x00" in a.fingerprint:
            a = replace(a, fingerprint=no_nul(a.fingerprint))
        latest[a.fingerprint] = a
    if not latest:
        return []
    rows: list[dict[str, Any]] = [
        {
            "incident_id": incident_id,
            "fingerprint": fingerprint,
            "source": source,
            "status": alert.status,
            "name": alert.name[:200],
            "summary": alert.summary,
            "labels": alert.labels,
            "annotations": alert.annotations,
            "links": alert.links,
            "starts_at": alert.starts_at,
            "ends_at": alert.ends_at,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for fingerprint, alert in latest.items()
    ]
    was: dict[str, str | None]
    if session.get_bind().dialect.name == "postgresql":
        was = _upsert_pg(session, rows)
    else:
        was = {} if fresh_incident else _stored(session, incident_id, list(latest))
        session.execute(_UPSERT_SQLITE, rows)
    changes: list[AlertChange] = []
    for fingerprint, alert in latest.items():
        before = was.get(fingerprint)
        if before is None:
            changes.append(AlertChange(alert, "new" if alert.status == "firing" else "resolved"))
        elif before != alert.status:
            changes.append(
                AlertChange(alert, "resolved" if alert.status == "resolved" else "refired")
            )
    return changes


def _stored(session: Session, incident_id: int, fingerprints: list[str]) -> dict[str, str | None]:
    rows = session.execute(_STORED, {"incident_id": incident_id, "fingerprints": fingerprints})
    return {fingerprint: status for fingerprint, status in rows}


_STORED = core_select(_A.fingerprint, _A.status).where(
    _A.incident_id == bindparam("incident_id"),
    _A.fingerprint.in_(bindparam("fingerprints", expanding=True)),
)


def _upsert(dialect_insert: Any) -> Any:
    """One statement for a delivery's alerts. On a conflict (the alert is stored) the row takes
    the new state when something that matters changed (status, end, summary, or the start of
    a firing alert), else only `last_seen_at`: the values compared are the ones just written,
    so annotations and links follow the state changes, as they always did."""
    new = dialect_insert(AlertRow.__table__)  # type: ignore[attr-defined]
    sent = new.excluded
    firing = sent.status == "firing"
    changed = or_(
        _A.status != sent.status,
        _A.summary != sent.summary,
        _A.ends_at.is_distinct_from(sent.ends_at),
        and_(firing, _A.starts_at != sent.starts_at),
    )
    return new.on_conflict_do_update(
        index_elements=[_A.incident_id, _A.fingerprint],
        set_={
            "status": sent.status,
            "ends_at": sent.ends_at,
            "summary": sent.summary,
            "starts_at": case((firing, sent.starts_at), else_=_A.starts_at),
            "annotations": case((changed, sent.annotations), else_=_A.annotations),
            "links": case((changed, sent.links), else_=_A.links),
            "last_seen_at": sent.last_seen_at,
        },
    )


# RETURNING makes SQLAlchemy send the rows as one multi-row INSERT ("insertmanyvalues", from
# the statement compiled once), where a plain executemany runs the statement once a row. On
# PostgreSQL a statement does not see its own changes: the subquery in RETURNING reads each
# alert as it was before (no row: new). The incident's row lock, held by the caller, keeps
# every other writer of the incident's alerts out meanwhile.
_ON_CONFLICT = """
ON CONFLICT (incident_id, fingerprint) DO UPDATE SET
    status = excluded.status, ends_at = excluded.ends_at, summary = excluded.summary,
    starts_at = CASE WHEN excluded.status = 'firing' THEN excluded.starts_at
        ELSE alert.starts_at END,
    annotations = CASE WHEN (@CHANGED) THEN excluded.annotations ELSE alert.annotations END,
    links = CASE WHEN (@CHANGED) THEN excluded.links ELSE alert.links END,
    last_seen_at = excluded.last_seen_at
RETURNING alert.fingerprint, (SELECT was.status FROM alert AS was WHERE was.id = alert.id)""".replace(
    "@CHANGED",
    "alert.status <> excluded.status OR alert.summary <> excluded.summary"
    " OR alert.ends_at IS DISTINCT FROM excluded.ends_at"
    " OR (excluded.status = 'firing' AND alert.starts_at <> excluded.starts_at)",
)
_INTO = """INSERT INTO alert (incident_id, fingerprint, source, status, name, summary, labels,
    annotations, links, starts_at, ends_at, first_seen_at, last_seen_at)
SELECT :incident_id, v.*, :now, :now FROM """
# The rows as one JSON document: one parameter, nothing to escape a value.
_UPSERT_PG = text(
    _INTO
    + """json_to_recordset(CAST(:rows AS JSON)) AS v(fingerprint VARCHAR, source VARCHAR,
    status VARCHAR, name VARCHAR, summary VARCHAR, labels JSON, annotations JSON, links JSON,
    starts_at TIMESTAMPTZ, ends_at TIMESTAMPTZ)"""
    + _ON_CONFLICT
)
# The rows as one array a column, for what PostgreSQL's JSON functions refuse: an escaped
# NUL (\u0000) in labels or annotations, kept as it came in a json column.
_UPSERT_PG_ARRAYS = text(
    _INTO
    + """unnest(CAST(:fingerprint AS VARCHAR[]), CAST(:source AS VARCHAR[]),
    CAST(:status AS VARCHAR[]), CAST(:name AS VARCHAR[]), CAST(:summary AS VARCHAR[]),
    CAST(:labels AS JSON[]), CAST(:annotations AS JSON[]), CAST(:links AS JSON[]),
    CAST(:starts_at AS TIMESTAMPTZ[]), CAST(:ends_at AS TIMESTAMPTZ[])) AS v"""
    + _ON_CONFLICT
)
_TEXTS = ("fingerprint", "source", "status", "name", "summary")
_JSONS = ("labels", "annotations", "links")


def _upsert_pg(session: Session, rows: list[dict[str, Any]]) -> dict[str, str | None]:
    """One short statement, the same text every time, so the driver and the server parse and
    plan it once (a multi-row VALUES of hundreds of parameters is parsed on every call). Text
    is scrubbed of NUL here: the engine's hook sees only plain parameters."""
    first = rows[0]
    params: dict[str, Any] = {"incident_id": first["incident_id"], "now": first["last_seen_at"]}
    document = json.dumps(
        [
            {
                **{name: no_nul(r[name]) for name in _TEXTS},
                **{name: r[name] for name in _JSONS},
                "starts_at": r["starts_at"].isoformat(),
                "ends_at": None if r["ends_at"] is None else r["ends_at"].isoformat(),
            }
            for r in rows
        ]
    )
    statement = _UPSERT_PG
    if "\\u0000" in document:
        statement = _UPSERT_PG_ARRAYS
        params.update({name: [no_nul(r[name]) for r in rows] for name in _TEXTS})
        params.update({name: [json.dumps(r[name]) for r in rows] for name in _JSONS})
        params.update({name: [r[name] for r in rows] for name in ("starts_at", "ends_at")})
    else:
        params["rows"] = document
    return {fp: status for fp, status in driver.rows(session, statement, params)}


_UPSERT_SQLITE = _upsert(sqlite_insert).returning(_A.id)


def firing_count(*, session: Session, incident_id: int) -> int:
    query = (
        select(func.count())
        .select_from(AlertRow)
        .where(AlertRow.incident_id == incident_id, AlertRow.status == "firing")
    )
    return int(session.exec(query).one())


def alerts_of(*, session: Session, incident_id: int) -> Sequence[AlertRow]:
    return session.exec(
        select(AlertRow)
        .where(AlertRow.incident_id == incident_id)
        .order_by(col(AlertRow.starts_at), col(AlertRow.id))
    ).all()


_LINES = (
    core_select(_A.name, _A.summary, _A.status, _A.links)
    .where(_A.incident_id == bindparam("incident_id"))
    .order_by(_A.starts_at, _A.id)
)


def alert_lines(
    *, session: Session, incident_id: int
) -> list[tuple[str, str, bool, dict[str, str]]]:
    """What the incident's card shows of its alerts: name, summary, firing, links (in order)."""
    rows = session.execute(_LINES, {"incident_id": incident_id})
    return [
        (name, summary, status == "firing", dict(links)) for name, summary, status, links in rows
    ]


def last_end(*, session: Session, incident_id: int) -> datetime | None:
    query = select(func.max(AlertRow.ends_at)).where(AlertRow.incident_id == incident_id)
    return session.exec(query).one()
