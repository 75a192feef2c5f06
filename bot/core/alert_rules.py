"""What an alert group means for an incident: its title, severity and service. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.core.alerts import Alert, AlertGroup
from bot.core.catalog import Catalog

MAX_TITLE = 150
_GRAFANA_PREFIX = re.compile(r"^\[(FIRING|RESOLVED)(:\d+)?\]\s*")


@dataclass(frozen=True)
class Classification:
    title: str
    severity: str
    service: str | None
    impact_started_at: datetime | None  # the earliest firing alert's start


def alert_severity(alert: Alert, catalog: Catalog) -> str | None:
    mapping = catalog.alerts
    sloth = alert.labels.get("sloth_severity", "").lower()
    if sloth in mapping.sloth_severities:
        return mapping.sloth_severities[sloth]
    for label in mapping.severity_labels:
        value = alert.labels.get(label, "").strip().lower()
        if value in mapping.severities:
            return mapping.severities[value]
        found = catalog.find_severity(value) if value else None
        if found is not None:  # the label already speaks the catalog's language (sev2, SEV2)
            return found.id
    return None


def classify(group: AlertGroup, catalog: Catalog) -> Classification:
    considered = group.firing or group.alerts
    severities = [s for s in (alert_severity(a, catalog) for a in considered) if s]
    fallback = catalog.alerts.default_severity or catalog.default_severity
    severity = (
        min(severities, key=catalog.severity_rank) if severities else catalog.severity(fallback).id
    )
    return Classification(
        title=_title(group, considered),
        severity=severity,
        service=_service(group, catalog),
        impact_started_at=min((a.starts_at for a in considered), default=None),
    )


def _title(group: AlertGroup, alerts: tuple[Alert, ...]) -> str:
    summary = group.common_annotations.get("summary") or group.common_annotations.get("title")
    if not summary:
        names = list(dict.fromkeys(a.name for a in alerts))
        first = alerts[0].summary if len(names) == 1 else names[0]
        summary = first if len(names) == 1 else f"{first} (+{len(names) - 1} more)"
    if not summary and group.title:
        summary = _GRAFANA_PREFIX.sub("", group.title)
    title = " ".join(summary.split()) or "Alert"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def _service(group: AlertGroup, catalog: Catalog) -> str | None:
    for label in catalog.alerts.service_labels:
        for labels in (group.common_labels, group.group_labels, *(a.labels for a in group.alerts)):
            value = labels.get(label)
            if value:
                return value[:63]
    return None
