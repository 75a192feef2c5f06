"""The review page's data: one incident's header, durations, visual timeline, follow-ups and the
generated agenda (bot.core.agenda), read from the store in one session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup

from bot.adapters.source_names import pager_name
from bot.core import agenda
from bot.core.catalog import Catalog, Phase
from bot.core.metrics import DEFINITIONS, durations, humanize
from bot.core.milestones import ORDER, Milestone, Source, Stamp
from bot.core.people import people_in, render_people
from bot.store import dashboard_reads, incident_reads
from bot.store.db import Database
from bot.store.read_models import IncidentSummary, PageItem, Scope
from bot.web.auth import People
from bot.web.timeline_chart import Mark, MilestoneLine, timeline_chart

TEAM_SAMPLE = 1000  # the team's medians are over its latest counted incidents
MAX_STEP_LANES = 24

LANES_BY_KIND = {
    "acknowledged": "Acknowledgements",
    "declared": "Status and severity",
    "status": "Status and severity",
    "severity": "Status and severity",
    "resolved": "Status and severity",
    "reopened": "Status and severity",
    "closed": "Status and severity",
    "role": "Roles",
    "note": "Notes",
    "followup": "Notes",
    "pin": "Pinned messages",
}
MARK_KIND = {
    "acknowledged": "ack",
    "role": "role",
    "note": "note",
    "followup": "note",
    "pin": "pin",
}
FIXED_LANES = (
    "Alerts",
    "Pages",
    "Acknowledgements",
    "Status and severity",
    "Roles",
    "Notes",
    "Pinned messages",
    "Bot reminders",
)


@dataclass(frozen=True)
class RoleLine:
    name: str
    user: str | None
    person: str


@dataclass(frozen=True)
class MilestoneView:
    label: str
    at: datetime | None
    source: str | None
    by: str | None


@dataclass(frozen=True)
class MetricView:
    name: str
    definition: str
    value: timedelta | None

    @property
    def human(self) -> str:
        return humanize(self.value)


@dataclass(frozen=True)
class EntryView:
    at: datetime
    kind: str
    text: str
    who: str
    source: str


@dataclass(frozen=True)
class StepView:
    playbook: str
    title: str
    state: str
    by: str
    at: datetime | None
    took: timedelta | None
    skip_reason: str | None
    result: str | None


@dataclass(frozen=True)
class PageView:
    service: str | None
    kind: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged: bool
    url: str | None
    pager: str  # the pager's name (Opsgenie, PagerDuty …)


@dataclass(frozen=True)
class FollowupView:
    text: str
    owner: str
    due_on: date | None
    state: str
    issue_key: str | None
    issue_url: str | None


@dataclass(frozen=True)
class Review:
    incident: IncidentSummary
    severity: str  # "SEV2 · Major"
    severity_rank: int
    status: str
    is_open: bool
    roles: Sequence[RoleLine]
    milestones: Sequence[MilestoneView]
    metrics: Sequence[MetricView]
    entries: Sequence[EntryView]
    steps: Sequence[StepView]
    pages: Sequence[PageView]
    followups: Sequence[FollowupView]
    chart: Markup
    agenda: agenda.Agenda


def _page_ack(page: PageItem, ack: datetime | None) -> datetime | None:
    """When a page was acknowledged, as far as the store knows. A page PagerDuty reports
    acknowledged is; a resolved page is when the incident was acknowledged after the page went
    out (an acknowledgement reaches every page then open). A page sent after the incident's
    acknowledgement and resolved without PagerDuty saying `acknowledged` in between counts as
    never acknowledged: the page keeps only its last status. Pages stored since migration 0008
    know their acknowledgement exactly (`acknowledged_at`)."""
    if page.acknowledged_at is not None:
        return page.acknowledged_at
    if page.status == "acknowledged":
        return page.updated_at
    if page.status == "resolved" and ack is not None and ack >= page.created_at:
        return ack
    return None


def load_review(
    db: Database,
    incident_id: int,
    *,
    catalog: Catalog,
    people: People,
    scope: Scope,
    now: datetime,
    team_sample: int = TEAM_SAMPLE,
) -> Review | None:
    """The review of one incident (None if there is none), read in one session. The team's
    medians are over its latest `team_sample` counted incidents the viewer may see, leaving out
    the one under review."""
    with db.read() as session:
        detail = incident_reads.detail(session=session, incident_id=incident_id)
        if detail is None:
            return None
        steps = incident_reads.steps(session=session, incident_id=incident_id)
        followups = incident_reads.followups(session=session, incident_id=incident_id)
        others = dashboard_reads.latest_counted_ids(
            session=session, scope=scope, exclude_id=incident_id, limit=team_sample
        )
        team = dashboard_reads.milestones_of(session=session, incident_ids=others)
    incident, iid = detail.incident, incident_id
    stamps, rows, holders = detail.milestones, detail.timeline, detail.roles
    pages, alerts = detail.pages, detail.alerts
    instants = {m: s.at for m, s in stamps.items()}
    names = people.names(
        [*holders.values(), *(r.actor for r in rows), *(s.by for s in steps)]
        + [s.by for s in stamps.values()]
        + [f.owner for f in followups]
        + [
            u
            for text in [*(r.text for r in rows), *(s.result or "" for s in steps)]
            for u in people_in(text)
        ]
    )

    def who(user: str | None) -> str:
        return names.get(user, user) if user else "—"

    def told(text: str) -> str:
        """A sentence of the bot's (a step's result, a timeline entry): people by name."""
        return render_people(text, lambda user: f"@{who(user)}")

    severity = catalog.find_severity(incident.severity)
    status = catalog.find_status(incident.status)
    is_open = status is None or status.phase in (Phase.ACTIVE, Phase.MITIGATED)
    ack = instants.get(Milestone.ACKNOWLEDGED)
    page_views = [
        PageView(
            p.service,
            p.kind,
            p.status,
            p.created_at,
            _page_ack(p, ack),
            _page_ack(p, ack) is not None,
            p.html_url,
            pager_name(p.pager),
        )
        for p in pages
    ]

    def stamped_by(stamp: Stamp) -> str:
        """A milestone's source; one taken from a pager names the pager whose page it was (the
        page acknowledged at that instant, else the one pager the incident paged)."""
        source = stamp.source.value
        if source != Source.PAGER.value:
            return source
        kinds = {p.pager for p in pages if p.acknowledged_at == stamp.at} or {
            p.pager for p in pages
        }
        return f"{source}:{kinds.pop()}" if len(kinds) == 1 else source

    step_views = [
        StepView(
            s.playbook,
            s.title,
            s.state,
            who(s.by) if s.by else ("the bot" if s.state == "done" else "—"),
            s.at,
            s.at - s.attached_at if s.at else None,
            s.skip_reason,
            told(s.result) if s.result else s.result,
        )
        for s in steps
    ]
    medians = agenda.team_medians(team.values())
    built = agenda.build(
        milestones=instants,
        entries=[agenda.Activity(r.at, r.kind, told(r.text), r.source, r.actor) for r in rows],
        steps=[
            agenda.StepFact(
                s.playbook,
                s.title,
                s.state,
                s.skip_reason,
                s.by,
                s.at,
                told(s.result or "") or None,
            )
            for s in steps
        ],
        pages=[
            agenda.PageFact(p.service, p.status, p.created_at, p.acknowledged, p.url)
            for p in page_views
        ],
        medians=medians,
        now=now,
    )

    # the visual timeline
    known = [*instants.values(), *(r.at for r in rows)]
    horizon = now if is_open else max(known, default=now)
    marks: list[Mark] = []
    for a in alerts:
        marks.append(
            Mark(
                "Alerts",
                "alert",
                a.starts_at,
                a.ends_at or horizon,
                f"Alert {a.name}: {a.summary}",
                open_ended=a.ends_at is None,
            )
        )
    for p in page_views:
        target = p.service or "default service"
        if p.acknowledged_at is not None:
            marks.append(
                Mark(
                    "Pages",
                    "page",
                    p.created_at,
                    p.acknowledged_at,
                    f"Page to {target}, acknowledged",
                )
            )
        else:
            marks.append(
                Mark(
                    "Pages",
                    "page-unacked",
                    p.created_at,
                    horizon,
                    f"Page to {target}: {p.status}, never acknowledged",
                    open_ended=True,
                )
            )
    for r in rows:
        lane = LANES_BY_KIND.get(r.kind)
        if lane is None:
            continue
        if r.source == "system":
            lane = "Bot reminders" if r.kind == "note" else lane
        text = f"{told(r.text)} ({who(r.actor)})" if r.actor else told(r.text)
        marks.append(Mark(lane, MARK_KIND.get(r.kind, "status"), r.at, None, text))
    step_lanes: list[str] = []
    for s in steps[:MAX_STEP_LANES]:
        lane = f"Step: {s.title}"
        step_lanes.append(lane)
        if s.at is not None:
            verb = {"done": "done", "skipped": "skipped", "failed": "failed"}.get(s.state, s.state)
            reason = f": {s.skip_reason}" if s.skip_reason else ""
            kind = f"step-{s.state}" if s.state in ("done", "skipped", "failed") else "step-open"
            marks.append(Mark(lane, kind, s.attached_at, s.at, f"{s.title} — {verb}{reason}"))
        else:
            marks.append(
                Mark(
                    lane,
                    "step-open",
                    s.attached_at,
                    max(horizon, s.attached_at),
                    f"{s.title} — {s.state}",
                    open_ended=True,
                )
            )
    chart = timeline_chart(
        title=f"Timeline of incident #{iid}",
        milestones=[MilestoneLine(m.label, instants[m]) for m in ORDER if m in instants],
        marks=marks,
        lanes=[*FIXED_LANES, *step_lanes],
    )

    return Review(
        incident=incident,
        severity=f"{severity.id} · {severity.name}" if severity else incident.severity,
        severity_rank=catalog.severity_rank(severity.id) if severity else len(catalog.severities),
        status=status.name if status else incident.status,
        is_open=is_open,
        roles=[RoleLine(r.name, holders.get(r.id), who(holders.get(r.id))) for r in catalog.roles],
        milestones=[
            MilestoneView(
                m.label,
                stamps[m].at if m in stamps else None,
                stamped_by(stamps[m]) if m in stamps else None,
                who(stamps[m].by) if m in stamps else None,
            )
            for m in ORDER
        ],
        metrics=[
            MetricView(metric.value.upper(), DEFINITIONS[metric][2], value)
            for metric, value in durations(instants).items()
        ],
        entries=[EntryView(r.at, r.kind, told(r.text), who(r.actor), r.source) for r in rows],
        steps=step_views,
        pages=page_views,
        followups=[
            FollowupView(
                f.text,
                who(f.owner or (holders.get(f.owner_role) if f.owner_role else None)),
                f.due_on,
                f.state,
                f.tracker_key,
                f.tracker_url,
            )
            for f in followups
        ],
        chart=chart,
        agenda=built,
    )
