"""New Relic workflows: an issue notification (the webhook destination's default payload
template) as an alert group.

One issue (`id`, New Relic's `issueId`) is one group with one alert: New Relic has already
correlated its incidents into it. `ACTIVATED` and `ACKNOWLEDGED` fire, `CLOSED` resolves, and
`CREATED` (not yet activated) is taken and not acted on. Times are New Relic's: `createdAt`
(milliseconds since the epoch) starts the alert, `closedAt` or `updatedAt` ends it. `priority`
(CRITICAL, HIGH, MEDIUM, LOW) becomes the `priority` label and the issue's tags (the README's
template adds `"tags": {{ json accumulations.tag }}`) become labels, so the catalog's alert
rules give the severity and the service (`service`, `team` …)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from bot.adapters.alert_sources.common import (
    MAX_LABEL,
    NotActedOn,
    Parsed,
    Wire,
    clean,
    digest,
    epoch_ms,
    one_alert_group,
    validate,
)
from bot.core.alerts import Alert, AlertPayloadError

SOURCE = "newrelic"
FIRING = {"ACTIVATED", "ACKNOWLEDGED"}
RESOLVED = {"CLOSED"}
WAITING = {"CREATED"}

Scalar = str | int | float | bool | None
Names = str | list[Scalar] | None


class _Issue(Wire):
    id: str = Field(min_length=1, max_length=200, validation_alias=AliasChoices("id", "issueId"))
    issueUrl: str = Field(default="", validation_alias=AliasChoices("issueUrl", "issuePageUrl"))
    title: Names = None
    priority: str = ""
    state: str
    createdAt: int | float | str | None = None
    updatedAt: int | float | str | None = None
    closedAt: int | float | str | None = None
    impactedEntities: Names = None
    totalIncidents: int | str | None = None
    alertPolicyNames: Names = None
    alertConditionNames: Names = None
    workflowName: str = ""
    tags: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict, validation_alias=AliasChoices("tags", "labels")
    )
    runbookUrl: Names = None


def parse(payload: Any) -> Parsed:
    issue = validate(_Issue, payload)
    state = issue.state.strip().upper()
    if state in WAITING:
        return NotActedOn(f"New Relic issue {state}: nothing to open until it is ACTIVATED")
    if state not in FIRING | RESOLVED:
        raise AlertPayloadError(
            [f"state: ACTIVATED, ACKNOWLEDGED, CLOSED or CREATED, not {issue.state[:40]!r}"]
        )
    created = epoch_ms(issue.createdAt, "createdAt")
    updated = epoch_ms(issue.updatedAt, "updatedAt")
    closed = epoch_ms(issue.closedAt, "closedAt")
    started = created or updated
    if started is None:
        raise AlertPayloadError(["createdAt: missing (milliseconds since the epoch)"])
    title = _first(issue.title)
    condition = _first(issue.alertConditionNames)
    labels = clean(issue.tags)
    labels["alertname"] = (condition or title or issue.id)[:MAX_LABEL]
    if issue.priority.strip():
        labels["priority"] = issue.priority.strip().lower()[:MAX_LABEL]
    for key, names in (("policy", issue.alertPolicyNames), ("entity", issue.impactedEntities)):
        first = _first(names)
        if first and key not in labels:
            labels[key] = first[:MAX_LABEL]
    firing = state in FIRING
    annotations = {"summary": title or labels["alertname"], "state": state}
    runbook = _first(issue.runbookUrl)
    links = {
        "generator": issue.issueUrl,
        "runbook": runbook,
    }
    alert = Alert(
        fingerprint=digest(issue.id),
        status="firing" if firing else "resolved",
        labels=labels,
        annotations=annotations,
        starts_at=started,
        ends_at=None if firing else (closed or updated or started),
        links={k: v for k, v in links.items() if v.startswith(("https://", "http://"))},
    )
    return one_alert_group(
        source=SOURCE, sender="New Relic", group_key=issue.id, alert=alert, title=title
    )


def _first(names: Names) -> str:
    if isinstance(names, list):
        names = next((n for n in names if isinstance(n, str) and n.strip()), None)
    return " ".join(names.split())[:MAX_LABEL] if isinstance(names, str) else ""
