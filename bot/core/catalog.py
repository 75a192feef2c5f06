"""The catalog: severities, statuses and roles a team works with (YAML, with built-in defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from bot.core.catalog_base import ID_PATTERN, Strict
from bot.core.catalog_paging import (
    PagerTarget as PagerTarget,
    Paging as Paging,
    Responder as Responder,
)
from bot.core.catalog_postmortems import (
    Postmortems as Postmortems,
    PrivatePostmortems as PrivatePostmortems,
    TrackerTarget as TrackerTarget,
)


class Phase(StrEnum):
    """What a status means for the milestones; the catalog names statuses, the core owns phases."""

    ACTIVE = "active"  # impact ongoing
    MITIGATED = "mitigated"  # impact stopped, watching (stamps mitigated_at)
    RESOLVED = "resolved"  # stamps resolved_at
    CLOSED = "closed"  # stamps closed_at, terminal


class Severity(Strict):
    id: str = Field(pattern=r"^SEV[0-9]$|^[A-Z][A-Z0-9_-]{0,15}$")
    name: str
    description: str = ""
    emoji: str = ""

    @field_validator("id", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Status(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    phase: Phase
    description: str = ""
    emoji: str = ""


class Role(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    description: str = ""


COMMANDER = "commander"


class AlertMapping(Strict):
    """How alert labels become an incident's severity and service."""

    severity_labels: tuple[str, ...] = ("severity", "priority")
    severities: dict[str, str] = Field(
        default_factory=lambda: {
            "critical": "SEV1",
            "page": "SEV1",
            "p1": "SEV1",
            "error": "SEV2",
            "major": "SEV2",
            "high": "SEV2",
            "p2": "SEV2",
            "warning": "SEV3",
            "minor": "SEV3",
            "medium": "SEV3",
            "p3": "SEV3",
            "info": "SEV4",
            "low": "SEV4",
            "none": "SEV4",
            "p4": "SEV4",
        }
    )
    # Sloth (SLO burn-rate) alerts carry sloth_severity: page (fast burn) or ticket (slow burn).
    sloth_severities: dict[str, str] = Field(
        default_factory=lambda: {"page": "SEV2", "ticket": "SEV3"}
    )
    service_labels: tuple[str, ...] = ("service", "sloth_service", "team")
    default_severity: str | None = None  # None: the catalog's default_severity

    @field_validator("severities", "sloth_severities", mode="before")
    @classmethod
    def _lower_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k).lower(): str(v).upper() for k, v in value.items()}
        return value


