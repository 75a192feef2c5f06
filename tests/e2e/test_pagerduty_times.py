"""PagerDuty's own times: an acknowledgement, resolution or reopening made in PagerDuty counts
from PagerDuty's `occurred_at`, not from when its webhook reached the bot, within what the timeline
allows; otherwise from receipt, and the timeline says which and why. One scripted clock drives the
bot and the PagerDuty emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.emulators.pagerduty import signature
from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, api, command, morning_at_least_six_hours_ago

T0 = morning_at_least_six_hours_ago()


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(T0)
    with Sandbox(db_url, clock=clock) as sb:
        sb.pagerduty.use_clock(lambda: clock.now().timestamp())
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def declared(sb: Sandbox, p: People) -> tuple[dict[str, Any], str]:
    """A SEV2 declared at T0 (paged through REST at once) and its PagerDuty incident id."""
    command(sb, p.alice, p.general, "declare sev2 Checkout API returns 500s")
    (pd_incident,) = sb.pagerduty.incidents()
    return incident(sb), str(pd_incident["id"])


def incident(sb: Sandbox) -> dict[str, Any]:
    (listed,) = api(sb, "/api/incidents").json()["incidents"]
    return api(sb, f"/api/incidents/{listed['id']}").json()  # type: ignore[no-any-return]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def about(value: str, expected: datetime) -> bool:
    """PagerDuty's emulated clock ticks at least 1 ms per event (its times never repeat)."""
    return timedelta(0) <= at(value) - expected < timedelta(seconds=1)


def test_an_ack_delivered_two_hours_late_counts_from_pagerdutys_time(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    pd = sb.pagerduty
    before, pd_id = declared(sb, p)
    assert at(before["milestones"]["detected_at"]["at"]) == T0
    (triggered,) = pd.webhook_deliveries(event_type="incident.triggered")
    subscription = pd.subscription(triggered.subscription_id)
    bot_url, subscription.url = subscription.url, "http://127.0.0.1:9/webhooks/pagerduty"

    clock.advance(minutes=1)
    pd.acknowledge(pd_id, pd.user_id("bob"))  # the on-call acks while the bot is down
    (failed,) = pd.webhook_deliveries(event_type="incident.acknowledged")
    assert not failed.ok
    assert incident(sb)["milestones"].get("acknowledged_at") is None

    clock.advance(hours=2)
    subscription.url = bot_url  # the bot is back; PagerDuty retries the delivery
    (retried,) = pd.retry_failed_webhooks()
    assert retried.ok
    sb.settle()

    after = incident(sb)
    acked = after["milestones"]["acknowledged_at"]
    assert about(acked["at"], T0 + timedelta(minutes=1))
    assert acked["source"] == "pager"
    (page,) = after["pages"]
    assert about(page["acknowledged_at"], T0 + timedelta(minutes=1))
    (entry,) = [e for e in after["timeline"] if e["kind"] == "acknowledged"]
    received = (T0 + timedelta(hours=2, minutes=1)).strftime("%H:%M:%S")
    assert f"at PagerDuty's time {(T0 + timedelta(minutes=1)):%H:%M:%S} UTC" in entry["text"]
    assert f"received {received} UTC" in entry["text"]

    day = T0.date().isoformat()
    metrics = api(sb, f"/api/metrics?since={day}&until={day}T23:59:59Z").json()
    assert metrics["mtta"]["count"] == 1 and 60 <= metrics["mtta"]["mean_s"] < 61  # not 2 h


def send(sb: Sandbox, event: dict[str, Any]) -> None:
    """A v3 delivery signed as PagerDuty signs it."""
    body = json.dumps({"event": event}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": signature(sb.pagerduty.webhook_secret, body),
    }
    reply = httpx.post(f"{sb.url}/webhooks/pagerduty", content=body, headers=headers, timeout=10)
    assert reply.status_code < 300, reply.text
    sb.settle()


def test_a_time_before_detection_or_from_the_future_is_stamped_at_receipt_and_said(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    _, pd_id = declared(sb, p)
    clock.advance(minutes=30)
    received = clock.now()
    data = {"id": pd_id, "type": "incident", "status": "acknowledged"}
    early = T0 - timedelta(minutes=5)
    send(
        sb,
        {
            "id": "01ACKBEFOREDETECTION",
            "event_type": "incident.acknowledged",
            "occurred_at": early.isoformat().replace("+00:00", "Z"),
            "data": data,
        },
    )
    shown = incident(sb)
    assert at(shown["milestones"]["acknowledged_at"]["at"]) == received
    (page,) = shown["pages"]
    assert at(page["acknowledged_at"]) == received
    (entry,) = [e for e in shown["timeline"] if e["kind"] == "acknowledged"]
    assert (
        f"PagerDuty's time {early:%H:%M:%S} UTC is before detection ({T0:%H:%M:%S} UTC); "
        "stamped at receipt"
    ) in entry["text"]

    clock.advance(minutes=10)
    received = clock.now()
    future = received + timedelta(hours=3)
    send(
        sb,
        {
            "id": "01RESOLVEDFROMTHEFUTURE",
            "event_type": "incident.resolved",
            "occurred_at": future.isoformat(),
            "data": {**data, "status": "resolved"},
        },
    )
    shown = incident(sb)
    assert shown["status"] == "resolved"
    assert at(shown["milestones"]["resolved_at"]["at"]) == received
    (entry,) = [e for e in shown["timeline"] if e["kind"] == "resolved"]
    assert (
        f"PagerDuty's time {future:%H:%M:%S} UTC is in the future; stamped at receipt"
        in (entry["text"])
    )
