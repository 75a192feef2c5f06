"""Opsgenie as the pager of some services, end to end, in the deployment where PagerDuty pages
the others: the bot's Opsgenie client against the emulator over HTTP, and the emulator's outgoing
Webhook integration (its custom `Authorization: Bearer` header) back to the bot. The sandbox maps
`billing` and `ledger` to Opsgenie (`pager: {kind: opsgenie, responders: [team], schedule}`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.emulators.opsgenie import OpsgenieEmulator
from bot.emulators.opsgenie.state import Alert
from bot.sandbox import OPSGENIE_TOKEN, Sandbox, ScriptedClock
from tests.e2e.conftest import (
    People,
    api,
    command,
    ephemerals,
    incidents,
    morning_at_least_six_hours_ago,
    post,
)
from tests.fixtures.alerts import alertmanager, am_alert

T0 = morning_at_least_six_hours_ago()


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def firing(service: str, starts_at: datetime | None = None) -> dict[str, Any]:
    """A critical alert (SEV1: paged at once) on `service`."""
    starts = stamp(starts_at) if starts_at else "2026-11-26T06:58:12.345678901Z"
    payload = alertmanager(
        group_key=f'{{}}/{{service="{service}"}}:{{alertname="High5xx"}}',
        alerts=[am_alert(starts_at=starts, extra_labels={"service": service})],
    )
    payload["commonLabels"]["service"] = service
    return payload


def only_incident(sb: Sandbox) -> dict[str, Any]:
    (incident,) = incidents(sb)
    return incident


def key_of(incident: dict[str, Any]) -> str:
    return f"incidentbot-{incident['id']}"


def alert_of(og: OpsgenieEmulator, alias: str) -> Alert:
    """The alert as Opsgenie holds it now."""
    alert = og.alert(alias)
    assert alert is not None, f"no Opsgenie alert {alias}"
    return alert


def timeline_texts(incident: dict[str, Any]) -> list[str]:
    return [str(e["text"]) for e in incident["timeline"]]


def until_paged(sb: Sandbox) -> dict[str, Any]:
    """The outbox retries with backoff, as the scheduler's sweep would, until the page lands."""
    for _ in range(40):
        sb.bot.runner.sweep()
        sb.settle()
        incident = only_incident(sb)
        if any(t.startswith("Paged Opsgenie") for t in timeline_texts(incident)):
            return incident
        time.sleep(0.5)
    raise AssertionError(f"never paged: {timeline_texts(only_incident(sb))}")


def test_a_sev1_on_an_opsgenie_service_opens_one_alert_that_chat_acknowledges_and_closes(
    sb: Sandbox, people: People
) -> None:
    post(sb, "/webhooks/alertmanager", firing("billing"))
    incident = only_incident(sb)
    assert incident["severity"] == "SEV1"
    og = sb.opsgenie
    (alert,) = og.alerts()
    assert alert.alias == key_of(incident)
    assert (alert.priority, alert.message) == ("P1", "[SEV1] Checkout API 5xx ratio above 5%")
    assert alert.responders == [{"type": "team", "name": "billing"}]
    assert alert.details["Slack channel #" + incident["channel"]["name"]].startswith("https://")
    assert alert.details["incidentbot review page"].startswith(sb.url)
    (page,) = incident["pages"]
    assert (page["pager"], page["pager_incident"], page["status"]) == (
        "opsgenie",
        alert.id,
        "triggered",
    )
    assert sb.pagerduty.incidents() == [] and sb.pagerduty.events() == []
    assert [t for t in timeline_texts(incident) if t.startswith("Paged")] == [
        f"Paged Opsgenie: {alert.id}"
    ]

    channel = incident["channel"]["id"]
    command(sb, people.bob, channel, "ack")
    assert alert_of(og, alert.alias).acknowledged
    command(sb, people.alice, channel, "resolve Rolled back")
    assert alert_of(og, alert.alias).status == "closed"

    # Opsgenie told the bot back about its own create, acknowledgement and close: accepted,
    # and nothing changed by them (the ack stays bob's, one resolution, no Opsgenie lines)
    assert [(d.action, d.status) for d in og.deliveries] == [
        ("Create", 200),
        ("Acknowledge", 200),
        ("Close", 200),
    ]
    assert {d.headers["Authorization"] for d in og.deliveries} == {f"Bearer {OPSGENIE_TOKEN}"}
    incident = only_incident(sb)
    assert incident["status"] == "resolved"
    assert incident["milestones"]["acknowledged_at"]["by"] == people.bob
    assert incident["milestones"]["acknowledged_at"]["source"] == "chat"
    assert incident["milestones"]["resolved_at"]["source"] == "chat"
    kinds = [e["kind"] for e in incident["timeline"]]
    assert kinds.count("acknowledged") == 1 and kinds.count("resolved") == 1
    assert not [
        t for t in timeline_texts(incident) if t.startswith("Opsgenie:") or "in Opsgenie" in t
    ]
    (page,) = incident["pages"]
    assert page["status"] == "resolved" and page["acknowledged_at"] is not None


