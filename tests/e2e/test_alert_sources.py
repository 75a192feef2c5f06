"""Datadog and New Relic webhooks end to end: their documented payloads, sent over HTTP with the
bearer token, open, join and resolve incidents exactly as Alertmanager's groups do — severity and
service through the catalog's alert rules, times from the sender's clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.sandbox import ALERT_TOKEN, Sandbox
from tests.e2e.conftest import incidents, post, told_time
from tests.fixtures.alert_sources import (
    FIRED,
    RECOVERED,
    datadog,
    datadog_default,
    newrelic,
)


def at(text: str | None) -> datetime | None:
    """An instant as the API shows it (SQLite keeps it without its zone: UTC)."""
    if text is None:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def by_status(incident: dict[str, Any]) -> list[str]:
    return sorted(a["status"] for a in incident["alerts"])


# -- Datadog -------------------------------------------------------------------------------------


def test_a_datadog_monitor_opens_joins_and_resolves_one_incident(sb: Sandbox) -> None:
    first = post(sb, "/webhooks/datadog", datadog())
    assert first.status_code == 200, first.text
    (incident,) = incidents(sb)
    assert (incident["title"], incident["severity"], incident["service"], incident["source"]) == (
        "Checkout API 5xx ratio above 5%",
        "SEV1",  # $ALERT_PRIORITY P1, through the catalog's rules
        "checkout-api",  # the service: tag
        "alert",
    )
    assert at(incident["milestones"]["impact_started_at"]["at"]) == FIRED  # $DATE
    (alert,) = incident["alerts"]
    assert alert["labels"]["host"] == "checkout-1"
    assert alert["links"]["generator"].startswith("https://app.datadoghq.com/monitors/123456")

    # the same monitor on another host joins the incident; a repeat changes nothing
    assert post(sb, "/webhooks/datadog", datadog(scope="host:checkout-2")).status_code == 200
    assert post(sb, "/webhooks/datadog", datadog()).json()["result"] == "No change."
    (incident,) = incidents(sb)
    assert by_status(incident) == ["firing", "firing"]

    for scope in ("host:checkout-1", "host:checkout-2"):
        done = post(
            sb, "/webhooks/datadog", datadog(transition="Recovered", scope=scope, at=RECOVERED)
        )
        assert done.status_code == 200, done.text
    (incident,) = incidents(sb)
    assert by_status(incident) == ["resolved", "resolved"]
    assert {at(a["ends_at"]) for a in incident["alerts"]} == {RECOVERED}
    resolved = [e for e in incident["timeline"] if e["text"].startswith("✅ Resolved")]
    assert [at(e["at"]) for e in resolved] == [RECOVERED, RECOVERED]  # Datadog's time


def test_datadog_re_triggered_fires_again_and_another_monitor_is_another_incident(
    sb: Sandbox,
) -> None:
    post(sb, "/webhooks/datadog", datadog())
    post(sb, "/webhooks/datadog", datadog(transition="Recovered", at=RECOVERED))
    later = RECOVERED + timedelta(minutes=5)
    post(sb, "/webhooks/datadog", datadog(transition="Re-Triggered", at=later))
    (incident,) = incidents(sb)
    assert by_status(incident) == ["firing"]
    assert any(e["text"].startswith("🔥 Firing again") for e in incident["timeline"])

    post(
        sb,
        "/webhooks/datadog",
        datadog(monitor="999", name="Search slow", priority="P3", tags="service:search"),
    )
    assert sorted((i["service"], i["severity"]) for i in incidents(sb)) == [
        ("checkout-api", "SEV1"),
        ("search", "SEV3"),
    ]


def test_a_severity_tag_counts_before_the_priority(sb: Sandbox) -> None:
    post(sb, "/webhooks/datadog", datadog(priority="P1", tags="service:search, severity:warning"))
    (incident,) = incidents(sb)
    assert incident["severity"] == "SEV3"


def test_datadogs_default_payload_is_understood_from_its_title(sb: Sandbox) -> None:
    assert post(sb, "/webhooks/datadog", datadog_default()).status_code == 200
    (incident,) = incidents(sb)
    assert incident["title"] == "Search DB disk above 90%"
    assert at(incident["milestones"]["impact_started_at"]["at"]) == FIRED
    post(sb, "/webhooks/datadog", datadog_default(transition="Recovered", at=RECOVERED))
    (incident,) = incidents(sb)
    assert by_status(incident) == ["resolved"]


@pytest.mark.parametrize("transition", ["Warn", "No Data", "Re-Warn"])
def test_datadog_warnings_and_no_data_open_nothing(sb: Sandbox, transition: str) -> None:
    answer = post(sb, "/webhooks/datadog", datadog(transition=transition))
    assert answer.status_code == 200 and "opens and resolves nothing" in answer.json()["result"]
    assert incidents(sb) == []


def test_a_datadog_date_from_the_future_is_stamped_at_receipt(sb: Sandbox) -> None:
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    post(sb, "/webhooks/datadog", datadog(at=future))
    (incident,) = incidents(sb)
    milestones = incident["milestones"]
    assert milestones["impact_started_at"]["at"] == milestones["detected_at"]["at"]
    assert any(
        re.match(rf"Impact start: Datadog's time {told_time(future)}", e["text"])
        for e in incident["timeline"]
    )


# -- New Relic -----------------------------------------------------------------------------------


def test_a_new_relic_issue_opens_joins_and_resolves_one_incident(sb: Sandbox) -> None:
    opened = post(sb, "/webhooks/newrelic", newrelic())
    assert opened.status_code == 200, opened.text
    (incident,) = incidents(sb)
    assert (incident["title"], incident["severity"], incident["service"]) == (
        "Checkout API error rate > 5% for at least 5 minutes on 'checkout-api'",
        "SEV1",  # priority CRITICAL
        "checkout-api",  # the service tag
    )
    assert at(incident["milestones"]["impact_started_at"]["at"]) == FIRED  # createdAt
    (alert,) = incident["alerts"]
    assert alert["links"]["generator"].startswith("https://radar-api.service.newrelic.com/")

    # acknowledged in New Relic: the same issue, the same incident, nothing new
    acked = post(sb, "/webhooks/newrelic", newrelic(state="ACKNOWLEDGED"))
    assert acked.json()["incident_id"] == incident["id"]
    closed = post(sb, "/webhooks/newrelic", newrelic(state="CLOSED", updated=RECOVERED))
    assert closed.status_code == 200, closed.text
    (incident,) = incidents(sb)
    (alert,) = incident["alerts"]
    assert (alert["status"], at(alert["ends_at"])) == ("resolved", RECOVERED)  # updatedAt


@pytest.mark.parametrize(
    ("priority", "severity"), [("HIGH", "SEV2"), ("MEDIUM", "SEV3"), ("LOW", "SEV4")]
)
def test_new_relic_priorities_become_the_catalogs_severities(
    sb: Sandbox, priority: str, severity: str
) -> None:
    post(sb, "/webhooks/newrelic", newrelic(priority=priority))
    (incident,) = incidents(sb)
    assert incident["severity"] == severity


def test_a_created_new_relic_issue_waits_for_activation(sb: Sandbox) -> None:
    answer = post(sb, "/webhooks/newrelic", newrelic(state="CREATED"))
    assert answer.status_code == 200 and "ACTIVATED" in answer.json()["result"]
    closed = post(sb, "/webhooks/newrelic", newrelic(state="CLOSED"))
    assert closed.json()["result"].startswith("No open incident")
    assert incidents(sb) == []


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/webhooks/datadog", b"{not json", 400, "not valid JSON"),
        ("/webhooks/datadog", b"[]", 422, "JSON object"),
        ("/webhooks/datadog", b'{"title": "no transition"}', 422, "alert_transition"),
        ("/webhooks/datadog", b'{"alert_transition": "Triggered"}', 422, "date: missing"),
        (
            "/webhooks/datadog",
            b'{"alert_transition": "Triggered", "date": "yesterday"}',
            422,
            "milliseconds since the epoch",
        ),
        (
            "/webhooks/datadog",
            b'{"alert_transition": "Triggered", "date": "99999999999999999"}',
            422,
            "date:",
        ),
        ("/webhooks/newrelic", b'{"state": "ACTIVATED"}', 422, "id"),
        ("/webhooks/newrelic", b'{"id": "x", "state": "MELTING", "createdAt": 1}', 422, "state"),
        ("/webhooks/newrelic", b'{"id": "x", "state": "ACTIVATED"}', 422, "createdAt"),
        (
            "/webhooks/newrelic",
            b'{"id": "x", "state": "ACTIVATED", "createdAt": [1]}',
            422,
            "createdAt",
        ),
        ("/webhooks/newrelic", b" " * 1_000_100 + b"{}", 413, "limit"),
    ],
)
def test_bad_payloads_get_their_problems_and_store_nothing(
    sb: Sandbox, path: str, body: bytes, status: int, needle: str
) -> None:
    response = httpx.post(
        f"{sb.url}{path}",
        content=body,
        headers={"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == status and needle in response.text, response.text
    assert incidents(sb) == []


@pytest.mark.parametrize("token", [None, "wrong"])
def test_datadog_and_new_relic_need_the_token(sb: Sandbox, token: str | None) -> None:
    assert post(sb, "/webhooks/datadog", datadog(), token=token).status_code == 401
    assert post(sb, "/webhooks/newrelic", newrelic(), token=token).status_code == 401
    assert incidents(sb) == []
    metrics = httpx.get(f"{sb.url}/metrics").text
    assert 'incidentbot_unauthorized_requests_total{endpoint="datadog"}' in metrics
    assert 'incidentbot_unauthorized_requests_total{endpoint="newrelic"}' in metrics
