"""Follow-ups end to end: typed, listed, made from a message, reminded to their owner directly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.adapters.slack import modals
from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, command, ephemerals


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    clock = ScriptedClock(start)
    with Sandbox(db_url, clock=clock) as sb:
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def channel_of(sb: Sandbox, people: People) -> str:
    command(sb, people.alice, people.general, "declare sev3 Search is slow")
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    sb.slack.join(incident.conversation_id, people.alice)
    sb.slack.join(incident.conversation_id, people.bob)
    return incident.conversation_id


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def test_followups_typed_listed_and_reminded_in_a_direct_message(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, people = clocked
    channel = channel_of(sb, people)
    command(
        sb,
        people.alice,
        channel,
        f"followup Add an index on <orders>.created_at <@{people.bob}|bob> due 2026-11-30",
    )
    command(sb, people.alice, channel, "followup Write the search capacity plan")
    assert any("Add an index on &lt;orders&gt;.created_at" in t for t in texts(sb, channel))
    command(sb, people.bob, channel, "followups")
    listing = ephemerals(sb, people.bob)[-1]
    assert (
        f"#1 Add an index on &lt;orders&gt;.created_at — <@{people.bob}> · due 2026-11-30"
        in listing
    )
    assert "#2 Write the search capacity plan — _no owner_" in listing
    # Bad input: a clear answer, nothing stored
    command(sb, people.alice, channel, "followup Fix it due 2026-13-01")
    assert "is not a date" in ephemerals(sb, people.alice)[-1]
    command(sb, people.alice, channel, "followup Fix it due 2026-11-01")
    assert "in the past" in ephemerals(sb, people.alice)[-1]
    command(sb, people.alice, channel, "followups")
    assert "#3" not in ephemerals(sb, people.alice)[-1]

    # Resolved and closed: the follow-up's reminders still come, to the owner directly
    command(sb, people.alice, channel, "resolve")
    command(sb, people.alice, channel, "close")
    clock.advance(days=3)  # 2026-11-29 10:00: due tomorrow
    sb.bot.timers.fire_due()
    sb.bot.flows.deliver(1)

    def dms() -> list[str]:
        return [str(m.get("text", "")) for m in sb.slack.direct_messages(people.bob)]

    assert [t for t in dms() if "is due tomorrow (2026-11-30)" in t]
    clock.advance(days=2)  # 2026-12-01 10:00: overdue
    sb.bot.timers.fire_due()
    sb.bot.flows.deliver(1)
    assert [t for t in dms() if "was due yesterday (2026-11-30)" in t]
    assert sb.bot.timers.fire_due() == 0  # each reminder once


def test_add_followup_from_a_message_shortcut(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, _clock, people = clocked
    channel = channel_of(sb, people)
    ts = sb.slack.post_user_message(
        people.bob, channel, "We should alert on queue depth, not only latency"
    )
    reply = sb.slack.message_shortcut(people.alice, channel, ts, modals.ADD_FOLLOWUP_SHORTCUT)
    assert reply.status == 200
    sb.settle()
    (form,) = sb.slack.views(people.alice)
    assert form["blocks"][0]["element"]["initial_value"].startswith("We should alert on queue")
    sb.slack.submit_view(
        people.alice,
        form["id"],
        {"text": "Alert on queue depth", "owner": people.carol, "due": "2026-12-10"},
    )
    sb.settle()
    _incident, rows = sb.bot.flows.followups(channel)
    (row,) = rows
    assert (row.text, row.owner, str(row.due_on), row.source) == (
        "Alert on queue depth",
        people.carol,
        "2026-12-10",
        "shortcut",
    )
    assert row.permalink and ts.replace(".", "") in row.permalink
    # Outside an incident channel the shortcut explains itself
    general_ts = sb.slack.post_user_message(people.bob, people.general, "lunch?")
    sb.slack.message_shortcut(
        people.alice, people.general, general_ts, modals.ADD_FOLLOWUP_SHORTCUT
    )
    sb.settle()
    assert "incident channel" in ephemerals(sb, people.alice)[-1]