def test_an_acknowledgement_in_opsgenie_after_chat_s_is_answered_with_the_refusal(
    sb: Sandbox, people: People
) -> None:
    post(sb, "/webhooks/alertmanager", firing("billing"))
    incident = only_incident(sb)
    (alert,) = sb.opsgenie.alerts()
    command(sb, people.bob, incident["channel"]["id"], "ack")
    late = {
        "action": "Acknowledge",
        "alert": {
            "alertId": alert.id,
            "alias": alert.alias,
            "username": "alice@example.com",
            "updatedAt": time.time_ns(),
        },
        "source": {"name": "", "type": "web"},
    }
    reply = post(sb, "/webhooks/opsgenie", late, token=OPSGENIE_TOKEN)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "ok": False,
        "incident_id": incident["id"],
        "result": f"Already acknowledged by @{people.bob}.",
        "refusal": {
            "what": "acknowledge the incident",
            "why": f"Already acknowledged by @{people.bob}.",
            "fix": None,
            "who": [people.bob],
        },
    }
    assert only_incident(sb)["milestones"]["acknowledged_at"]["by"] == people.bob


@pytest.mark.parametrize("webhook", ["delivered", "lost too"])
def test_a_lost_create_answer_is_retried_into_the_same_alert(
    sb: Sandbox, people: People, webhook: str
) -> None:
    og = sb.opsgenie
    (integration,) = og.integrations
    bot_url = integration.url
    if webhook == "lost too":  # only the alert's alias can tell the retry it exists
        integration.url = "http://127.0.0.1:9/webhooks/opsgenie"
    og.fail("POST /v2/alerts", status=0, apply=True)  # Opsgenie took it; the answer is lost
    post(sb, "/webhooks/alertmanager", firing("billing"))
    integration.url = bot_url
    incident = until_paged(sb)
    (alert,) = og.alerts()
    assert alert.alias == key_of(incident) and alert.count == 1
    assert len(og.calls_to("POST /v2/alerts")) == 1  # the retry found it: no second create
    (page,) = incident["pages"]
    assert (page["pager_incident"], page["status"]) == (alert.id, "triggered")
    assert len([t for t in timeline_texts(incident) if t.startswith("Paged Opsgenie")]) == 1


def test_a_create_still_being_processed_is_not_a_second_alert(sb: Sandbox, people: People) -> None:
    og = sb.opsgenie
    og.hold_requests()  # accepted (202), processed later
    post(sb, "/webhooks/alertmanager", firing("billing"))
    incident = only_incident(sb)
    assert incident["pages"][0]["status"] == "pending"
    assert og.alerts() == []
    assert any("Paging Opsgenie failed" in t for t in timeline_texts(incident))
    og.hold_requests(False)
    assert og.process() == 1  # Opsgenie gets to it; its webhook tells the bot the alert's id
    incident = until_paged(sb)
    (alert,) = og.alerts()
    assert alert.alias == key_of(incident) and alert.count == 1
    assert incident["pages"][0]["pager_incident"] == alert.id


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(T0)
    with Sandbox(db_url, clock=clock) as sb:
        sb.opsgenie.use_clock(lambda: clock.now().timestamp())
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def resend_later(sb: Sandbox, og: OpsgenieEmulator, action: str) -> None:
    """Opsgenie posts a delivery that did not get through again (same body, same headers)."""
    (failed,) = [d for d in og.deliveries if d.action == action]
    assert failed.status == 0
    reply = httpx.post(
        f"{sb.url}/webhooks/opsgenie", content=failed.body, headers=failed.headers, timeout=10
    )
    assert reply.status_code == 200, reply.text
    sb.settle()


