"""Is the database there (/healthz), and the figures /metrics reads from it at scrape time
(cheap, indexed queries): open incidents by severity, the outbox backlog, retries and give-ups by
lane, and the armed timers.

Unless `include_private`, private incidents and everything of theirs (their effects in the
outbox, their timers) are left out, so nothing moves when one opens. Keyword-only `session=`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, text
from sqlmodel import Session, col, select

from bot.store.models import Incident, OutboxRow, TimerRow
from bot.store.read_models import Gauges


def ping(*, session: Session) -> None:
    """Raises unless the database answers."""
    session.execute(text("SELECT 1"))


def _public(query: Any, incident_id: Any, include_private: bool) -> Any:
    """`query` without the rows of private incidents (unless they may be counted)."""
    if include_private:
        return query
    return query.outerjoin(Incident, col(Incident.id) == incident_id).where(
        or_(col(Incident.private).is_(False), incident_id.is_(None))
    )


def gauges(*, session: Session, open_statuses: Sequence[str], include_private: bool) -> Gauges:
    opened = select(Incident.severity, func.count()).where(
        col(Incident.status).in_(list(open_statuses)), col(Incident.drill).is_(False)
    )
    if not include_private:
        opened = opened.where(col(Incident.private).is_(False))
    open_by_severity = {
        str(severity): int(count)
        for severity, count in session.execute(opened.group_by(Incident.severity)).all()
    }
    pending: Counter[str] = Counter()
    retrying: Counter[str] = Counter()
    waiting = select(
        OutboxRow.lane,
        func.count(),
        func.sum(case((col(OutboxRow.attempts) > 0, 1), else_=0)),
    ).where(col(OutboxRow.done_at).is_(None))
    waiting = _public(waiting, col(OutboxRow.incident_id), include_private)
    for lane, count, tried in session.execute(waiting.group_by(OutboxRow.lane)).all():
        pending[str(lane)] += int(count)
        retrying[str(lane)] += int(tried or 0)
    abandoned = select(OutboxRow.lane, func.count()).where(col(OutboxRow.failed).is_(True))
    abandoned = _public(abandoned, col(OutboxRow.incident_id), include_private)
    given_up = {
        str(lane): int(count)
        for lane, count in session.execute(abandoned.group_by(OutboxRow.lane)).all()
    }
    armed_timers = select(func.min(TimerRow.due_at), func.count()).where(
        col(TimerRow.fired_at).is_(None)
    )
    armed_timers = _public(armed_timers, col(TimerRow.incident_id), include_private)
    oldest, armed = session.execute(armed_timers).one()
    return Gauges(
        open_by_severity=open_by_severity,
        pending_by_lane=dict(pending),
        retrying_by_lane=dict(retrying),
        given_up_by_lane=given_up,
        oldest_due_timer=oldest,
        armed_timers=int(armed),
    )
