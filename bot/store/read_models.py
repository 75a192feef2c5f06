"""Plain read models: what the store hands to the web (and, in time, to the adapters) instead of
ORM rows. Frozen values, detached from any session, carrying only what readers show; the tables
(bot.store.models) stay the store's own. Built by bot.store.incident_reads,
bot.store.dashboard_reads and bot.store.gauges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from bot.core.milestones import Milestone, Stamp


@dataclass(frozen=True)
class IncidentSummary:
    """An incident's own facts (no milestones, roles or timeline: see IncidentDetail)."""

    id: int
    title: str
    description: str
    severity: str
    status: str
    private: bool
    drill: bool
    summary: str | None
    source: str
    created_by: str | None
    conversation_id: str | None
    conversation_name: str | None
    chat_surface: str | None  # the surface whose ids those are (the chat's `kind`)
    service: str | None
    disposition: str | None  # "declined" | "merged": left out of the MTTx figures
    postmortem_key: str | None
    postmortem_url: str | None
    created_at: datetime
    updated_at: datetime
    # a playbook's cadence for status updates, overriding the severity's (None: the severity's)
    status_update_minutes: int | None = None


@dataclass(frozen=True)
class TimelineItem:
    id: int
    at: datetime
    kind: str
    text: str
    actor: str | None
    source: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AlertItem:
    fingerprint: str
    name: str
    summary: str
    status: str  # firing | resolved
    labels: Mapping[str, Any]
    links: Mapping[str, Any]
    starts_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True)
class PageItem:
    kind: str  # event | incident | responders
    service: str | None
    status: str  # pending | triggered | acknowledged | resolved | failed
    pager_incident_id: str | None  # the incident the pager opened for it
    html_url: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None  # first acknowledged (known since migration 0008)
    pager: str  # which pager it went to (its kind)


@dataclass(frozen=True)
class StepItem:
    """A playbook step with the run it belongs to."""

    playbook: str
    attached_at: datetime  # when its playbook was attached
    title: str
    state: str  # open | running | done | skipped | failed
    by: str | None  # None on a done step: the bot did it
    at: datetime | None
    skip_reason: str | None
    result: str | None


@dataclass(frozen=True)
class FollowupItem:
    id: int
    text: str
    owner: str | None
    owner_role: str | None  # else whoever holds this role
    due_on: date | None
    state: str  # open | done
    tracker_key: str | None  # the issue it was exported to
    tracker_url: str | None
    source: str  # where it was recorded: a command, a message shortcut, a playbook step
    permalink: str | None  # the message it was made from (shortcut)


@dataclass(frozen=True)
class IncidentDetail:
    incident: IncidentSummary
    milestones: Mapping[Milestone, Stamp]
    roles: Mapping[str, str]  # role id → user id
    alerts: Sequence[AlertItem]
    pages: Sequence[PageItem]
    timeline: Sequence[TimelineItem]  # oldest first


@dataclass(frozen=True)
class Scope:
    """The incidents a viewer may see: every public one, and the private ones listed (or all)."""

    all_private: bool
    private_ids: frozenset[int] = frozenset()

    def allows(self, incident: IncidentSummary) -> bool:
        return not incident.private or self.all_private or incident.id in self.private_ids


@dataclass(frozen=True)
class IncidentMatch:
    """Which incidents a list or figure is over: `None` matches any."""

    severity: str | None = None
    service: str | None = None
    statuses: Sequence[str] | None = None


@dataclass(frozen=True)
class Gauges:
    """The store's figures /metrics shows, read at scrape time."""

    open_by_severity: Mapping[str, int]  # open incidents, drills left out
    pending_by_lane: Mapping[str, int] = field(default_factory=dict)  # outbox rows not yet done
    retrying_by_lane: Mapping[str, int] = field(default_factory=dict)  # … tried at least once
    given_up_by_lane: Mapping[str, int] = field(default_factory=dict)
    oldest_due_timer: datetime | None = None  # of the armed, unfired timers
    armed_timers: int = 0


class QueuedEffect(Protocol):
    """What an effect's handler reads of the outbox row the runner hands it."""

    @property
    def id(self) -> int | None: ...
    @property
    def incident_id(self) -> int | None: ...
    @property
    def lane(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...  # this one included
