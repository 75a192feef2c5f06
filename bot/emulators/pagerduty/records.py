"""Records of the emulated PagerDuty account (users, services, incidents …), ids and clocks.

Plain data; the JSON shapes PagerDuty returns for them live in ``shapes.py``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..common.records import Counters

JSON = dict[str, Any]
AgentKind = Literal["user", "service"]
Agent = tuple[AgentKind, str] | None  # who did it: a user, a service (events), or PagerDuty
OPEN = ("triggered", "acknowledged")
_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford, as in ULIDs


def iso(ts: float) -> str:
    """REST timestamps: ``2015-10-06T21:30:42Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: float) -> str:
    """Webhook timestamps: ``2020-10-02T18:45:22.169Z``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def routing_key_for(seed: str) -> str:
    """A deterministic 32-character hex Events API v2 integration key."""
    return hashlib.sha256(f"incidentbot-pd-emulator:{seed}".encode()).hexdigest()[:32]


class Ids(Counters):
    """Deterministic PagerDuty-looking ids: ``PSVC001``, ``PUSR002``, ``PINC001`` …"""

    def new(self, prefix: str) -> str:
        return f"{prefix}{self.next(prefix):0{max(1, 7 - len(prefix))}d}"

    def ulid(self) -> str:
        """A 26-character ULID-looking id (webhook event ids look like this)."""
        value = (int(time.time() * 1000) << 40) | self.next("#ulid")
        out = ""
        for _ in range(26):
            value, rem = divmod(value, 32)
            out = _B32[rem] + out
        return out


class Clock:
    """Strictly increasing wall-clock seconds (so ordering by time is stable)."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._last = 0.0
        self._source = source  # a test's scripted clock, shared with the bot

    def now(self) -> float:
        value = self._source()
        if value <= self._last:
            value = self._last + 0.001
        self._last = value
        return value


@dataclass
class User:
    id: str
    name: str
    email: str
    time_zone: str
    role: str = "user"
    job_title: str = ""
    color: str = "purple"


@dataclass
class Schedule:
    """A rotation reduced to its current shift: who is on call, from when until when."""

    id: str
    name: str
    time_zone: str
    user_id: str
    start: float
    end: float


@dataclass
class Rule:
    """One escalation level: targets are ``("schedule", id)`` or ``("user", id)``."""

    id: str
    delay_minutes: int
    targets: list[tuple[str, str]]


@dataclass
class EscalationPolicy:
    id: str
    name: str
    rules: list[Rule]
    description: str = ""
    num_loops: int = 0


@dataclass
class Integration:
    id: str
    name: str
    key: str
    service_id: str
    created_at: float


@dataclass
class Service:
    id: str
    name: str
    escalation_policy_id: str
    integration_ids: list[str]
    created_at: float
    description: str = ""
    last_incident_at: float | None = None


@dataclass
class Priority:
    id: str
    name: str
    order: int
    description: str = ""


@dataclass
class LogEntry:
    id: str
    type: str  # trigger_log_entry, acknowledge_log_entry, …
    at: float
    agent: Agent
    channel: JSON
    summary: str
    user_ids: list[str] = field(default_factory=list)  # assigned/notified users


@dataclass
class Responder:
    user_id: str
    requester_id: str
    message: str
    at: float
    state: str = "pending"  # pending | joined | declined
    escalation_policy_id: str | None = None


@dataclass
class ResponderRequest:
    requester_id: str
    message: str
    at: float
    targets: list[tuple[str, str]]  # ("user" | "escalation_policy", id)
    responders: list[Responder]


@dataclass
class Note:
    id: str
    user_id: str
    content: str
    at: float


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    escalation_policy_id: str
    incident_key: str | None
    urgency: str
    created_at: float
    status: str = "triggered"
    details: str | None = None
    escalation_level: int = 1
    assignments: list[tuple[str, float]] = field(default_factory=list)
    acknowledgements: list[tuple[tuple[AgentKind, str], float]] = field(default_factory=list)
    priority_id: str | None = None
    resolved_at: float | None = None
    updated_at: float = 0.0
    last_change_at: float = 0.0
    last_change_by: Agent = None
    resolve_reason: str | None = None
    alerts: int = 0
    origin: Literal["api", "events", "web"] = "api"
    responders: list[Responder] = field(default_factory=list)
    responder_requests: list[ResponderRequest] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass
class Change:
    """One outbound (webhook v3) event produced by a state change."""

    event_type: str
    incident_id: str
    agent: Agent
    client: JSON | None = None
    responder: Responder | None = None  # incident.responder.* events
    note: Note | None = None  # incident.annotated
    at: float | None = None  # when it happened: the event's occurred_at, however late delivered