class Service(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    name: str = ""
    pager: PagerTarget = Field(default_factory=PagerTarget)
    tracker: TrackerTarget = Field(default_factory=TrackerTarget)


class Reminders(Strict):
    """Cadences of the scheduler's reminders, in minutes."""

    status_update: dict[str, int] = Field(
        default_factory=lambda: {"SEV1": 15, "SEV2": 30, "SEV3": 60}
    )
    commander_nudge: int = Field(default=5, ge=1)

    @field_validator("status_update", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return {str(k).upper(): v for k, v in value.items()} if isinstance(value, dict) else value


class Catalog(Strict):
    """Validated catalog. Severities are listed most severe first."""

    severities: tuple[Severity, ...]
    statuses: tuple[Status, ...]
    roles: tuple[Role, ...]
    default_severity: str = "SEV3"
    alerts: AlertMapping = Field(default_factory=AlertMapping)
    services: tuple[Service, ...] = ()
    paging: Paging = Field(default_factory=Paging)
    reminders: Reminders = Field(default_factory=Reminders)
    postmortem: Postmortems = Field(default_factory=Postmortems)
    # Chat user ids of people who may see every incident on the review pages and act as any commander.
    admins: tuple[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,20}$")], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _scale_defaults(cls, data: Any) -> Any:
        """Defaults written for SEV1–SEV4 follow a team's own scale by rank: `critical` pages
        the most severe level, `info` the least, whatever they are called."""
        if not isinstance(data, dict):
            return data
        ids = [
            s.id if isinstance(s, Severity) else str(s.get("id", "")).upper()
            for s in data.get("severities") or ()
        ]
        if not ids or ids == ["SEV1", "SEV2", "SEV3", "SEV4"]:
            return data

        def scaled(sev: str) -> str:
            return ids[min(int(sev[3:]) - 1, len(ids) - 1)]

        data = dict(data)
        alerts = dict(data.get("alerts") or {})
        for key, default in (
            ("severities", AlertMapping().severities),
            ("sloth_severities", AlertMapping().sloth_severities),
        ):
            alerts.setdefault(key, {label: scaled(sev) for label, sev in default.items()})
        data["alerts"] = alerts
        paging = dict(data.get("paging") or {})
        paging.setdefault(
            "auto_severities", tuple(dict.fromkeys(scaled(s) for s in Paging().auto_severities))
        )
        data["paging"] = paging
        return data

    @field_validator("services", mode="before")
    @classmethod
    def _services_by_id(cls, value: object) -> object:
        """YAML gives services as a mapping `id: {...}`; a list of objects works too."""
        if isinstance(value, dict):
            return [{"id": key, **(spec or {})} for key, spec in value.items()]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        for kind, items in (("severity", self.severities), ("status", self.statuses)):
            ids = [item.id for item in items]
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {kind} ids: {ids}")
        role_ids = [role.id for role in self.roles]
        if len(set(role_ids)) != len(role_ids):
            raise ValueError(f"duplicate role ids: {role_ids}")
        if not self.severities:
            raise ValueError("at least one severity is needed")
        if self.default_severity.upper() not in {s.id for s in self.severities}:
            raise ValueError(f"default_severity {self.default_severity!r} is not a listed severity")
        phases = [status.phase for status in self.statuses]
        if Phase.ACTIVE not in phases:
            raise ValueError("at least one status must have phase 'active'")
        for phase in (Phase.RESOLVED, Phase.CLOSED):
            if phases.count(phase) != 1:
                raise ValueError(f"exactly one status must have phase {phase.value!r}")
        if COMMANDER not in role_ids:
            raise ValueError("the roles must include 'commander'")
        known = {s.id for s in self.severities}
        mapped = {
            "alerts.severities": set(self.alerts.severities.values()),
            "alerts.sloth_severities": set(self.alerts.sloth_severities.values()),
            "paging.auto_severities": {s.upper() for s in self.paging.auto_severities},
            "alerts.default_severity": {self.alerts.default_severity.upper()}
            if self.alerts.default_severity
            else set(),
        }
        for where, values in mapped.items():
            unknown = sorted(values - known)
            if unknown:
                raise ValueError(f"{where} names severities the catalog does not have: {unknown}")
        return self

    # -- look-ups (case-insensitive; by id or by name) ------------------------------------------
    def find_severity(self, text: str) -> Severity | None:
        key = text.strip().upper()
        if key.isdigit():
            key = f"SEV{key}"
        return next((s for s in self.severities if key in (s.id, s.name.upper())), None)

    def severity(self, severity_id: str) -> Severity:
        found = self.find_severity(severity_id)
        if found is None:
            raise KeyError(severity_id)
        return found

    def find_status(self, text: str) -> Status | None:
        key = text.strip().lower()
        return next((s for s in self.statuses if key in (s.id, s.name.lower())), None)

    def status(self, status_id: str) -> Status:
        found = self.find_status(status_id)
        if found is None:
            raise KeyError(status_id)
        return found

    def find_role(self, text: str) -> Role | None:
        key = text.strip().lower()
        return next((r for r in self.roles if key in (r.id, r.name.lower())), None)

    def role(self, role_id: str) -> Role:
        found = self.find_role(role_id)
        if found is None:
            raise KeyError(role_id)
        return found

    @property
    def initial_status(self) -> Status:
        return next(s for s in self.statuses if s.phase is Phase.ACTIVE)

    def status_with_phase(self, phase: Phase) -> Status:
        return next(s for s in self.statuses if s.phase is phase)

    def service(self, service_id: str | None) -> Service | None:
        if not service_id:
            return None
        key = service_id.lower()
        return next((s for s in self.services if s.id.lower() == key), None)

    def severity_rank(self, severity_id: str) -> int:
        """0 for the most severe."""
        return [s.id for s in self.severities].index(self.severity(severity_id).id)


DEFAULT_SEVERITIES = (
    Severity(
        id="SEV1",
        name="Critical",
        emoji="🔴",
        description="Critical customer impact: outage, data loss or security breach.",
    ),
    Severity(
        id="SEV2",
        name="Major",
        emoji="🟠",
        description="Major feature broken or degraded for many customers.",
    ),
    Severity(
        id="SEV3", name="Minor", emoji="🟡", description="Minor impact or a workaround exists."
    ),
    Severity(
        id="SEV4",
        name="Low",
        emoji="🔵",
        description="Little or no customer impact; worth tracking.",
    ),
)
DEFAULT_STATUSES = (
    Status(
        id="investigating",
        name="Investigating",
        phase=Phase.ACTIVE,
        emoji="🔍",
        description="Impact confirmed; looking for the cause.",
    ),
    Status(
        id="identified",
        name="Identified",
        phase=Phase.ACTIVE,
        emoji="🎯",
        description="Cause found; working on a fix.",
    ),
    Status(
        id="monitoring",
        name="Monitoring",
        phase=Phase.MITIGATED,
        emoji="👀",
        description="Impact stopped; watching that it stays so.",
    ),
    Status(
        id="resolved",
        name="Resolved",
        phase=Phase.RESOLVED,
        emoji="✅",
        description="Fixed; follow-ups and post-mortem remain.",
    ),
    Status(id="closed", name="Closed", phase=Phase.CLOSED, emoji="🔒", description="Done."),
)
DEFAULT_ROLES = (
    Role(
        id="commander",
        name="Incident Commander",
        description="Owns the response, decides, delegates.",
    ),
    Role(
        id="comms",
        name="Communications Lead",
        description="Keeps stakeholders and customers informed.",
    ),
    Role(id="scribe", name="Scribe", description="Keeps the timeline complete."),
)


def default_catalog() -> Catalog:
    return Catalog(severities=DEFAULT_SEVERITIES, statuses=DEFAULT_STATUSES, roles=DEFAULT_ROLES)


class CatalogError(ValueError):
    """The catalog text is invalid; the message lists every problem with its location."""


def catalog_from_mapping(data: Mapping[str, Any] | None) -> Catalog:
    """Build a catalog from parsed YAML; sections left out keep their defaults."""
    data = dict(data or {})
    merged: dict[str, Any] = {
        "severities": DEFAULT_SEVERITIES,
        "statuses": DEFAULT_STATUSES,
        "roles": DEFAULT_ROLES,
    }
    known = {
        "severities",
        "statuses",
        "roles",
        "default_severity",
        "alerts",
        "services",
        "paging",
        "reminders",
        "postmortem",
        "admins",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise CatalogError(f"unknown catalog keys: {', '.join(unknown)} (known: {sorted(known)})")
    merged.update({k: v for k, v in data.items() if k in known})
    try:
        return Catalog.model_validate(merged)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(catalog)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise CatalogError("invalid catalog:\n  " + "\n  ".join(problems)) from exc
