"""A CloudWatch alarm's state change (the JSON CloudWatch publishes to an SNS topic) as an
alert group.

One alarm (its `AlarmArn`) is one group with one alert. `ALARM` fires, with the impact starting
at CloudWatch's `StateChangeTime`; `OK` resolves at it; `INSUFFICIENT_DATA` is taken and not
acted on. Labels: `alertname` (the alarm's name), `region`, `account`, `namespace`, `metric`,
each of the metric's dimensions by name, and any `key:value` words of the alarm's description
(`service:checkout-api severity:critical`), so the catalog's alert rules give the severity and
the service."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pydantic import Field

from bot.adapters.alert_sources.common import (
    MAX_LABEL,
    NotActedOn,
    Parsed,
    Wire,
    clean,
    digest,
    one_alert_group,
    pairs,
    rfc3339,
    validate,
)
from bot.core.alerts import Alert, AlertPayloadError

SOURCE = "cloudwatch"


class _Dimension(Wire):
    name: str = ""
    value: str | int | float | None = None


class _Trigger(Wire):
    MetricName: str | None = None
    Namespace: str | None = None
    Dimensions: list[_Dimension] = Field(default_factory=list, max_length=64)


class _Alarm(Wire):
    AlarmName: str = Field(min_length=1, max_length=1000)
    AlarmDescription: str | None = None
    AWSAccountId: str | None = None
    NewStateValue: str
    NewStateReason: str | None = None
    StateChangeTime: str
    Region: str | None = None
    AlarmArn: str | None = Field(default=None, max_length=2000)
    OldStateValue: str | None = None
    Trigger: _Trigger | None = None


def parse(message: str) -> Parsed:
    """`message` is the SNS notification's `Message`: the alarm's JSON, as a string."""
    try:
        payload: Any = json.loads(message)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's stack
        raise AlertPayloadError(["Message: not a CloudWatch alarm (not JSON)"]) from None
    alarm = validate(_Alarm, payload)
    state = alarm.NewStateValue.strip().upper()
    if state == "INSUFFICIENT_DATA":
        return NotActedOn("CloudWatch INSUFFICIENT_DATA opens and resolves nothing")
    if state not in ("ALARM", "OK"):
        raise AlertPayloadError(
            [f"NewStateValue: ALARM, OK or INSUFFICIENT_DATA, not {alarm.NewStateValue[:40]!r}"]
        )
    changed = rfc3339(alarm.StateChangeTime, "StateChangeTime")
    region = _region(alarm.AlarmArn) or ""
    trigger = alarm.Trigger or _Trigger()
    labels = pairs(alarm.AlarmDescription or "")
    labels.update(
        clean(
            {
                "region": region or alarm.Region,
                "account": alarm.AWSAccountId,
                "namespace": trigger.Namespace,
                "metric": trigger.MetricName,
                **{d.name: d.value for d in trigger.Dimensions if d.name},
            }
        )
    )
    labels["alertname"] = alarm.AlarmName[:MAX_LABEL]
    group_key = alarm.AlarmArn or f"{alarm.AWSAccountId}/{alarm.Region}/{alarm.AlarmName}"
    annotations = {"summary": alarm.AlarmName}
    if alarm.NewStateReason:
        annotations["description"] = alarm.NewStateReason[:4000]
    if alarm.AlarmDescription:
        annotations["alarm_description"] = alarm.AlarmDescription[:4000]
    firing = state == "ALARM"
    links = {}
    if region:
        links["generator"] = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#alarmsV2:alarm/{quote(alarm.AlarmName, safe='')}"
        )
    alert = Alert(
        fingerprint=digest(group_key),
        status="firing" if firing else "resolved",
        labels=labels,
        annotations=annotations,
        starts_at=changed,
        ends_at=None if firing else changed,
        links=links,
    )
    return one_alert_group(source=SOURCE, sender="CloudWatch", group_key=group_key, alert=alert)


def _region(arn: str | None) -> str | None:
    """`arn:aws:cloudwatch:us-east-1:123456789012:alarm:Name` → `us-east-1`."""
    parts = (arn or "").split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[3].replace("-", "").isalnum():
        return parts[3]
    return None
