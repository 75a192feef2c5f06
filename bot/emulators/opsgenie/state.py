"""The emulated Opsgenie account: users, teams, schedules, alerts and the async requests.

Shapes follow Opsgenie's Alert API v2 and Who-is-on-call API (docs.opsgenie.com): creating,
acknowledging, closing and adding responders or notes answer 202 with a ``requestId`` and are
processed "asynchronously"; ``GET /v2/alerts/requests/{id}`` tells the outcome. An open alert
with the alias of a new one is not duplicated: its ``count`` goes up (alias de-duplication).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
RESPONDER_TYPES = ("team", "user", "escalation", "schedule")
# Documented field limits of Create Alert (longer values are cut, as Opsgenie does)
LIMITS = {"message": 130, "alias": 512, "description": 15000, "source": 100, "entity": 512}
MAX_RESPONDERS = 50


def iso(at: float) -> str:
    """Opsgenie's instants: ISO 8601 in UTC with milliseconds (``2017-05-24T14:24:20.844Z``)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ApiError(Exception):
    """A synchronous refusal: ``{"message": …, "took": …, "requestId": …}`` (+ ``errors``)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def unprocessable(errors: dict[str, str]) -> ApiError:
    return ApiError(422, "Request body is not processable. Please check the errors.", errors)


@dataclass
class User:
    id: str
    username: str  # Opsgenie usernames are email addresses
    full_name: str


@dataclass
class Team:
    id: str
    name: str
    members: list[str]  # usernames


@dataclass
class Schedule:
    id: str
    name: str
    team: str | None
    on_call: list[str]  # usernames, in order


@dataclass
class Note:
    note: str
    owner: str
    created_at: float


@dataclass
class Alert:
    id: str
    tiny_id: str
    alias: str
    message: str
    description: str
    priority: str
    responders: list[JSON]
    details: dict[str, str]
    tags: list[str]
    source: str
    entity: str
    created_at: float
    updated_at: float
    integration_id: str
    integration_name: str
    status: str = "open"
    acknowledged: bool = False
    owner: str = ""
    count: int = 1
    last_occurred_at: float = 0.0
    notes: list[Note] = field(default_factory=list)

    def shape(self) -> JSON:
        """``GET /v2/alerts/{identifier}``'s ``data``."""
        return {
            "id": self.id,
            "tinyId": self.tiny_id,
            "alias": self.alias,
            "message": self.message,
            "status": self.status,
            "acknowledged": self.acknowledged,
            "isSeen": self.acknowledged,
            "tags": list(self.tags),
            "snoozed": False,
            "count": self.count,
            "lastOccurredAt": iso(self.last_occurred_at or self.created_at),
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "source": self.source,
            "owner": self.owner,
            "priority": self.priority,
            "responders": [dict(r) for r in self.responders],
            "integration": {
                "id": self.integration_id,
                "name": self.integration_name,
                "type": "API",
            },
            "report": {},
            "actions": [],
            "entity": self.entity,
            "description": self.description,
            "details": dict(self.details),
        }


@dataclass
class RequestStatus:
    id: str
    action: str
    integration_id: str
    processed_at: float | None = None
    success: bool = False
    status: str = ""
    alert_id: str = ""
    alias: str = ""

    def shape(self) -> JSON:
        at = self.processed_at if self.processed_at is not None else 0.0
        return {
            "success": self.success,
            "action": self.action,
            "processedAt": iso(at),
            "integrationId": self.integration_id,
            "isSuccess": self.success,
            "status": self.status,
            "alertId": self.alert_id,
            "alias": self.alias,
        }


@dataclass
class Action:
    """An alert action the outgoing webhook tells about (``action`` as Opsgenie spells it)."""

    action: str
    alert: Alert
    username: str
    user_id: str
    at: float
    source_name: str
    source_type: str
    note: str | None = None
    owner: str | None = None
    extra: JSON = field(default_factory=dict)


