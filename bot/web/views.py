"""The dashboard's data: filters, who may see which incidents, the incident lists, and the numbers
(MTTx tiles and weekly trends).

`dashboard_numbers` is the one function the SQL reports replace; everything else here only lists
incidents. An incident's place in time is when it was declared (imported history, which has no
declaration, is recorded at its detection), the same rule as `incidentbot report` and
/api/metrics, so the dashboard and the reports agree for any period."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.core.catalog import Catalog, Phase
from bot.core.metrics import Metric, Summary, counts_in_metrics, durations, report, summarize
from bot.core.milestones import Milestone
from bot.store import dashboard_reads as reads
from bot.store.db import Database
from bot.store.read_models import IncidentMatch, IncidentSummary, Scope
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
OPEN_LIMIT = 500
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
def scope_for(*, candidates: Sequence[tuple[int, str]], viewer: Viewer, people: People) -> Scope:
    """Admins see everything; a Slack user the private incidents whose channel they are in,
    among `candidates`: the latest MAX_PRIVATE_CHECKS (bot.store.dashboard_reads
    .private_candidates; each is a Slack call, cached for a minute; older private incidents stay
    hidden from them, which errs on the safe side)."""
    if viewer.admin:
        return Scope(True)
    if viewer.user_id is None:
        return Scope(False)
    user = viewer.user_id
    return Scope(
        False, frozenset(i for i, channel in candidates if people.is_member(user, channel))
    )


def viewer_scope(db: Database, viewer: Viewer, people: People) -> Scope:
    """The viewer's scope, asking the chat about membership after the database read is over."""
    if viewer.admin or viewer.user_id is None:
        return scope_for(candidates=(), viewer=viewer, people=people)
    with db.read() as session:
        candidates = reads.private_candidates(session=session, limit=MAX_PRIVATE_CHECKS)
    return scope_for(candidates=candidates, viewer=viewer, people=people)


# -- time ------------------------------------------------------------------------------------------
def started_at(incident: IncidentSummary, instants: Mapping[Milestone, datetime]) -> datetime:
    return instants.get(Milestone.DECLARED) or incident.created_at


def week_start(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def open_statuses(catalog: Catalog) -> list[str]:
    return [s.id for s in catalog.statuses if s.phase in (Phase.ACTIVE, Phase.MITIGATED)]


def match_of(filters: Filters, catalog: Catalog) -> IncidentMatch:
    """The store's match for the severity, service and status filters (no period)."""
    if filters.status == "open":
        statuses: list[str] | None = open_statuses(catalog)
    else:
        statuses = [filters.status] if filters.status else None
    return IncidentMatch(filters.severity, filters.service, statuses)


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
    started: Sequence[tuple[IncidentSummary, datetime]],
    instants: Mapping[int, Mapping[Milestone, datetime]],
    *,
    since: datetime | None,
    now: datetime,
) -> DashboardNumbers:
    """MTTx tiles and weekly trends over `started` (the incidents that match the filters, that
    the viewer may see, with their place in time) that count in the metrics
    (bot.core.metrics.counts_in_metrics); `instants` holds at least those incidents' milestones.
    The pure-Python reference; bot.store.reports computes the same in SQL."""
    counted = [
        (i, at) for i, at in started if counts_in_metrics(drill=i.drill, disposition=i.disposition)
    ]
    tiles = report(instants[i.id] for i, _ in counted)
    first = since or min((at for _, at in counted), default=now)
    weeks_from = max(week_start(first), week_start(now) - timedelta(weeks=MAX_WEEKS - 1))
    mttr: dict[date, list[float]] = {}
    counts: dict[date, dict[str, int]] = {}
    for inc, at in counted:
        week = week_start(at)
        per = counts.setdefault(week, {})
        per[inc.severity] = per.get(inc.severity, 0) + 1
        took = durations(instants[inc.id])[Metric.MTTR]
        if took is not None:
            mttr.setdefault(week, []).append(took.total_seconds())
    weeks = []
    week = weeks_from
    while week <= week_start(now):
        weeks.append(Week(week, summarize(mttr.get(week, [])), counts.get(week, {})))
        week += timedelta(weeks=1)
    return DashboardNumbers(tiles, weeks, len(counted), len(started) - len(counted))


# -- the lists -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    incident: IncidentSummary
    started: datetime
    commander: str | None
    instants: Mapping[Milestone, datetime]

    @property
    def mttr(self) -> timedelta | None:
        return durations(self.instants)[Metric.MTTR]

    def age(self, now: datetime) -> timedelta:
        return now - self.instants.get(Milestone.DECLARED, self.incident.created_at)


@dataclass(frozen=True)
class Dashboard:
    numbers: DashboardNumbers
    opened: Sequence[Row]  # every open incident matching, whatever the period: most severe first
    recent: Sequence[Row]  # incidents no longer open that started in the period, newest first
    services: Sequence[str]  # for the filter: the catalog's and those on visible incidents


def load_dashboard(
    db: Database, filters: Filters, scope: Scope, *, catalog: Catalog, now: datetime
) -> Dashboard:
    """The dashboard's figures and lists, read in one session."""
    match = match_of(filters, catalog)
    since = filters.since(now)
    opened_ids = open_statuses(catalog)
    open_match = replace(
        match,
        statuses=opened_ids
        if match.statuses is None
        else [s for s in match.statuses if s in opened_ids],
    )
    with db.read() as session:
        started = reads.started_since(session=session, match=match, scope=scope, since=since)
        opened = reads.matching(session=session, match=open_match, scope=scope, limit=OPEN_LIMIT)
        recent = reads.latest_started(
            session=session,
            match=match,
            scope=scope,
            excluded_statuses=opened_ids,
            since=since,
            limit=RECENT_LIMIT,
        )
        counted = [
            i.id for i, _ in started if counts_in_metrics(drill=i.drill, disposition=i.disposition)
        ]
        ids = list(dict.fromkeys([*counted, *(i.id for i in [*opened, *recent])]))
        instants = reads.milestones_of(session=session, incident_ids=ids)
        listed = [i.id for i in [*opened, *recent]]
        roles = reads.roles_by_incident(session=session, incident_ids=listed) if listed else {}
        services = reads.services(session=session, scope=scope)

    def rows(incidents: Sequence[IncidentSummary]) -> list[Row]:
        return [
            Row(
                i,
                started_at(i, instants[i.id]),
                roles.get(i.id, {}).get("commander"),
                instants[i.id],
            )
            for i in incidents
        ]

    rank = {s.id: n for n, s in enumerate(catalog.severities)}
    return Dashboard(
        numbers=dashboard_numbers(started, instants, since=since, now=now),
        opened=sorted(rows(opened), key=lambda r: (rank.get(r.incident.severity, 99), r.started)),
        recent=rows(recent),
        services=sorted(services | {s.id for s in catalog.services}, key=str.lower),
    )
