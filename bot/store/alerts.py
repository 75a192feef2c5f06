"""Queries on alert-born incidents and their alerts. Keyword-only `session=`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, func, or_, select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.core.alerts import Alert
from bot.core.text import no_nul
from bot.store.models import AlertRow, Incident

_A = AlertRow.__table__.c  # type: ignore[attr-defined]


def group_hash(source: str, group_key: str) -> str:
    return hashlib.sha256(f"{source}\x00{group_key}".encode()).hexdigest()


def incident_by_open_group(
    *, session: Session, group: str, for_update: bool = False
) -> Incident | None:
    query = select(Incident).where(Incident.open_group == group)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


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

    Written for storms: one SELECT of the delivery's stored alerts (none for an incident this
    transaction opened: `fresh_incident`), then one INSERT … ON CONFLICT DO UPDATE for all of
    them: new ones go in, changed ones take the new state, the rest only get `last_seen_at`.
    A fingerprint sent twice in one delivery counts once, as its last alert says."""
    # Keys as the database keeps them (it stores U+FFFD for NUL): else a fingerprint with a NUL
    # is never found again, and its second delivery breaks the unique key instead of matching.
    latest: dict[str, Alert] = {}
    for a in alerts:
        if "\x00" in a.fingerprint:
            a = replace(a, fingerprint=no_nul(a.fingerprint))
        latest[a.fingerprint] = a
    if not latest:
        return []
    stored = {} if fresh_incident else _stored(session, incident_id, list(latest))
    changes: list[AlertChange] = []
    rows: list[dict[str, object]] = []
    for fingerprint, alert in latest.items():
        row = stored.get(fingerprint)
        if row is None:
            changes.append(AlertChange(alert, "new" if alert.status == "firing" else "resolved"))
        elif row.status != alert.status:
            changes.append(
                AlertChange(alert, "resolved" if alert.status == "resolved" else "refired")
            )
        rows.append(
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
        )
    session.execute(_UPSERT[session.get_bind().dialect.name], rows)
    return changes


def _stored(session: Session, incident_id: int, fingerprints: list[str]) -> dict[str, Row[Any]]:
    rows = session.execute(_STORED, {"incident_id": incident_id, "fingerprints": fingerprints})
    return {row.fingerprint: row for row in rows}


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


_UPSERT = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


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
