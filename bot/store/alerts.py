"""Queries on alert-born incidents and their alerts. Keyword-only `session=`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select as core_select, update
from sqlmodel import Session, col, select

from bot.core.alerts import Alert
from bot.core.text import no_nul
from bot.store.models import AlertRow, Incident


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
    *, session: Session, incident_id: int, source: str, alerts: Sequence[Alert], now: datetime
) -> list[AlertChange]:
    """Store each alert by fingerprint; report only what changed (a repeat changes nothing).

    Written for storms: new alerts go in as one multi-row INSERT, alerts whose state changed are
    updated one by one (they are few), and the rest only get `last_seen_at`, in one UPDATE."""
    table = AlertRow.__table__  # type: ignore[attr-defined]
    # Keys as the database keeps them (it stores U+FFFD for NUL): else a fingerprint with a NUL
    # is never found again, and its second delivery breaks the unique key instead of matching.
    alerts = [replace(a, fingerprint=no_nul(a.fingerprint)) for a in alerts]
    fingerprints = list(dict.fromkeys(a.fingerprint for a in alerts))
    stored = {
        row.fingerprint: row
        for row in session.execute(
            core_select(
                table.c.id,
                table.c.fingerprint,
                table.c.status,
                table.c.ends_at,
                table.c.starts_at,
                table.c.summary,
            ).where(table.c.incident_id == incident_id, table.c.fingerprint.in_(fingerprints))
        ).all()
    }
    changes: list[AlertChange] = []
    fresh: dict[str, dict[str, object]] = {}
    seen: list[str] = []
    for alert in alerts:
        row = stored.get(alert.fingerprint)
        if row is None:
            if alert.fingerprint not in fresh:
                changes.append(
                    AlertChange(alert, "new" if alert.status == "firing" else "resolved")
                )
            fresh[alert.fingerprint] = {
                "incident_id": incident_id,
                "fingerprint": alert.fingerprint,
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
            continue
        if (row.status, row.ends_at, row.summary) == (
            alert.status,
            alert.ends_at,
            alert.summary,
        ) and (alert.status != "firing" or row.starts_at == alert.starts_at):
            seen.append(alert.fingerprint)
            continue
        if row.status != alert.status:
            changes.append(
                AlertChange(alert, "resolved" if alert.status == "resolved" else "refired")
            )
        values: dict[str, object] = {
            "status": alert.status,
            "ends_at": alert.ends_at,
            "summary": alert.summary,
            "annotations": alert.annotations,
            "links": alert.links,
            "last_seen_at": now,
        }
        if alert.status == "firing":
            values["starts_at"] = alert.starts_at
        session.execute(update(table).where(table.c.id == row.id).values(**values))
    if fresh:
        session.execute(insert(table), list(fresh.values()))
    if seen:
        session.execute(
            update(table)
            .where(table.c.incident_id == incident_id, table.c.fingerprint.in_(seen))
            .values(last_seen_at=now)
        )
    return changes


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


_A = AlertRow.__table__.c  # type: ignore[attr-defined]
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
