"""The scheduler's reminders as the channel sees them, with a scripted clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.slack import blocks as b
from bot.flows.timers import STATUS_UPDATE
from bot.sandbox import Sandbox, ScriptedClock
from bot.store import timers as store
from tests.e2e.conftest import People, ephemerals


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock) as sandbox:
        yield sandbox, clock


def test_status_update_reminder_mentions_the_commander_and_snoozes(
    clocked: tuple[Sandbox, ScriptedClock],
) -> None:
    sb, clock = clocked
    people = People(
        *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
        sb.slack.channel_by_name("general")["id"],
    )  # type: ignore[index]
    sb.slack.send_command(people.alice, people.general, "declare sev1 Payments failing")
    sb.settle()
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    clock.advance(minutes=15)
    assert sb.bot.timers.fire_due() == 2  # the status update, and the page nobody acknowledged
    sb.bot.flows.deliver(1)
    (reminder,) = [
        m
        for m in sb.slack.messages(incident.conversation_id)
        if "time for a status update" in m.get("text", "")
    ]
    assert reminder["text"].startswith(f"⏰ <@{people.alice}>: time for a status update")
    sb.slack.join(incident.conversation_id, people.alice)
    assert (
        sb.slack.click_button(
            people.alice, incident.conversation_id, reminder["ts"], f"{b.SNOOZE}.30", value="1|30"
        ).status
        == 200
    )
    sb.settle()
    assert ephemerals(sb, people.alice)[-1] == "Next status-update reminder in 30 min."
    with sb.bot.db.read() as session:
        (timer,) = [
            t for t in store.pending(session=session, incident_id=1) if t.kind == STATUS_UPDATE
        ]
    assert timer.due_at == clock.now() + timedelta(minutes=30)


def test_an_unacknowledged_page_pages_again_and_an_ack_stops_it(
    clocked: tuple[Sandbox, ScriptedClock],
) -> None:
    sb, clock = clocked
    alice = sb.slack.user_id("alice")
    general = sb.slack.channel_by_name("general")["id"]  # type: ignore[index]
    for title in ("Payments failing", "Search down"):
        sb.slack.send_command(alice, general, f"declare sev1 {title}")
        sb.settle()
    pd = sb.pagerduty
    assert len(pd.incidents()) == 2
    sb.slack.join(sb.bot.flows.incident(2).conversation_id or "", alice)  # type: ignore[union-attr]
    sb.slack.send_command(alice, sb.bot.flows.incident(2).conversation_id or "", "ack")  # type: ignore[union-attr]
    sb.settle()
    clock.advance(minutes=10)
    sb.bot.timers.fire_due()
    for incident_id in (1, 2):
        sb.bot.flows.deliver(incident_id)
    (request,) = pd.calls_to(
        "POST /incidents/{id}/responder_requests"
    )  # only the unacknowledged one
    target = request.json["responder_request_targets"][0]["responder_request_target"]
    assert target["id"] == pd.escalation_policy_id("checkout-api")
    first = sb.bot.flows.incident(1)
    assert first is not None and first.conversation_id
    assert any(
        "not acknowledged 10 min after the page" in m.get("text", "")
        for m in sb.slack.messages(first.conversation_id)
    )
