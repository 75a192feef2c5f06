"""A sandbox with the people privacy is about: the commander who declares a private incident
(alice), a responder she lets into its channel (bob), a catalog admin who is not in it (erin)
and someone in neither (dave); and the ways to declare private and public incidents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import api, command


@dataclass
class Cast:
    alice: str  # declares, so commands
    bob: str  # a member of the private channel, not its commander
    dave: str  # neither member nor admin
    erin: str  # a catalog admin, not a member
    general: str


@pytest.fixture
def cast_sb(db_url: str) -> Iterator[tuple[Sandbox, Cast]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    sb = Sandbox(db_url, clock=clock)  # sb.clock: playbook steps come due when told
    dave = sb.slack.add_user("dave")
    erin = sb.slack.add_user("erin")
    sb.catalog_extra = {"admins": [erin]}  # read when the sandbox starts
    with sb:
        general = sb.slack.channel_by_name("general")
        assert general is not None
        for user in (dave, erin):  # everyone reads #general and the feed
            sb.slack.join(general["id"], user)
            sb.slack.join(sb.feed_id, user)
        cast = Cast(sb.slack.user_id("alice"), sb.slack.user_id("bob"), dave, erin, general["id"])
        yield sb, cast


def declare_private(sb: Sandbox, cast: Cast, title: str, severity: str = "SEV2") -> dict[str, Any]:
    """Alice declares through the form with *Private* ticked and makes bob comms lead, which
    brings him into the private channel."""
    before = {i["id"] for i in api(sb, "/api/incidents").json()["incidents"]}
    command(sb, cast.alice, cast.general, "declare")
    view = sb.slack.views(cast.alice)[-1]
    reply = sb.slack.submit_view(
        cast.alice, view["id"], {"title": title, "severity": severity, "private": ["private"]}
    )
    assert reply.status == 200, reply.body
    sb.settle()
    (new,) = [i for i in api(sb, "/api/incidents").json()["incidents"] if i["id"] not in before]
    incident: dict[str, Any] = api(sb, f"/api/incidents/{new['id']}").json()
    assert incident["private"] is True and sb.slack.channel(incident["channel"]["id"])["is_private"]
    channel = incident["channel"]["id"]
    command(sb, cast.alice, channel, f"comms <@{cast.bob}|bob>")
    assert cast.bob in sb.slack.members(channel) and cast.dave not in sb.slack.members(channel)
    return incident


def declare_public(sb: Sandbox, cast: Cast, title: str) -> dict[str, Any]:
    before = {i["id"] for i in api(sb, "/api/incidents").json()["incidents"]}
    command(sb, cast.alice, cast.general, f"declare sev3 {title}")
    (new,) = [i for i in api(sb, "/api/incidents").json()["incidents"] if i["id"] not in before]
    return api(sb, f"/api/incidents/{new['id']}").json()  # type: ignore[no-any-return]


def tick(sb: Sandbox, minutes: float) -> None:
    """Time passes: due timers fire and their effects are delivered."""
    assert isinstance(sb.clock, ScriptedClock)
    sb.clock.advance(minutes=minutes)
    sb.bot.timers.fire_due()
    sb.bot.runner.sweep()
    sb.settle()


def feed_text(sb: Sandbox) -> str:
    """Everything the feed channel shows: message texts and block texts."""
    parts: list[str] = []
    for message in sb.slack.messages(sb.feed_id):
        parts.append(str(message.get("text") or ""))
        parts.append(repr(message.get("blocks") or []))
    return "\n".join(parts)
