"""The sandbox runs the scheduler in its own process, as `serve` does: a reminder that falls due
reaches the channel with nobody calling it (the clock is scripted here only to skip 15 minutes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot.sandbox import Sandbox, ScriptedClock

WAIT = 60.0


def test_a_due_status_update_reminder_is_posted_by_the_in_process_scheduler(db_url: str) -> None:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    with Sandbox(db_url, clock=clock, in_process_scheduler=True) as sb:
        alice = sb.slack.user_id("alice")
        general = sb.slack.channel_by_name("general")
        assert general is not None
        reply = sb.slack.send_command(alice, general["id"], "declare sev1 Payments failing")
        assert reply.status == 200
        sb.settle()
        incident = sb.bot.flows.incident(1)
        assert incident is not None and incident.conversation_id
        channel = incident.conversation_id
        clock.advance(minutes=16)
        deadline = time.monotonic() + WAIT
        while not any(
            "time for a status update" in m.get("text", "") for m in sb.slack.messages(channel)
        ):
            assert time.monotonic() < deadline, "the scheduler posted no reminder"
            time.sleep(0.1)
