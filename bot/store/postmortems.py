"""What the post-mortem needs beyond the incident's read models (bot.store.incident_reads):
its alerts as spans, and the tracker issue it was exported to. Keyword-only `session=`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.store import alerts as alert_store, incidents as q


@dataclass(frozen=True)
class AlertSpan:
    name: str
    source: str  # the alert source that sent it
    starts_at: datetime
    ends_at: datetime | None  # None: still firing


def alert_spans(*, session: Session, incident_id: int) -> list[AlertSpan]:
    """By start time."""
    return [
        AlertSpan(a.name, a.source, a.starts_at, a.ends_at)
        for a in alert_store.alerts_of(session=session, incident_id=incident_id)
    ]


def record_postmortem_issue(*, session: Session, incident_id: int, key: str, url: str) -> None:
    """The tracker issue the post-mortem was exported to (the incident locked first)."""
    row = q.get_incident(session=session, incident_id=incident_id, for_update=True)
    assert row is not None
    row.postmortem_key, row.postmortem_url = key, url
    session.add(row)
