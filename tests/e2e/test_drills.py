"""Game days: /incident drill <playbook> runs a practice incident that looks real inside its
channel and nowhere else — no page, no announcement, no metrics, no Jira — and reports at the end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, api, command, ephemerals


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock) as sb:
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def tick(sb: Sandbox, clock: ScriptedClock, minutes: float) -> None:
    clock.advance(minutes=minutes)
    sb.bot.timers.fire_due()
    sb.bot.flows.deliver(1)
    sb.settle()


def test_a_drill_simulates_alerts_and_the_ack_and_reports(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    command(sb, p.alice, p.general, "drill high-error-rate")
    assert "Drill of high-error-rate started" in ephemerals(sb, p.alice)[-1]
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.drill and incident.conversation_id
    channel = incident.conversation_id
    assert sb.slack.channel(channel)["name"].startswith("drill-")  # type: ignore[index]
    assert incident.severity == "SEV2"
    tick(sb, clock, 0)
    tick(sb, clock, 3)  # the simulated on-call acknowledges at 3 min
    tick(sb, clock, 1)  # the second alert at 4 min
    messages = sb.slack.messages(channel, system=False)
    texts = [str(m.get("text", "")) for m in messages]
    assert any("Simulated alert firing: CheckoutHigh5xx" in t for t in texts)
    assert any("Simulated alert firing: CheckoutErrorBudgetBurn" in t for t in texts)
    lines = [str(m["text"]) for m in messages if not m.get("blocks")]  # not the card, checklist
    assert lines and all(t.startswith("🧪 *[DRILL]* ") for t in lines), lines
    stamps = sb.bot.flows.stamps(1)
    assert {m.value for m in stamps} >= {"acknowledged_at"}
    # Nothing outside the channel: no page, no announcement
    assert sb.pagerduty.incidents() == []
    assert sb.slack.messages(sb.feed_id, system=False) == []
    sb.slack.join(channel, p.alice)
    clock.advance(minutes=10)
    command(sb, p.alice, channel, "resolve Drill over")
    (report,) = [
        t
        for t in (str(m.get("text", "")) for m in sb.slack.messages(channel))
        if "Drill report" in t
    ]
    assert "acknowledged after 3m 00s" in report and "resolved after 14m 00s" in report
    assert "Steps:" in report
    command(sb, p.alice, channel, "close")
    assert sb.jira.issues() == []  # never a real post-mortem
    assert api(sb, "/api/incidents/1").json()["drill"] is True  # left out of every metric


def test_an_unknown_playbook_is_a_clear_answer(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, _clock, p = clocked
    command(sb, p.alice, p.general, "drill nope")
    assert "No playbook `nope` to drill" in ephemerals(sb, p.alice)[-1]
    command(sb, p.alice, p.general, "drill")
    assert "Which playbook?" in ephemerals(sb, p.alice)[-1]
