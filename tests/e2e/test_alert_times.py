"""Alertmanager's own times (`startsAt`, `endsAt`) count when the timeline allows them; a start
from the future or an end before its start is replaced by receipt time, and the timeline says so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.adapters.slack import blocks as b
from bot.sandbox import ALERT_TOKEN, Sandbox
from tests.e2e.conftest import People, api, told_time
from tests.fixtures.alerts import alertmanager, am_alert, resolved


def deliver(sb: Sandbox, payload: Any) -> None:
    headers = {"Authorization": f"Bearer {ALERT_TOKEN}"}
    reply = httpx.post(f"{sb.url}/webhooks/alertmanager", json=payload, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    sb.settle()


def the_incident(sb: Sandbox) -> dict[str, Any]:
    (listed,) = api(sb, "/api/incidents").json()["incidents"]
    return api(sb, f"/api/incidents/{listed['id']}").json()  # type: ignore[no-any-return]


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_start_from_the_future_and_an_end_before_the_start_are_stamped_at_receipt(
    sb: Sandbox, people: People
) -> None:
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    firing = alertmanager(alerts=[am_alert(starts_at=rfc3339(future))])
    deliver(sb, firing)
    incident = the_incident(sb)
    milestones = incident["milestones"]
    assert milestones["impact_started_at"]["at"] == milestones["detected_at"]["at"]
    said = [e["text"] for e in incident["timeline"] if e["kind"] == "milestone"]
    assert any(
        re.match(rf"Impact start: Alertmanager's time {told_time(future)}", t)
        and t.endswith("is in the future; stamped at receipt")
        for t in said
    ), said

    ended = future - timedelta(hours=3)  # before the alert's own start (and in the past)
    deliver(sb, resolved(firing, ends_at=rfc3339(ended)))
    incident = the_incident(sb)
    (line,) = [e for e in incident["timeline"] if e["text"].startswith("✅ Resolved")]
    assert re.search(
        rf"Alertmanager's time {told_time(ended)} is before the alert's start", line["text"]
    )
    assert datetime.fromisoformat(line["at"]) <= datetime.now(UTC)

    # The mitigation offered is one the timeline accepts: not before the impact start.
    channel = incident["channel"]["id"]
    proposal = next(
        m
        for m in sb.slack.messages(channel)
        if any(bl.get("block_id") == "mitigation.actions" for bl in m.get("blocks") or [])
    )
    sb.slack.join(channel, people.alice)
    sb.slack.click_button(people.alice, channel, proposal["ts"], b.ACCEPT_MITIGATION)
    sb.settle()
    incident = the_incident(sb)
    assert incident["status"] == "monitoring"
    assert incident["milestones"]["mitigated_at"]["at"] >= milestones["impact_started_at"]["at"]