class Account:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.schedules: dict[str, Schedule] = {}
        self.alerts: dict[str, Alert] = {}
        self.requests: dict[str, RequestStatus] = {}
        self.held: list[Callable[[], None]] = []  # requests accepted, not processed yet
        self.hold = False  # True: requests wait for process() (Opsgenie's async processing)
        self.actions: list[Action] = []  # what the outgoing webhook has to tell
        self.integration_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "incidentbot-emu/api"))
        self.integration_name = "incidentbot API"
        self._tiny = 0

    # ----------------------------------------------------------------- seed
    def seed(self) -> None:
        for name in ("Alice Admin", "Bob Builder", "Carol Chen", "Dan Dba"):
            self.add_user(name)
        self.add_team("checkout", ["alice@example.com", "bob@example.com"])
        self.add_team("database", ["dan@example.com", "carol@example.com"])
        self.add_schedule("checkout_schedule", ["bob@example.com"], team="checkout")
        self.add_schedule("database_schedule", ["dan@example.com"], team="database")

    def add_user(self, full_name: str, username: str | None = None) -> User:
        username = username or f"{full_name.split()[0].lower()}@example.com"
        user = User(str(uuid.uuid5(uuid.NAMESPACE_URL, f"user/{username}")), username, full_name)
        self.users[user.id] = user
        return user

    def add_team(self, name: str, members: list[str]) -> Team:
        team = Team(str(uuid.uuid5(uuid.NAMESPACE_URL, f"team/{name}")), name, list(members))
        self.teams[team.id] = team
        return team

    def add_schedule(self, name: str, on_call: list[str], *, team: str | None = None) -> Schedule:
        schedule = Schedule(
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"schedule/{name}")), name, team, list(on_call)
        )
        self.schedules[schedule.id] = schedule
        return schedule

    # -------------------------------------------------------------- lookups
    def user(self, identifier: str) -> User | None:
        return self.users.get(identifier) or next(
            (u for u in self.users.values() if u.username == identifier), None
        )

    def schedule(self, identifier: str, kind: str) -> Schedule | None:
        if kind == "name":
            return next((s for s in self.schedules.values() if s.name == identifier), None)
        return self.schedules.get(identifier)

    def alert(self, identifier: str, kind: str) -> Alert | None:
        if kind == "alias":  # the open one first, else the latest
            found = [a for a in self.alerts.values() if a.alias == identifier]
            found.sort(key=lambda a: (a.status == "open", a.created_at))
            return found[-1] if found else None
        if kind == "tiny":
            return next((a for a in self.alerts.values() if a.tiny_id == identifier), None)
        return self.alerts.get(identifier)

    # ------------------------------------------------------------- requests
    def accept(self, action: str, work: Callable[[RequestStatus], None]) -> str:
        """Records a request and processes it now, or later when requests are held."""
        request = RequestStatus(str(uuid.uuid4()), action, self.integration_id)
        self.requests[request.id] = request

        def run() -> None:
            request.processed_at = self.now()
            work(request)

        if self.hold:
            self.held.append(run)
        else:
            run()
        return request.id

    def process(self) -> int:
        """Processes the held requests, in order; how many there were."""
        held, self.held = self.held, []
        for run in held:
            run()
        return len(held)

    # --------------------------------------------------------------- alerts
    def create(self, body: JSON, request: RequestStatus) -> None:
        at = self.now()
        alias = str(body.get("alias") or "")[: LIMITS["alias"]]
        existing = self.alert(alias, "alias") if alias else None
        if existing is not None and existing.status == "open":
            existing.count += 1
            existing.last_occurred_at = at
            existing.updated_at = at
            # the documented samples show only "Created alert"; this status text is ours
            request.success, request.status = True, "Alert is deduplicated"
            request.alert_id, request.alias = existing.id, existing.alias
            return
        self._tiny += 1
        alert_id = str(uuid.uuid4())
        alert = Alert(
            id=alert_id,
            tiny_id=str(self._tiny),
            alias=alias or alert_id,
            message=str(body["message"])[: LIMITS["message"]],
            description=str(body.get("description") or "")[: LIMITS["description"]],
            priority=str(body.get("priority") or "P3"),
            responders=[dict(r) for r in body.get("responders") or []],
            details={str(k): str(v) for k, v in (body.get("details") or {}).items()},
            tags=[str(t) for t in body.get("tags") or []],
            source=str(body.get("source") or "127.0.0.1")[: LIMITS["source"]],
            entity=str(body.get("entity") or "")[: LIMITS["entity"]],
            created_at=at,
            updated_at=at,
            integration_id=self.integration_id,
            integration_name=self.integration_name,
            last_occurred_at=at,
        )
        self.alerts[alert.id] = alert
        if body.get("note"):
            alert.notes.append(Note(str(body["note"]), str(body.get("user") or "System"), at))
        request.success, request.status = True, "Created alert"
        request.alert_id, request.alias = alert.id, alert.alias
        self._api_action("Create", alert, body, at)

    def act(
        self,
        action: str,
        identifier: str,
        kind: str,
        body: JSON,
        request: RequestStatus,
    ) -> None:
        """Acknowledge / Close / AddNote / AddResponder through the API."""
        alert = self.alert(identifier, kind)
        if alert is None:
            request.success, request.status = False, "Alert does not exist"
            return
        at = self.now()
        apply_action(alert, action, body, at)
        request.success, request.status = True, f"{_done(action)}"
        request.alert_id, request.alias = alert.id, alert.alias
        self._api_action(action, alert, body, at)

    def _api_action(self, action: str, alert: Alert, body: JSON, at: float) -> None:
        user = str(body.get("user") or "System")
        self.actions.append(
            Action(
                action,
                alert,
                username=user,
                user_id="",
                at=at,
                source_name=self.integration_name,
                source_type="API",
                note=str(body["note"]) if body.get("note") else None,
            )
        )


def apply_action(alert: Alert, action: str, body: JSON, at: float) -> None:
    alert.updated_at = at
    note = body.get("note")
    user = str(body.get("user") or "System")
    if action == "Acknowledge":
        alert.acknowledged = True
    elif action == "UnAcknowledge":
        alert.acknowledged = False
    elif action == "Close":
        alert.status = "closed"
    elif action == "AddResponder":
        alert.responders.append(dict(body["responder"]))
    elif action == "AssignOwnership":
        alert.owner = str(body.get("owner") or "")
    if note:
        alert.notes.append(Note(str(note), user, at))


def _done(action: str) -> str:
    return {
        "Acknowledge": "Acknowledged",
        "Close": "Closed",
        "AddNote": "Added note",
        "AddResponder": "Added responder",
    }.get(action, action)