def test_the_on_call_acknowledging_and_closing_in_opsgenie_count_from_opsgenies_times(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    og = sb.opsgenie
    post(sb, "/webhooks/alertmanager", firing("billing", starts_at=T0))
    incident = only_incident(sb)
    assert datetime.fromisoformat(incident["milestones"]["detected_at"]["at"]) == T0
    alias = key_of(incident)
    (integration,) = og.integrations
    bot_url, integration.url = integration.url, "http://127.0.0.1:9/webhooks/opsgenie"

    acked_at = T0 + timedelta(minutes=1)
    og.acknowledge(alias, "bob@example.com", at=acked_at.timestamp())  # the bot is unreachable
    assert only_incident(sb)["milestones"].get("acknowledged_at") is None
    clock.advance(hours=2)
    integration.url = bot_url
    resend_later(sb, og, "Acknowledge")

    incident = only_incident(sb)
    acked = incident["milestones"]["acknowledged_at"]
    assert datetime.fromisoformat(acked["at"]) == acked_at
    assert (acked["source"], acked["by"]) == ("pager", p.bob)  # matched by email
    assert incident["roles"]["commander"] == p.bob
    (page,) = incident["pages"]
    assert datetime.fromisoformat(page["acknowledged_at"]) == acked_at
    (entry,) = [e for e in incident["timeline"] if e["kind"] == "acknowledged"]
    assert f"at Opsgenie's time {acked_at:%H:%M:%S} UTC" in entry["text"]
    day = T0.date().isoformat()
    metrics = api(sb, f"/api/metrics?since={day}&until={day}T23:59:59Z").json()
    assert metrics["mtta"]["count"] == 1 and metrics["mtta"]["mean_s"] == 60  # not 2 h
    assert og.calls_to("POST /v2/alerts/{identifier}/acknowledge") == []  # not told back

    clock.advance(minutes=5)
    closed_at = clock.now() - timedelta(minutes=1)
    og.close(alias, "bob@example.com", at=closed_at.timestamp())
    sb.settle()
    incident = only_incident(sb)
    assert incident["status"] == "resolved"
    resolved = incident["milestones"]["resolved_at"]
    assert (datetime.fromisoformat(resolved["at"]), resolved["source"]) == (closed_at, "pager")
    assert incident["pages"][0]["status"] == "resolved"
    assert og.calls_to("POST /v2/alerts/{identifier}/close") == []


def test_page_adds_responders_oncall_reads_the_schedule_and_pagerduty_pages_as_before(
    sb: Sandbox, people: People
) -> None:
    og = sb.opsgenie
    post(sb, "/webhooks/alertmanager", firing("billing"))
    incident = only_incident(sb)
    channel = incident["channel"]["id"]
    (alert,) = og.alerts()

    command(sb, people.alice, channel, "page ledger")  # the same pager: responders added
    (added,) = og.calls_to("POST /v2/alerts/{identifier}/responders")
    assert added.json["responder"] == {"type": "team", "name": "ledger"}
    assert len(og.alerts()) == 1
    assert alert_of(og, alert.alias).responders == [
        {"type": "team", "name": "billing"},
        {"type": "team", "name": "ledger"},
    ]
    texts = timeline_texts(only_incident(sb))
    assert not [t for t in texts if t.startswith("Opsgenie:")]  # its echo is no news

    command(sb, people.alice, channel, "page payments")  # a PagerDuty service: PagerDuty
    (pd_incident,) = sb.pagerduty.incidents()
    assert pd_incident["service"]["id"] == sb.pagerduty.service_id("payments")
    assert len(og.alerts()) == 1

    command(sb, people.bob, people.general, "oncall billing")
    listing = ephemerals(sb, people.bob)[-1]
    assert "On call for billing" in listing and "bob@example.com" in listing
    assert f"<@{people.bob}>" in listing  # matched to Slack by email, as acknowledgements are
    assert "billing_schedule" in listing
    og.fail("GET /v2/schedules/{identifier}/on-calls", status=503)
    command(sb, people.bob, people.general, "oncall ledger")
    assert ephemerals(sb, people.bob)[-1].startswith("Opsgenie did not answer (opsgenie: http_503")
    command(sb, people.bob, people.general, "oncall checkout-api")  # PagerDuty's, as before
    listing = ephemerals(sb, people.bob)[-1]
    assert "On call for checkout-api" in listing and "Alice Anders" in listing


def test_one_person_acknowledging_in_opsgenie_and_in_pagerduty_is_one_chat_person(
    sb: Sandbox, people: People
) -> None:
    """Bob acknowledges an Opsgenie alert (Opsgenie names him by his username, his email) and a
    PagerDuty incident (by his PagerDuty user id): both are stamped by his Slack account, and
    Slack is asked who bob@example.com is once."""
    post(sb, "/webhooks/alertmanager", firing("billing"))  # Opsgenie's
    until_paged(sb)
    post(sb, "/webhooks/alertmanager", alertmanager())  # checkout-api: PagerDuty's
    (pd_incident,) = sb.pagerduty.incidents()
    (alert,) = sb.opsgenie.alerts()
    sb.slack.reset_calls()

    sb.opsgenie.acknowledge(alert.alias, "bob@example.com")
    sb.settle()
    sb.pagerduty.acknowledge(pd_incident["id"], sb.pagerduty.user_id("bob"))
    sb.settle()

    acks = {i["pages"][0]["pager"]: i["milestones"]["acknowledged_at"] for i in incidents(sb)}
    assert {pager: (a["by"], a["source"]) for pager, a in acks.items()} == {
        "opsgenie": (people.bob, "pager"),
        "pagerduty": (people.bob, "pager"),
    }
    assert len(sb.slack.calls_to("users.lookupByEmail")) == 1


def test_a_pagerduty_service_still_pages_pagerduty_alone(sb: Sandbox, people: People) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager())  # checkout-api: a PagerDuty service
    incident = only_incident(sb)
    (event,) = [e for e in sb.pagerduty.events() if e["event_action"] == "trigger"]
    assert event["dedup_key"] == key_of(incident)
    assert sb.opsgenie.alerts() == [] and sb.opsgenie.calls_to("POST /v2/alerts") == []
    (page,) = incident["pages"]
    assert page["pager"] == "pagerduty" and page["pagerduty_incident"] is not None


def test_a_wrong_bearer_is_refused_and_nothing_is_stored(sb: Sandbox, people: People) -> None:
    post(sb, "/webhooks/alertmanager", firing("billing"))
    incident = only_incident(sb)
    (alert,) = sb.opsgenie.alerts()
    close = {
        "action": "Close",
        "alert": {
            "alertId": alert.id,
            "alias": alert.alias,
            "username": "bob@example.com",
            "updatedAt": time.time_ns(),
        },
        "source": {"name": "", "type": "web"},
    }
    for token in (None, "wrong-token", "sandbox-alert-token"):
        reply = post(sb, "/webhooks/opsgenie", close, token=token)
        assert reply.status_code == 401, reply.text
    after = only_incident(sb)
    assert after["status"] == incident["status"] == "investigating"
    assert after["timeline"] == incident["timeline"] and after["pages"] == incident["pages"]
    assert post(sb, "/webhooks/opsgenie", close, token=OPSGENIE_TOKEN).status_code == 200
    assert only_incident(sb)["status"] == "resolved"
