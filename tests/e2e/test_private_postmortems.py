"""A private incident's post-mortem goes to Jira only under the issue security level the catalog
names (`postmortem.private.security_level`), on the post-mortem and on each follow-up; without
that setting nothing of it reaches Jira, the channel says why and which setting fixes it, and
`/incident postmortem export` is refused with the same reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, api, command, ephemerals

LEVEL = "Incident responders"


def sandbox(db_url: str, extra: dict[str, Any]) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock, catalog_extra=extra) as sb:
        sb.jira.add_security_level("OPS", "Everyone in engineering")
        sb.jira.add_security_level("OPS", LEVEL, "Only the incident's responders")
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


@pytest.fixture
def with_level(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    yield from sandbox(db_url, {"postmortem": {"private": {"security_level": LEVEL}}})


@pytest.fixture
def without_level(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    yield from sandbox(db_url, {})


def private_incident(sb: Sandbox, p: People, clock: ScriptedClock) -> str:
    """Declared through the form with *Private* ticked, a follow-up, resolved; its channel."""
    command(sb, p.alice, p.general, "declare")
    view = sb.slack.views(p.alice)[-1]
    title = "Leaked credentials in build logs"
    reply = sb.slack.submit_view(
        p.alice, view["id"], {"title": title, "severity": "SEV2", "private": ["private"]}
    )
    assert reply.status == 200, reply.body
    sb.settle()
    (listed,) = api(sb, "/api/incidents").json()["incidents"]
    incident = api(sb, f"/api/incidents/{listed['id']}").json()
    assert incident["private"] is True
    channel = str(incident["channel"]["id"])
    command(sb, p.alice, channel, "followup Rotate the CI tokens")
    clock.advance(minutes=30)
    command(sb, p.alice, channel, "resolve Tokens revoked")
    return channel


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def test_a_private_postmortem_and_its_followups_carry_the_security_level(
    with_level: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = with_level
    channel = private_incident(sb, p, clock)
    command(sb, p.alice, channel, "close")
    issues = sb.jira.issues()
    assert len(issues) == 2  # the post-mortem and its follow-up
    for issue in issues:
        security = issue["fields"]["security"]
        assert security is not None and security["name"] == LEVEL, issue["key"]
    created = [c for c in sb.jira.calls_to("POST issue")]
    assert created and all(c.json["fields"]["security"] == {"name": LEVEL} for c in created)
    assert any("Post-mortem drafted in Jira" in t for t in texts(sb, channel))


def test_without_the_setting_nothing_reaches_jira_and_the_channel_is_told_why(
    without_level: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = without_level
    channel = private_incident(sb, p, clock)

    command(sb, p.alice, channel, "postmortem export")
    refusal = ephemerals(sb, p.alice)[-1]
    assert "Not exported: this incident is private" in refusal
    assert "postmortem.private.security_level" in refusal
    assert sb.jira.issues() == []

    command(sb, p.alice, channel, "close")
    assert sb.jira.issues() == []
    assert sb.jira.calls_to("POST issue") == []
    (notice,) = [t for t in texts(sb, channel) if "Post-mortem drafted (not exported" in t]
    assert "this incident is private" in notice
    assert "postmortem.private.security_level" in notice
    assert "/incident postmortem" in notice
