"""Alert webhooks (Prometheus Alertmanager v4, Grafana) normalised into alert groups. Pure.

A payload is validated strictly enough to refuse what is not an alert notification (a clear
reason per problem) and leniently enough to take what real senders send (extra keys). The other
alert sources (bot.adapters.alert_sources: Datadog, New Relic, CloudWatch) produce the same
`AlertGroup`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.core.milestones import instant_problem
from bot.core.text import url_quote

MAX_ALERTS = 1000
MAX_TEXT = 10_000
NOT_ENDED_YEAR = 1  # Alertmanager and Grafana send 0001-01-01T00:00:00Z for "still firing"


class AlertPayloadError(ValueError):
    """The payload is not a usable alert notification; `problems` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    links: dict[str, str] = field(
        default_factory=dict
    )  # generator, runbook, dashboard, panel, silence

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or self.annotations.get("summary") or self.fingerprint

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("title") or self.name


@dataclass(frozen=True)
class AlertGroup:
    source: str  # short id of the sender, stored with each alert (at most 16 characters)
    group_key: str
    status: Literal["firing", "resolved"]
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    alerts: tuple[Alert, ...]
    title: str = ""
    truncated: int = 0
    sender: str = ""  # how the timeline names the sender ("Alertmanager"); empty: `source`

    @property
    def told_by(self) -> str:
        return self.sender or self.source

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status == "firing")


# -- wire formats --------------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=MAX_TEXT)


Labels = dict[str, str]


class _WireAlert(_Wire):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(default="", max_length=200)
    # Grafana only
    dashboardURL: str = ""
    panelURL: str = ""
    silenceURL: str = ""

    @field_validator("startsAt", "endsAt")
    @classmethod
    def _aware(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None or (info.field_name == "endsAt" and value.year == NOT_ENDED_YEAR):
            return value
        problem = instant_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.astimezone(UTC)


class _WireGroup(_Wire):
    version: str
    groupKey: str = Field(min_length=1, max_length=2000)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[_WireAlert] = Field(min_length=1, max_length=MAX_ALERTS)
    truncatedAlerts: int = 0
    # Grafana only
    orgId: int | None = None
    title: str = ""
    message: str = ""


def parse_alertmanager(payload: Any) -> AlertGroup:
    group = _validate(payload)
    if group.version != "4":
        raise AlertPayloadError(
            [f"version: Alertmanager webhook version 4 is supported, not {group.version!r}"]
        )
    return _normalise(group, "alertmanager")


def parse_grafana(payload: Any) -> AlertGroup:
    group = _validate(payload)
    if group.version not in ("1", "4"):
        raise AlertPayloadError(
            [f"version: Grafana's webhook version 1 is supported, not {group.version!r}"]
        )
    return _normalise(group, "grafana")


def _validate(payload: Any) -> _WireGroup:
    if not isinstance(payload, Mapping):
        raise AlertPayloadError(["the body must be a JSON object"])
    try:
        return _WireGroup.model_validate(payload)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()[:20]
        ]
        raise AlertPayloadError(problems) from exc


def _normalise(group: _WireGroup, source: Literal["alertmanager", "grafana"]) -> AlertGroup:
    alerts = []
    for wire in group.alerts:
        ends = (
            wire.endsAt if wire.endsAt is not None and wire.endsAt.year != NOT_ENDED_YEAR else None
        )
        links = {
            "generator": wire.generatorURL,
            "runbook": wire.annotations.get("runbook_url", "")
            or group.commonAnnotations.get("runbook_url", ""),
            "dashboard": wire.dashboardURL or wire.annotations.get("dashboard_url", ""),
            "panel": wire.panelURL,
            "silence": wire.silenceURL or _silence_url(source, group.externalURL, wire.labels),
        }
        fingerprint = wire.fingerprint or _fingerprint(wire.labels)
        alerts.append(
            Alert(
                fingerprint=fingerprint,
                status=wire.status,
                labels=dict(wire.labels),
                annotations=dict(wire.annotations),
                starts_at=wire.startsAt,
                ends_at=ends,
                links={k: v for k, v in links.items() if v},
            )
        )
    return AlertGroup(
        source=source,
        sender="Alertmanager" if source == "alertmanager" else "Grafana",
        group_key=group.groupKey
        if source == "alertmanager"
        else f"{group.orgId or 1}/{group.groupKey}",
        status=group.status,
        group_labels=dict(group.groupLabels),
        common_labels=dict(group.commonLabels),
        common_annotations=dict(group.commonAnnotations),
        external_url=group.externalURL,
        alerts=tuple(alerts),
        title=group.title,
        truncated=group.truncatedAlerts,
    )


def _silence_url(source: str, external_url: str, labels: Mapping[str, str]) -> str:
    """Alertmanager's UI opens a new silence pre-filled with the alert's labels."""
    if source != "alertmanager" or not external_url.startswith(("http://", "https://")):
        return ""
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{external_url.rstrip('/')}/#/silences/new?filter={url_quote('{' + matchers + '}')}"


def _fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager always sends one; for senders that do not, a stable one from the labels."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
