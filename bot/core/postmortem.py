"""The post-mortem's context: everything a template needs, computed from the incident's stored
facts (pure; times stay timezone-aware UTC). Free text responders wrote is checked for blame
language and carries its findings, so a template can mark it for the review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core import blame
from bot.core.catalog import Catalog
from bot.core.metrics import DEFINITIONS, durations, humanize
from bot.core.milestones import Milestone, Stamp

FREE_TEXT_KINDS = ("note", "pin")  # timeline entries whose text a person wrote


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    text: str
    actor: str | None
    source: str
    review: tuple[str, ...] = ()  # blame phrases found in it


@dataclass(frozen=True)
class StepItem:
    playbook: str
    title: str
    state: str  # open | running | done | skipped | failed
    by: str | None  # None on a done step: the bot
    started: datetime  # when its playbook attached
    at: datetime | None
    skip_reason: str | None = None
    result: str | None = None
    review: tuple[str, ...] = ()

    @property
    def took(self) -> timedelta | None:
        return self.at - self.started if self.at else None


@dataclass(frozen=True)
class FollowupItem:
    id: int
    text: str
    owner: str | None
    due_on: date | None
    state: str
    issue_key: str | None = None  # the tracker's issue, once exported
    issue_url: str | None = None
    review: tuple[str, ...] = ()


@dataclass(frozen=True)
class MilestoneItem:
    label: str
    at: datetime | None
    source: str | None
    by: str | None


@dataclass(frozen=True)
class MetricItem:
    id: str  # mttd …
    name: str  # MTTD
    definition: str
    value: timedelta | None
    human: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Facts:
    """What the store knows about one incident, in plain values."""

    id: int
    title: str
    severity: str
    status: str
    service: str | None
    description: str
    summary: str | None
    private: bool
    drill: bool
    milestones: Mapping[Milestone, Stamp]
    timeline: Sequence[TimelineItem]
    steps: Sequence[StepItem]
    followups: Sequence[FollowupItem]
    roles: Mapping[str, str]  # role id → the person's chat user id
    alerts: Sequence[str] = ()  # "CheckoutHigh5xx (alertmanager, firing 10:02–10:40 UTC)"
    links: Sequence[Link] = ()


@dataclass(frozen=True)
class Postmortem:
    facts: Facts
    severity_name: str
    status_name: str
    impact_start: datetime | None
    impact_end: datetime | None  # resolved (else mitigated)
    impact_duration: timedelta | None
    detection: str
    milestones: tuple[MilestoneItem, ...]
    metrics: tuple[MetricItem, ...]
    timeline: tuple[TimelineItem, ...]
    steps: tuple[StepItem, ...]
    followups: tuple[FollowupItem, ...]
    participants: tuple[tuple[str, str], ...]  # (role name, chat user id)
    review: tuple[blame.Finding, ...]
    generated_at: datetime


def _flag(text: str | None) -> tuple[str, ...]:
    return tuple(blame.find(text or ""))


def build(facts: Facts, catalog: Catalog, now: datetime) -> Postmortem:
    stamps = facts.milestones
    instants = {m: s.at for m, s in stamps.items()}
    impact_start = instants.get(Milestone.IMPACT_STARTED)
    impact_end = instants.get(Milestone.RESOLVED) or instants.get(Milestone.MITIGATED)
    timeline = tuple(
        TimelineItem(e.at, e.kind, e.text, e.actor, e.source, _flag(e.text))
        if e.kind in FREE_TEXT_KINDS
        else e
        for e in sorted(facts.timeline, key=lambda e: e.at)
    )
    steps = tuple(
        StepItem(
            s.playbook,
            s.title,
            s.state,
            s.by,
            s.started,
            s.at,
            s.skip_reason,
            s.result,
            _flag(s.skip_reason),
        )
        for s in facts.steps
    )
    followups = tuple(
        FollowupItem(
            f.id, f.text, f.owner, f.due_on, f.state, f.issue_key, f.issue_url, _flag(f.text)
        )
        for f in facts.followups
    )
    texts: list[tuple[str, str]] = [
        ("description", facts.description),
        ("resolution summary", facts.summary or ""),
    ]
    texts += [(f"{e.kind} at {e.at:%H:%M} UTC", e.text) for e in timeline if e.review]
    texts += [(f"skipped step “{s.title}”", s.skip_reason or "") for s in steps if s.review]
    texts += [(f"follow-up #{f.id}", f.text) for f in followups if f.review]
    metrics = tuple(
        MetricItem(m.value, m.name, DEFINITIONS[m][2], value, humanize(value))
        for m, value in durations(instants).items()
    )
    role_names = {r.id: r.name for r in catalog.roles}
    severity = catalog.find_severity(facts.severity)
    status = catalog.find_status(facts.status)
    return Postmortem(
        facts=facts,
        severity_name=severity.name if severity else facts.severity,
        status_name=status.name if status else facts.status,
        impact_start=impact_start,
        impact_end=impact_end,
        impact_duration=impact_end - impact_start if impact_start and impact_end else None,
        detection=_detection(facts, stamps),
        milestones=tuple(
            MilestoneItem(
                m.label,
                stamps[m].at if m in stamps else None,
                stamps[m].source.value if m in stamps else None,
                stamps[m].by if m in stamps else None,
            )
            for m in Milestone
        ),
        metrics=metrics,
        timeline=timeline,
        steps=steps,
        followups=followups,
        participants=tuple(
            (role_names.get(role, role), user) for role, user in sorted(facts.roles.items())
        ),
        review=tuple(blame.lint(texts)),
        generated_at=now,
    )


def _detection(facts: Facts, stamps: Mapping[Milestone, Stamp]) -> str:
    detected = stamps.get(Milestone.DETECTED)
    if detected is None:
        return "Not recorded."
    if facts.alerts:
        return f"By an alert: {facts.alerts[0]}."
    how = {
        "alert": "by an alert",
        "pager": "through the pager",
        "chat": "declared in the chat",
        "manual": "set by hand",
        "api": "through the API",
        "implied": "implied by a later milestone",
        "import": "imported with the incident",
        "system": "by the bot",
    }.get(detected.source.value, detected.source.value)
    return f"{how[0].upper()}{how[1:]}."
