"""The dashboard's data: filters, who may see which incidents, the incident lists, and the numbers
(MTTx tiles and weekly trends).

`dashboard_numbers` is the one function the SQL reports replace; everything else here only lists
incidents. An incident's place in time is when it was declared (imported history, which has no
declaration, is recorded at its detection), the same rule as `incidentbot report` and
/api/metrics, so the dashboard and the reports agree for any period."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from bot.core.catalog import Catalog, Phase
from bot.core.metrics import Metric, Summary, counts_in_metrics, durations, report, summarize
from bot.core.milestones import Milestone
from bot.store import incidents as q
from bot.store.models import Incident, MilestoneRow
from bot.web.auth import People, Viewer

PERIODS: dict[str, tuple[str, int | None]] = {
    "7d": ("last 7 days", 7),
    "30d": ("last 30 days", 30),
    "90d": ("last 90 days", 90),
    "180d": ("last 180 days", 180),
    "365d": ("last 12 months", 365),
    "all": ("all time", None),
}
DEFAULT_PERIOD = "90d"
MAX_WEEKS = 104
RECENT_LIMIT = 50
MAX_PRIVATE_CHECKS = 200
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class BadFilter(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    severity: str | None = None  # a catalog severity id
    service: str | None = None
    status: str | None = None  # a catalog status id, or "open"
    period: str = DEFAULT_PERIOD

    def since(self, now: datetime) -> datetime | None:
        days = PERIODS[self.period][1]
        return None if days is None else now - timedelta(days=days)

    @property
    def period_label(self) -> str:
        return PERIODS[self.period][0]

    def as_query(self) -> dict[str, str]:
        values = {
            "severity": self.severity,
            "service": self.service,
            "status": self.status,
            "period": self.period,
        }
        return {k: v for k, v in values.items() if v}


def parse_filters(params: Mapping[str, str], catalog: Catalog) -> Filters:
    """The dashboard's query parameters; a value that names nothing is refused (BadFilter)."""
    severity = (params.get("severity") or "").strip() or None
    if severity is not None:
        found = catalog.find_severity(severity)
        if found is None:
            raise BadFilter(f"unknown severity {severity!r}")
        severity = found.id
    status = (params.get("status") or "").strip().lower() or None
    if status is not None and status != "open":
        found_status = catalog.find_status(status)
        if found_status is None:
            raise BadFilter(f"unknown status {status!r}")
        status = found_status.id
    service = (params.get("service") or "").strip() or None
    if service is not None and not _SERVICE.match(service):
        raise BadFilter(f"not a service name: {service!r}")
    period = (params.get("period") or DEFAULT_PERIOD).strip()
    if period not in PERIODS:
        raise BadFilter(f"unknown period {period!r} (one of {', '.join(PERIODS)})")
    return Filters(severity, service, status, period)


# -- visibility ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The incidents a viewer may see: every public one, and the private ones listed (or all)."""

    all_private: bool
    private_ids: frozenset[int] = frozenset()

    def allows(self, incident: Incident) -> bool:
        return not incident.private or self.all_private or int(incident.id or 0) in self.private_ids


def scope_for(*, session: Session, viewer: Viewer, people: People) -> Scope:
    """Admins see everything; a Slack user the private incidents whose channel they are in,
    among the latest MAX_PRIVATE_CHECKS (each is a Slack call, cached for a minute; older
    private incidents stay hidden from them, which errs on the safe side)."""
    if viewer.admin:
        return Scope(True)
    if viewer.user_id is None:
        return Scope(False)
    rows = session.exec(
        select(Incident.id, Incident.channel_id)
        .where(col(Incident.private).is_(True), col(Incident.channel_id).is_not(None))
        .order_by(col(Incident.id).desc())
        .limit(MAX_PRIVATE_CHECKS)
    ).all()
    user = viewer.user_id
    return Scope(
        False,
        frozenset(int(i or 0) for i, channel in rows if people.is_member(user, channel)),
    )


def visible(query: Any, scope: Scope) -> Any:
    if scope.all_private:
        return query
    return query.where(
        or_(col(Incident.private).is_(False), col(Incident.id).in_(sorted(scope.private_ids)))
    )


# -- time ------------------------------------------------------------------------------------------
def _milestone_at(kind: Milestone) -> Any:
    return (
        select(MilestoneRow.at)
        .where(MilestoneRow.incident_id == Incident.id, MilestoneRow.kind == kind.value)
        .correlate(Incident)
        .scalar_subquery()
    )


def started_column() -> Any:
    """SQL for an incident's place in time: its declaration, else its record (see above)."""
    return func.coalesce(_milestone_at(Milestone.DECLARED), col(Incident.created_at)).label(
        "started"
    )


def started_at(incident: Incident, instants: Mapping[Milestone, datetime]) -> datetime:
    return instants.get(Milestone.DECLARED) or incident.created_at


