"""The alert storm's deliveries for each alert source (`bench/alert_storm.py --source`).

Alertmanager re-sends a whole group on every change (5, 10, 15, 20 alerts: 2,000 deliveries for
500 groups). The other sources send one alert per delivery, as they do for real:
- Datadog: a monitor per group, one `Triggered` per scope (`host:node-i`): 20 scopes a monitor,
  10,000 deliveries, 10,000 alerts;
- New Relic: an issue per group (one alert), delivered 20 times as New Relic updates it
  (`ACTIVATED`, then `ACKNOWLEDGED` …): 10,000 deliveries of 500 alerts;
- CloudWatch: an alarm per group (one alert), its `ALARM` notification published 20 times through
  the SNS emulator, each signed (v1 and v2 alternately): 10,000 deliveries of 500 alerts.
Every delivery is (path, body, headers); `baseline` gives the alert rows the same deliveries
would write, for the raw-INSERT baseline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.emulators.sns import SnsEmulator

SOURCES = ("alertmanager", "datadog", "newrelic", "cloudwatch")
PER_GROUP = 20
SERVICES = ("checkout-api", "payments", "search")
TOPIC = "storm"


@dataclass(frozen=True)
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]
    group: str
    alerts: tuple[tuple[str, str], ...]  # (fingerprint, labels as JSON) of each alert sent


def deliveries(source: str, groups: int, token: str, sns: SnsEmulator | None) -> list[Delivery]:
    start = datetime.now(UTC) - timedelta(minutes=5)
    bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    out: list[Delivery] = []
    for i in range(PER_GROUP):  # round by round, as a storm spreads over all groups at once
        for g in range(groups):
            service = SERVICES[g % len(SERVICES)]
            at = start + timedelta(seconds=i)
            if source == "datadog":
                body: Any = _datadog(g, i, service, at)
                out.append(_bearer("/webhooks/datadog", body, bearer, f"dd{g}", f"dd{g}-{i}"))
            elif source == "newrelic":
                body = _newrelic(g, i, service, start)
                out.append(_bearer("/webhooks/newrelic", body, bearer, f"nr{g}", f"nr{g}"))
            elif source == "cloudwatch":
                assert sns is not None
                message = sns.notification(
                    sns.topic_arn(TOPIC), _alarm(g, service, start), version=1 + i % 2
                )
                headers = {
                    "Content-Type": "text/plain; charset=UTF-8",
                    "x-amz-sns-message-type": "Notification",
                }
                out.append(
                    Delivery(
                        "/webhooks/cloudwatch",
                        json.dumps(message).encode(),
                        headers,
                        f"cw{g}",
                        ((f"cw{g}", json.dumps({"alertname": f"storm-{g}"})),),
                    )
                )
            else:
                raise ValueError(source)
    return out


def _bearer(
    path: str, body: dict[str, Any], headers: dict[str, str], group: str, fingerprint: str
) -> Delivery:
    labels = json.dumps({"alertname": group, "service": "storm"})
    return Delivery(path, json.dumps(body).encode(), headers, group, ((fingerprint, labels),))


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def _datadog(g: int, i: int, service: str, at: datetime) -> dict[str, Any]:
    return {
        "id": f"{g}{i:03d}",
        "title": f"[Triggered on {{host:node-{i}}}] Storm monitor {g} on {service}",
        "date": _ms(at),
        "last_updated": _ms(at),
        "event_type": "query_alert_monitor",
        "org": {"id": "1", "name": "storm"},
        "alert_id": str(10_000 + g),
        "alert_transition": "Triggered",
        "alert_priority": "P1",
        "alert_scope": f"host:node-{i}",
        "tags": f"service:{service}, env:prod",
        "link": f"https://app.datadoghq.com/monitors/{10_000 + g}",
    }


def _newrelic(g: int, i: int, service: str, start: datetime) -> dict[str, Any]:
    return {
        "id": f"storm-issue-{g}",
        "issueUrl": f"https://radar-api.service.newrelic.com/accounts/1/issues/storm-issue-{g}",
        "title": f"Storm issue {g} on {service}",
        "priority": "CRITICAL",
        "state": "ACTIVATED" if i == 0 else "ACKNOWLEDGED",
        "createdAt": int(start.timestamp() * 1000),
        "updatedAt": int((start + timedelta(seconds=i)).timestamp() * 1000),
        "totalIncidents": i + 1,
        "alertConditionNames": [f"Storm condition {g}"],
        "tags": {"service": [service]},
    }


def _alarm(g: int, service: str, start: datetime) -> str:
    return json.dumps(
        {
            "AlarmName": f"storm-{g}",
            "AlarmDescription": f"Storm alarm {g}. service:{service} severity:critical",
            "AWSAccountId": "123456789012",
            "NewStateValue": "ALARM",
            "NewStateReason": "Threshold Crossed",
            "StateChangeTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "Region": "US East (N. Virginia)",
            "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:storm-{g}",
            "OldStateValue": "OK",
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "Storm",
                "Dimensions": [{"name": "Group", "value": str(g)}],
            },
        }
    )


def sns_env(sns: SnsEmulator) -> dict[str, str]:
    """The bot's settings to take the storm topic from the emulator."""
    return {
        "SNS_TOPIC_ARNS": sns.topic_arn(TOPIC),
        "SNS_CERT_HOSTS": "127.0.0.1",
        "SNS_CA_BUNDLE": sns.ca_bundle,
    }
