"""PagerDuty both ways, end to end: the bot's pagerduty client against the emulator over TLS,
and the emulator's signed v3 webhooks back to the bot."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.emulators.pagerduty import signature
from bot.sandbox import Sandbox
from tests.e2e.conftest import (
    People,
    api,
    card,
    card_text,
    command,
    declare,
    ephemerals,
    incidents,
    post,
)
from tests.fixtures.alerts import alertmanager


def only_incident(sb: Sandbox) -> dict[str, Any]:
    (incident,) = incidents(sb)
    return incident


def test_an_alert_born_sev1_pages_through_events_v2_and_the_on_call_ack_comes_back(
    sb: Sandbox, people: People
) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager())
    incident = only_incident(sb)
    pd = sb.pagerduty
    (event,) = [e for e in pd.events() if e["event_action"] == "trigger"]
    assert event["dedup_key"] == f"incidentbot-{incident['id']}"
    assert event["routing_key"] == pd.routing_key("checkout-api")
    payload = event["payload"]
    assert (payload["summary"], payload["source"], payload["severity"]) == (
        "[SEV1] Checkout API 5xx ratio above 5%",
        "checkout-api",
        "critical",
    )
    assert payload["custom_details"]["incident"] == incident["id"]
    assert {link["text"] for link in event["links"]} == {
        f"Slack channel #{incident['channel']['name']}",
        "incidentbot review page",
    }
    (pd_incident,) = pd.incidents()
    (page,) = incident["pages"]
    assert (
        page["pagerduty_incident"] == pd_incident["id"]
    )  # learnt from the incident.triggered webhook
    assert pd_incident["html_url"] in card_text(card(sb, incident))

    alice_pd = pd.user_id("alice")
    pd.acknowledge(pd_incident["id"], alice_pd)  # the on-call acks in PagerDuty's app
    sb.settle()
    incident = only_incident(sb)
    assert incident["milestones"]["acknowledged_at"]["source"] == "pager"
    assert incident["milestones"]["acknowledged_at"]["by"] == people.alice  # matched by email
    assert incident["roles"] == {"commander": people.alice}

    command(sb, people.alice, incident["channel"]["id"], "resolve Rolled back")
    resolves = [e for e in pd.events() if e["event_action"] == "resolve"]
    assert [e["dedup_key"] for e in resolves] == [f"incidentbot-{incident['id']}"]
    assert pd.incident(pd_incident["id"])["status"] == "resolved"  # type: ignore[index]
    incident = only_incident(sb)
    assert incident["status"] == "resolved"  # the echo from PagerDuty changed nothing
    (page,) = incident["pages"]
    acked = incident["milestones"]["acknowledged_at"]["at"]
    assert page["status"] == "resolved" and page["acknowledged_at"] is not None  # kept
    assert abs(datetime.fromisoformat(page["acknowledged_at"]) - datetime.fromisoformat(acked)) < (
        timedelta(seconds=5)
    )


def test_a_declared_incident_pages_through_rest_and_slack_ack_reaches_pagerduty(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people)  # SEV2: pages by default
    pd = sb.pagerduty
    (created,) = [c for c in pd.calls_to("POST /incidents")]
    assert (
        created.headers.get("From") == "alice@example.com"
        or created.from_email == "alice@example.com"
    )
    assert created.json["incident"]["incident_key"] == f"incidentbot-{incident['id']}"
    assert created.json["incident"]["service"]["id"] == pd.service_id("checkout-api")
    (pd_incident,) = pd.incidents()
    command(sb, people.bob, incident["channel"]["id"], "ack")
    assert pd.incident(pd_incident["id"])["status"] == "acknowledged"  # type: ignore[index]
    assert (
        only_incident(sb)["milestones"]["acknowledged_at"]["by"] == people.bob
    )  # not overwritten by the echo


def test_page_another_service_then_its_responders_and_see_who_is_on_call(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people, "sev3 Search results are stale")  # SEV3: no automatic page
    channel = incident["channel"]["id"]
    pd = sb.pagerduty
    assert pd.incidents() == []
    command(sb, people.alice, channel, "page payments")
    (pd_incident,) = pd.incidents()
    assert pd_incident["service"]["id"] == pd.service_id("payments")
    command(
        sb, people.alice, channel, "page search"
    )  # PagerDuty already has the incident: responders
    (request,) = pd.calls_to("POST /incidents/{id}/responder_requests")
    targets = request.json["responder_request_targets"]
    assert targets[0]["responder_request_target"]["id"] == pd.escalation_policy_id("search")
    assert len(pd.incidents()) == 1
    command(sb, people.alice, channel, "page nowhere")
    assert "Unknown service `nowhere`" in ephemerals(sb, people.alice)[-1]
    command(sb, people.bob, people.general, "oncall checkout-api")
    listing = ephemerals(sb, people.bob)[-1]
    assert "On call for checkout-api" in listing and "Alice Anders" in listing and "L1" in listing


def test_a_pagerduty_outage_holds_the_page_and_it_lands_once(sb: Sandbox, people: People) -> None:
    pd = sb.pagerduty
    pd.fail("POST /v2/enqueue", status=503, times=3)
    post(sb, "/webhooks/alertmanager", alertmanager())
    incident = only_incident(sb)
    assert incident["pages"][0]["status"] == "pending"
    assert any(
        "Paging PagerDuty failed" in m.get("text", "")
        for m in sb.slack.messages(incident["channel"]["id"])
    )
    pd.clear_faults()
    for _ in range(20):  # the outbox retries with backoff, as the scheduler's sweep would
        if sb.bot.runner.sweep() and only_incident(sb)["pages"][0]["status"] != "pending":
            break
        time.sleep(0.5)
    sb.settle()
    assert only_incident(sb)["pages"][0]["status"] == "triggered"
    assert len(pd.incidents()) == 1
    assert len([e for e in pd.events() if e["event_action"] == "trigger"]) == 1


def test_webhook_signatures_redeliveries_and_rotation(sb: Sandbox, people: People) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager())
    pd = sb.pagerduty
    (pd_incident,) = pd.incidents()
    body = (
        b'{"event": {"id": "01FORGED", "event_type": "incident.resolved", "data": {"id": "%s"}}}'
        % pd_incident["id"].encode()
    )
    for header in (None, "v1=" + "0" * 64, signature("wrong-secret", body)):
        headers = {
            "Content-Type": "application/json",
            **({"X-PagerDuty-Signature": header} if header else {}),
        }
        assert (
            httpx.post(
                f"{sb.url}/webhooks/pagerduty", content=body, headers=headers, timeout=10
            ).status_code
            == 401
        )
    assert only_incident(sb)["status"] == "investigating"

    pd.acknowledge(pd_incident["id"], pd.user_id("bob"))
    sb.settle()
    (ack,) = [d for d in pd.webhook_deliveries(event_type="incident.acknowledged")]
    before = only_incident(sb)["timeline"]
    pd.redeliver(ack.event_id)
    sb.settle()
    assert only_incident(sb)["timeline"] == before  # a redelivery changes nothing twice

    subscription = pd.subscription(ack.subscription_id)
    subscription.secrets = ["a-new-secret", pd.webhook_secret]  # rotating: both signatures sent
    pd.resolve(pd_incident["id"], pd.user_id("bob"))
    sb.settle()
    incident = only_incident(sb)
    assert (
        incident["status"] == "resolved"
        and incident["milestones"]["resolved_at"]["source"] == "pager"
    )
    assert api(sb, f"/api/incidents/{incident['id']}").status_code == 200
