"""Alert webhooks end to end: Alertmanager and Grafana in, incidents and Slack out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx
import pytest

from bot.adapters.slack import blocks as b
from bot.sandbox import ALERT_TOKEN, Sandbox
from tests.e2e.conftest import People, card, card_text, incidents, post
from tests.fixtures.alerts import alertmanager, am_alert, grafana, resolved


def test_a_firing_group_opens_one_incident_with_its_alerts(sb: Sandbox, people: People) -> None:
    before = datetime.now(UTC)
    response = post(sb, "/webhooks/alertmanager", alertmanager())
    assert response.status_code == 200, response.text
    (incident,) = incidents(sb)
    assert (incident["title"], incident["severity"], incident["service"], incident["source"]) == (
        "Checkout API 5xx ratio above 5%",
        "SEV1",
        "checkout-api",
        "alert",
    )
    stamps = incident["milestones"]
    assert stamps["impact_started_at"]["at"] == "2026-11-26T06:58:12.345678+00:00"
    assert stamps["impact_started_at"]["source"] == "alert"
    assert datetime.fromisoformat(stamps["detected_at"]["at"]) >= before
    assert incident["roles"] == {}  # nobody has taken command yet
    (alert,) = incident["alerts"]
    assert (
        alert["status"] == "firing"
        and alert["links"]["runbook"] == "https://runbooks.example.com/checkout-5xx"
    )
    text = card_text(card(sb, incident))
    assert (
        "1 firing, 0 resolved" in text
        and "<https://runbooks.example.com/checkout-5xx|runbook>" in text
    )
    assert len(sb.slack.messages(sb.feed_id)) == 1

    # Alertmanager re-sends the whole group: nothing new
    timeline = len(incident["timeline"])
    assert post(sb, "/webhooks/alertmanager", alertmanager()).json()["result"] == "No change."
    (again,) = incidents(sb)
    assert len(again["timeline"]) == timeline


def test_group_changes_are_told_once_per_delivery_and_resolution_proposes_mitigation(
    sb: Sandbox, people: People
) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager())
    (incident,) = incidents(sb)
    channel = incident["channel"]["id"]
    updates_before = len(sb.slack.calls_to("chat.update"))
    two = alertmanager(
        alerts=[
            am_alert(),
            am_alert(instance="checkout-x", fingerprint="c0ffee02"),
            am_alert(instance="checkout-y", fingerprint="c0ffee03"),
        ]
    )
    post(sb, "/webhooks/alertmanager", two)
    lines = [m["text"] for m in sb.slack.messages(channel) if "Firing (2)" in m.get("text", "")]
    assert len(lines) == 1  # one line for the two new alerts
    assert len(sb.slack.calls_to("chat.update")) - updates_before <= 2  # card (and feed), once
    done = resolved(two, ends_at="2026-11-26T07:20:00Z")
    post(sb, "/webhooks/alertmanager", done)
    (incident,) = incidents(sb)
    assert all(a["status"] == "resolved" for a in incident["alerts"])
    assert incident["milestones"]["mitigated_at"] is None  # proposed, not forced
    proposal = next(
        m
        for m in sb.slack.messages(channel)
        if any(bl.get("block_id") == "mitigation.actions" for bl in m.get("blocks") or [])
    )
    sb.slack.join(channel, people.alice)
    reply = sb.slack.click_button(people.alice, channel, proposal["ts"], b.ACCEPT_MITIGATION)
    assert reply.status == 200
    sb.settle()
    (incident,) = incidents(sb)
    assert incident["status"] == "monitoring"
    assert incident["milestones"]["mitigated_at"] == {
        "at": "2026-11-26T07:20:00+00:00",
        "source": "chat",
        "by": people.alice,
    }


def test_grafana_contact_point(sb: Sandbox) -> None:
    assert post(sb, "/webhooks/grafana", grafana()).status_code == 200
    (incident,) = incidents(sb)
    assert (incident["title"], incident["severity"], incident["service"]) == (
        "Search p99 above 2s",
        "SEV3",
        "search",
    )
    assert (
        incident["alerts"][0]["links"]["dashboard"]
        == "https://grafana.example.com/d/search-overview?orgId=1"
    )


def test_a_resolved_group_without_incident_stores_nothing(sb: Sandbox) -> None:
    assert post(sb, "/webhooks/alertmanager", resolved(alertmanager())).status_code == 200
    assert incidents(sb) == []


def test_a_worse_alert_raises_the_severity(sb: Sandbox) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager(alerts=[am_alert(severity="warning")]))
    assert incidents(sb)[0]["severity"] == "SEV3"
    post(
        sb,
        "/webhooks/alertmanager",
        alertmanager(
            alerts=[am_alert(severity="warning"), am_alert(severity="critical", fingerprint="f2")]
        ),
    )
    (incident,) = incidents(sb)
    assert incident["severity"] == "SEV1"
    assert any(e["kind"] == "severity" and e["source"] == "alert" for e in incident["timeline"])


@pytest.mark.parametrize(
    ("body", "headers", "status", "needle"),
    [
        (b"{not json", {}, 400, "not valid JSON"),
        (b'{"version": "4"}', {}, 422, "groupKey"),
        (
            b'{"version": "3", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {}, "startsAt": "2026-11-26T06:00:00Z"}]}',
            {},
            422,
            "version 4 is supported",
        ),
        (b"[" * 100 + b"]" * 100, {}, 400, "nested deeper"),
        (b" " * 8_000_100 + b"{}", {}, 413, "over the 8000000-byte limit"),
    ],
)
def test_bad_payloads_get_a_reason_and_store_nothing(
    sb: Sandbox, body: bytes, headers: dict[str, str], status: int, needle: str
) -> None:
    response = httpx.post(
        f"{sb.url}/webhooks/alertmanager",
        content=body,
        headers={
            "Authorization": f"Bearer {ALERT_TOKEN}",
            "Content-Type": "application/json",
            **headers,
        },
        timeout=10,
    )
    assert response.status_code == status and needle in response.text
    assert incidents(sb) == []


@pytest.mark.parametrize("token", [None, "wrong"])
def test_alert_webhooks_need_the_token(sb: Sandbox, token: str | None) -> None:
    for path, payload in (
        ("/webhooks/alertmanager", alertmanager()),
        ("/webhooks/grafana", grafana()),
    ):
        assert post(sb, path, payload, token=token).status_code == 401
    assert incidents(sb) == []
    assert (
        'incidentbot_unauthorized_requests_total{endpoint="alertmanager"}'
        in httpx.get(f"{sb.url}/metrics").text
    )


def test_replicas_receiving_the_same_group_at_once_open_one_incident(
    sb: Sandbox, db_url: str
) -> None:
    """Two more app instances on the same database, as web replicas would be."""
    with Sandbox(db_url, upgrade=False) as second:
        urls = [sb.url, second.url, sb.url, second.url, sb.url, second.url]
        barrier = threading.Barrier(len(urls))
        answers: list[int] = []

        def send(url: str) -> None:
            barrier.wait()
            response = httpx.post(
                f"{url}/webhooks/alertmanager",
                json=alertmanager(),
                headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
                timeout=30,
            )
            answers.append(response.status_code)

        threads = [threading.Thread(target=send, args=(u,)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        second.settle()
    sb.settle()
    assert answers == [200] * len(urls)
    (incident,) = incidents(sb)
    assert len(incident["alerts"]) == 1
    assert sum(1 for e in incident["timeline"] if e["kind"] == "declared") == 1
