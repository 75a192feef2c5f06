"""The emulated PagerDuty account: users, schedules, escalation policies, services, incidents.

Guarded by the emulator's single lock; nothing here does I/O. Incident life-cycle changes are in
``incidents.py``; the JSON PagerDuty answers with is in ``shapes.py``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .records import (
    JSON,
    Change,
    Clock,
    EscalationPolicy,
    Ids,
    Incident,
    Integration,
    Priority,
    Rule,
    Schedule,
    Service,
    User,
    routing_key_for,
)

SHIFT_S = 7 * 24 * 3600  # seeded schedules hand off weekly
PRIORITIES = (
    ("P1", "Critical: customers cannot use the product"),
    ("P2", "Major: a key feature is degraded"),
    ("P3", "Minor: a workaround exists"),
    ("P4", "Low"),
    ("P5", "Informational"),
)


class ApiError(Exception):
    """A REST API error answer: ``{"error": {"message", "code", "errors"?}}`` with ``status``."""

    def __init__(
        self, status: int, message: str, code: int, errors: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors

    def body(self) -> JSON:
        error: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            error["errors"] = list(self.errors)
        return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "Not Found", 2100)


def invalid(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, list(errors))


@dataclass
class OnCall:
    escalation_policy_id: str
    level: int
    user_id: str
    schedule_id: str | None
    start: float | None
    end: float | None


class Account:
    """All mutable PagerDuty state. Callers hold the emulator lock."""

    def __init__(self, *, subdomain: str = "incidentbot-emu") -> None:
        self.ids = Ids()
        self.clock = Clock()
        self.subdomain = subdomain
        self.api_url = "https://api.pagerduty.com"  # replaced by the server's URL on start
        self.users: dict[str, User] = {}
        self.schedules: dict[str, Schedule] = {}
        self.policies: dict[str, EscalationPolicy] = {}
        self.services: dict[str, Service] = {}
        self.integrations: dict[str, Integration] = {}
        self.priorities: dict[str, Priority] = {}
        self.incidents: dict[str, Incident] = {}
        self.events: list[JSON] = []  # accepted Events API v2 events
        self.changes: deque[Change] = deque()  # outbound events not yet turned into webhooks
        self._numbers = 0
        for order, (name, description) in enumerate(PRIORITIES, start=1):
            pid = self.ids.new("PPRI")
            self.priorities[pid] = Priority(pid, name, order, description)

    # ----------------------------------------------------------------- seed
    def seed(self) -> None:
        """Alice, Bob and Carol; checkout-api, payments and search, each with a policy whose
        level 1 is a weekly schedule and level 2 a named colleague."""
        alice = self.add_user("Alice Anders", "alice@example.com", "America/New_York", "admin")
        bob = self.add_user("Bob Brown", "bob@example.com", "Europe/Berlin")
        carol = self.add_user("Carol Chen", "carol@example.com", "Asia/Tokyo")
        for name, primary, backup in (
            ("checkout-api", alice, bob),
            ("payments", bob, carol),
            ("search", carol, alice),
        ):
            policy = self.add_policy(f"{name} escalation", primary=primary, backup=backup)
            self.add_service(name, policy)

    # ---------------------------------------------------------------- users
    def add_user(
        self,
        name: str,
        email: str,
        time_zone: str = "UTC",
        role: str = "user",
        job_title: str = "",
    ) -> str:
        if self.user_by_email(email) is not None:
            raise ValueError(f"a user with email {email} exists")
        uid = self.ids.new("PUSR")
        self.users[uid] = User(uid, name, email, time_zone, role, job_title)
        return uid

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def user_named(self, name: str) -> User | None:
        """By id, email, full name or first name (``"alice"``)."""
        if name in self.users:
            return self.users[name]
        low = name.lower()
        for user in self.users.values():
            if low in (user.email.lower(), user.name.lower(), user.name.split()[0].lower()):
                return user
        return None

    def require_user(self, user_id: str) -> User:
        user = self.user_named(user_id)
        if user is None:
            raise KeyError(f"no user {user_id!r}")
        return user

    # ------------------------------------------------------------ policies
    def add_policy(
        self, name: str, *, primary: str, backup: str | None = None, schedule: bool = True
    ) -> str:
        """Level 1: a schedule with ``primary`` on call (or ``primary`` directly);
        level 2 (optional): ``backup`` directly. Escalation after 30 minutes."""
        pid = self.ids.new("PEP")
        rules = []
        if schedule:
            sid = self.ids.new("PSCH")
            start = self.clock.now()
            start -= start % SHIFT_S
            tz = self.users[primary].time_zone
            self.schedules[sid] = Schedule(
                sid, f"{name} - primary", tz, primary, start, start + SHIFT_S
            )
            rules.append(Rule(self.ids.new("PRUL"), 30, [("schedule", sid)]))
        else:
            rules.append(Rule(self.ids.new("PRUL"), 30, [("user", primary)]))
        if backup is not None:
            rules.append(Rule(self.ids.new("PRUL"), 30, [("user", backup)]))
        self.policies[pid] = EscalationPolicy(pid, name, rules)
        return pid

    def set_oncall(self, policy_id: str, user_id: str, level: int = 1) -> None:
        """Puts ``user_id`` on call at ``level``: the level's schedule hands over to them, or the
        level targets them directly (a new last level is added when ``level`` is one past)."""
        policy = self.policies[policy_id]
        user = self.require_user(user_id)
        if level == len(policy.rules) + 1:
            policy.rules.append(Rule(self.ids.new("PRUL"), 30, [("user", user.id)]))
            return
        if not 1 <= level <= len(policy.rules):
            raise ValueError(f"{policy_id} has no escalation level {level}")
        rule = policy.rules[level - 1]
        schedules = [tid for kind, tid in rule.targets if kind == "schedule"]
        if schedules:
            for sid in schedules:
                self.schedules[sid].user_id = user.id
        else:
            rule.targets = [("user", user.id)]

    def oncalls(self) -> list[OnCall]:
        out = []
        for policy in self.policies.values():
            for level, rule in enumerate(policy.rules, start=1):
                for kind, target in rule.targets:
                    if kind == "schedule":
                        sched = self.schedules[target]
                        out.append(
                            OnCall(
                                policy.id, level, sched.user_id, sched.id, sched.start, sched.end
                            )
                        )
                    else:
                        out.append(OnCall(policy.id, level, target, None, None, None))
        return out

    def oncall_users(self, policy_id: str, level: int) -> list[str]:
        users: list[str] = []
        for entry in self.oncalls():
            same = entry.escalation_policy_id == policy_id and entry.level == level
            if same and entry.user_id not in users:
                users.append(entry.user_id)
        return users

    # ------------------------------------------------------------- services
    def add_service(self, name: str, policy_id: str, description: str = "") -> str:
        if policy_id not in self.policies:
            raise KeyError(f"no escalation policy {policy_id!r}")
        sid = self.ids.new("PSVC")
        iid = self.ids.new("PINT")
        now = self.clock.now()
        self.integrations[iid] = Integration(iid, "Events API V2", routing_key_for(name), sid, now)
        self.services[sid] = Service(sid, name, policy_id, [iid], now, description)
        return sid

    def service_named(self, name: str) -> Service | None:
        if name in self.services:
            return self.services[name]
        return next((s for s in self.services.values() if s.name == name), None)

    def integration_for_key(self, key: str) -> Integration | None:
        return next((i for i in self.integrations.values() if i.key == key), None)

    def routing_key(self, service_id: str) -> str:
        service = self.services[service_id]
        return self.integrations[service.integration_ids[0]].key

    def services_of(self, policy_id: str) -> list[str]:
        return [s.id for s in self.services.values() if s.escalation_policy_id == policy_id]

    def priority_named(self, name: str) -> Priority | None:
        if name in self.priorities:
            return self.priorities[name]
        return next((p for p in self.priorities.values() if p.name == name), None)

    # ------------------------------------------------------------ incidents
    def next_number(self) -> int:
        self._numbers += 1
        return self._numbers

    def incident(self, incident_id: str) -> Incident:
        found = self.incidents.get(incident_id)
        if found is None:
            raise not_found()
        return found

    def open_incident_with_key(self, service_id: str, key: str) -> Incident | None:
        for incident in self.incidents.values():
            if (
                incident.service_id == service_id
                and incident.incident_key == key
                and incident.is_open
            ):
                return incident
        return None