def week_start(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def open_statuses(catalog: Catalog) -> list[str]:
    return [s.id for s in catalog.statuses if s.phase in (Phase.ACTIVE, Phase.MITIGATED)]


def filtered(filters: Filters, scope: Scope, catalog: Catalog, *columns: Any) -> Any:
    """SELECT of incidents matching the severity, service and status filters that the viewer
    may see (no period: callers add theirs)."""
    query = select(Incident, *columns)
    if filters.severity:
        query = query.where(Incident.severity == filters.severity)
    if filters.service:
        query = query.where(Incident.service == filters.service)
    if filters.status == "open":
        query = query.where(col(Incident.status).in_(open_statuses(catalog)))
    elif filters.status:
        query = query.where(Incident.status == filters.status)
    return visible(query, scope)


def milestones_of(
    *, session: Session, incident_ids: Sequence[int]
) -> dict[int, dict[Milestone, datetime]]:
    found: dict[int, dict[Milestone, datetime]] = {i: {} for i in incident_ids}
    for start in range(0, len(incident_ids), 1000):
        chunk = list(incident_ids[start : start + 1000])
        for row in session.exec(
            select(MilestoneRow).where(col(MilestoneRow.incident_id).in_(chunk))
        ).all():
            found[row.incident_id][Milestone(row.kind)] = row.at
    return found


# -- the numbers (replaced by the SQL reports) -----------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: date
    mttr: Summary
    counts: Mapping[str, int]  # severity id → incidents that started that week


@dataclass(frozen=True)
class DashboardNumbers:
    tiles: Mapping[Metric, Summary]
    weeks: Sequence[Week]
    counted: int  # incidents in the figures
    left_out: int  # drills, declined and merged incidents matching the filters


def dashboard_numbers(
    session: Session, filters: Filters, scope: Scope, *, catalog: Catalog, now: datetime
) -> DashboardNumbers:
    """MTTx tiles and weekly trends over the incidents that match `filters`, that `scope` lets
    the viewer see and that count in the metrics (bot.core.metrics.counts_in_metrics), placed in
    time by `started_at`. The pure-Python reference; bot.store.reports computes the same in SQL."""
    since = filters.since(now)
    started = started_column()
    query = filtered(filters, scope, catalog, started)
    if since is not None:
        query = query.where(started >= since)
    rows = session.exec(query).all()
    counted = [
        (inc, at)
        for inc, at in rows
        if counts_in_metrics(drill=inc.drill, disposition=inc.disposition)
    ]
    instants = milestones_of(session=session, incident_ids=[int(i.id or 0) for i, _ in counted])
    tiles = report(instants[int(i.id or 0)] for i, _ in counted)

    first = since or min((at for _, at in counted), default=now)
    weeks_from = max(week_start(first), week_start(now) - timedelta(weeks=MAX_WEEKS - 1))
    mttr: dict[date, list[float]] = {}
    counts: dict[date, dict[str, int]] = {}
    for inc, at in counted:
        week = week_start(at)
        per = counts.setdefault(week, {})
        per[inc.severity] = per.get(inc.severity, 0) + 1
        took = durations(instants[int(inc.id or 0)])[Metric.MTTR]
        if took is not None:
            mttr.setdefault(week, []).append(took.total_seconds())
    weeks = []
    week = weeks_from
    while week <= week_start(now):
        weeks.append(Week(week, summarize(mttr.get(week, [])), counts.get(week, {})))
        week += timedelta(weeks=1)
    return DashboardNumbers(tiles, weeks, len(counted), len(rows) - len(counted))


# -- the lists -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    incident: Incident
    started: datetime
    commander: str | None
    instants: Mapping[Milestone, datetime]

    @property
    def mttr(self) -> timedelta | None:
        return durations(self.instants)[Metric.MTTR]

    def age(self, now: datetime) -> timedelta:
        return now - self.instants.get(Milestone.DECLARED, self.incident.created_at)


def _rows(session: Session, incidents: Sequence[Incident]) -> list[Row]:
    ids = [int(i.id or 0) for i in incidents]
    instants = milestones_of(session=session, incident_ids=ids)
    roles = q.roles_by_incident(session=session, incident_ids=ids) if ids else {}
    return [
        Row(
            i,
            started_at(i, instants[int(i.id or 0)]),
            roles.get(int(i.id or 0), {}).get("commander"),
            instants[int(i.id or 0)],
        )
        for i in incidents
    ]


def open_incidents(
    session: Session, filters: Filters, scope: Scope, *, catalog: Catalog
) -> list[Row]:
    """Every open incident matching the filters, whatever the period: most severe, then oldest."""
    query = filtered(filters, scope, catalog).where(
        col(Incident.status).in_(open_statuses(catalog))
    )
    incidents = [r for r in session.exec(query.limit(500)).all()]
    rank = {s.id: i for i, s in enumerate(catalog.severities)}
    rows = _rows(session, incidents)
    return sorted(rows, key=lambda r: (rank.get(r.incident.severity, 99), r.started))


def recent_incidents(
    session: Session, filters: Filters, scope: Scope, *, catalog: Catalog, now: datetime
) -> list[Row]:
    """Incidents no longer open that started in the period, newest first."""
    started = started_column()
    query = filtered(filters, scope, catalog, started).where(
        col(Incident.status).not_in(open_statuses(catalog))
    )
    since = filters.since(now)
    if since is not None:
        query = query.where(started >= since)
    query = query.order_by(started.desc(), col(Incident.id).desc()).limit(RECENT_LIMIT)
    incidents = [inc for inc, _at in session.exec(query).all()]
    return _rows(session, incidents)


def known_services(session: Session, scope: Scope, catalog: Catalog) -> list[str]:
    """For the filter: the catalog's services and those on incidents the viewer may see."""
    query = visible(select(Incident.service).where(col(Incident.service).is_not(None)), scope)
    found = {str(s) for s in session.exec(query.distinct()).all() if s}
    return sorted(found | {s.id for s in catalog.services}, key=str.lower)
