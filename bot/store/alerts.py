"""Queries on alert-born incidents and their alerts. Keyword-only `session=`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.alerts import Alert
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
    """Store each alert by fingerprint; report only what changed (a repeat changes nothing)."""
    fingerprints = [a.fingerprint for a in alerts]
    existing = {
        row.fingerprint: row
        for row in session.exec(
            select(AlertRow).where(
                AlertRow.incident_id == incident_id, col(AlertRow.fingerprint).in_(fingerprints)
            )
        ).all()
    }
    changes = []
    for alert in alerts:
        row = existing.get(alert.fingerprint)
        if row is None:
            row = AlertRow(
                incident_id=incident_id,
                fingerprint=alert.fingerprint,
                source=source,
                status=alert.status,
                name=alert.name[:200],
                summary=alert.summary,
                labels=alert.labels,
                annotations=alert.annotations,
                links=alert.links,
                starts_at=alert.starts_at,
                ends_at=alert.ends_at,
                first_seen_at=now,
                last_seen_at=now,
            )
            existing[alert.fingerprint] = row
            changes.append(AlertChange(alert, "new" if alert.status == "firing" else "resolved"))
        else:
            if row.status != alert.status:
                changes.append(
                    AlertChange(alert, "resolved" if alert.status == "resolved" else "refired")
                )
            row.status, row.ends_at, row.last_seen_at = alert.status, alert.ends_at, now
            row.annotations, row.links, row.summary = alert.annotations, alert.links, alert.summary
            if alert.status == "firing" and alert.starts_at != row.starts_at:
                row.starts_at = alert.starts_at
        session.add(row)
    session.flush()
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


def last_end(*, session: Session, incident_id: int) -> datetime | None:
    query = select(func.max(AlertRow.ends_at)).where(AlertRow.incident_id == incident_id)
    return session.exec(query).one()
