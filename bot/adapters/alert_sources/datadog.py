"""Datadog's webhook integration: a monitor's notification as an alert group.

Datadog fills a JSON template of `$VARIABLES` and sends every value as a string. Both its default
template (`id`, `title`, `date`, `last_updated`, `body`, `event_type`, `org`) and the fuller one
the README gives (adding `alert_id`, `alert_transition`, `alert_priority`, `alert_scope`, `tags`,
`link` …) are taken. One monitor (`$ALERT_ID`, else its name) is one group; each scope of a
multi-alert monitor (`$ALERT_SCOPE`, e.g. `host:web-1`) is one alert of it.

`Triggered`, `Re-Triggered` and `Renotify` fire; `Recovered` resolves; `Warn`, `No Data` and
the rest are taken and not acted on. Times are Datadog's: `$DATE` (milliseconds since the epoch)
starts the alert, `$LAST_UPDATED` (else `$DATE`) ends it. Labels come from `$TAGS` and the
scope (`service:checkout-api` → `service`), with `alertname` (the monitor's name) and `priority`
(`p1`…`p5`), so the catalog's alert rules give the severity and the service."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.adapters.alert_sources.common import (
    MAX_LABEL,
    NotActedOn,
    Parsed,
    Wire,
    digest,
    epoch_ms,
    one_alert_group,
    pairs,
    validate,
)
from bot.core.alerts import Alert, AlertPayloadError

SOURCE = "datadog"
FIRING = {"triggered", "re-triggered", "renotify"}
RESOLVED = {"recovered"}
_PREFIX = re.compile(r"^\s*\[([^\]]{0,200})\]\s*")
_ON_SCOPE = re.compile(r"^(.*?)\s+on\s+\{(.*)\}$")

Text = str | int | float | None


class _Org(Wire):
    id: Text = None
    name: Text = None


class _Notification(Wire):
    id: Text = None
    title: str = ""
    body: str = ""
    date: Text = None
    last_updated: Text = None
    event_type: str = ""
    org: _Org = Field(default_factory=_Org)
    alert_id: Text = None
    alert_transition: str = ""
    alert_priority: str = ""
    alert_title: str = ""
    alert_type: str = ""
    alert_scope: str = ""
    alert_status: str = ""
    alert_metric: str = ""
    tags: str | list[str] = ""
    link: str = ""
    host_name: str = ""


def parse(payload: Any) -> Parsed:
    note = validate(_Notification, payload)
    transition, name, title_scope = _from_title(note.alert_title or note.title)
    transition = (note.alert_transition or transition).strip()
    if not transition:
        if note.alert_type.lower() == "success":
            transition = "Recovered"
        else:
            raise AlertPayloadError(
                [
                    "alert_transition: missing ($ALERT_TRANSITION, or a title starting "
                    "[Triggered] / [Recovered])"
                ]
            )
    kind = transition.lower()
    if kind not in FIRING | RESOLVED:
        return NotActedOn(f"Datadog {transition[:40]!r} opens and resolves nothing")
    started = epoch_ms(note.date, "date")
    updated = epoch_ms(note.last_updated, "last_updated")
    if started is None:
        started = updated
    if started is None:
        raise AlertPayloadError(["date: missing ($DATE, milliseconds since the epoch)"])
    monitor = _text(note.alert_id)
    name = name or monitor or "Datadog monitor"
    scope = note.alert_scope.strip() or title_scope
    tags = note.tags if isinstance(note.tags, str) else ",".join(note.tags)
    labels = {**pairs(tags), **pairs(scope)}  # the scope names this alert: it wins
    labels["alertname"] = name[:MAX_LABEL]
    if note.alert_priority.strip():
        labels["priority"] = note.alert_priority.strip().lower()[:MAX_LABEL]
    if monitor:
        labels["monitor_id"] = monitor[:MAX_LABEL]
    if note.host_name.strip() and "host" not in labels:
        labels["host"] = note.host_name.strip()[:MAX_LABEL]
    firing = kind in FIRING
    annotations = {"summary": name}
    if note.body.strip():
        annotations["description"] = note.body.strip()[:4000]
    if note.alert_status.strip():
        annotations["status"] = note.alert_status.strip()
    org = _text(note.org.id)
    group_key = f"{org}/{monitor or name}"
    alert = Alert(
        fingerprint=digest(group_key, scope),
        status="firing" if firing else "resolved",
        labels=labels,
        annotations=annotations,
        starts_at=started,
        ends_at=None if firing else (updated or started),
        links={"generator": note.link} if note.link.startswith(("https://", "http://")) else {},
    )
    return one_alert_group(source=SOURCE, sender="Datadog", group_key=group_key, alert=alert)


def _from_title(title: str) -> tuple[str, str, str]:
    """`[P1] [Triggered on {host:web-1}] Checkout 5xx` → (Triggered, Checkout 5xx, host:web-1)."""
    transition = scope = ""
    rest = title
    while match := _PREFIX.match(rest):
        inside = match.group(1).strip()
        rest = rest[match.end() :]
        on = _ON_SCOPE.match(inside)
        word = on.group(1) if on else inside
        if word.lower() in FIRING | RESOLVED | {"warn", "re-warn", "no data", "re-no data"}:
            transition = word
            scope = on.group(2) if on else ""
    return transition, " ".join(rest.split())[:MAX_LABEL], scope


def _text(value: Text) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()[:MAX_LABEL]
