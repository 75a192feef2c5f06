"""User text reaches Slack inert on every path: the injection set (`<!channel>`, `<!here>`,
`<@U…>`, `<https://…|…>` …) typed as an incident's title, description, notes, resolution
summary, follow-ups, a role argument and a message pinned or turned into a follow-up comes back
escaped in every Web API call the bot makes with it — messages and their updates, the channel
topic, modals, ephemeral and response_url replies — as the Slack emulator recorded them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack import modals
from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, api, command
from tests.e2e.hostile import MESSAGE_METHODS, SLACK_MARKUP, STRING_ARGUMENTS, slack_leaks

INJECTION = " ".join(SLACK_MARKUP)  # every kind of live markup at once
ESCAPED = "&lt;!channel&gt;"  # what the first of them must look like wherever it arrives


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock) as sb:
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def carried(sb: Sandbox, method: str) -> bool:
    """Some call to `method` carried the user's text (escaped, as it must)."""
    for call in sb.slack.calls_to(method):
        shown = (
            call.params.get(STRING_ARGUMENTS[method])
            if method in STRING_ARGUMENTS
            else json.dumps({k: call.params.get(k) for k in ("text", "blocks", "view")})
        )
        if isinstance(shown, str) and ESCAPED in shown:
            return True
    return False


def replied(sb: Sandbox, source: str) -> list[str]:
    return [
        json.dumps({k: e.get(k) for k in ("text", "blocks")})
        for e in sb.slack.ephemerals()
        if e.get("source") == source
    ]


def test_the_injection_set_stays_inert_in_every_slack_method_the_bot_calls(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    slack = sb.slack
    command(sb, p.alice, p.general, "declare")
    form = slack.views(p.alice)[-1]
    reply = slack.submit_view(
        p.alice,
        form["id"],
        {"title": f"Checkout down {INJECTION}"[:150], "severity": "SEV2", "description": INJECTION},
    )
    assert reply.status == 200, reply.body
    sb.settle()
    (listed,) = api(sb, "/api/incidents").json()["incidents"]
    incident: dict[str, Any] = api(sb, f"/api/incidents/{listed['id']}").json()
    channel = incident["channel"]["id"]
    slack.join(channel, p.alice)
    slack.join(channel, p.bob)

    command(sb, p.alice, channel, f"note {INJECTION}")
    command(sb, p.alice, channel, f"followup {INJECTION} <@{p.bob}|bob>")
    command(sb, p.alice, channel, f"comms {INJECTION}")  # not a user: refused, the text echoed?
    ts = slack.post_user_message(p.alice, channel, f"pinned {INJECTION}")
    slack.add_reaction(p.alice, channel, ts, "pushpin")
    sb.settle()
    slack.message_shortcut(p.alice, channel, ts, modals.ADD_FOLLOWUP_SHORTCUT)
    sb.settle()
    command(sb, p.alice, channel, "playbook database-failover")  # posts to the feed at 10 min
    clock.advance(minutes=11)
    sb.bot.timers.fire_due()
    sb.bot.flows.deliver(1)
    sb.settle()
    assert any(ESCAPED in str(m.get("text")) for m in slack.messages(sb.feed_id))
    command(sb, p.alice, channel, "followups")
    command(sb, p.alice, p.general, "list")
    command(sb, p.alice, channel, f"resolve {INJECTION}")
    command(sb, p.alice, channel, "postmortem")

    leaks = [str(leak) for leak in slack_leaks(sb)]
    assert leaks == [], "\n".join(leaks)
    # Each path did carry the user's text, so a path that stopped escaping would show below.
    for method in ("chat.postMessage", "chat.update", "conversations.setTopic"):
        assert carried(sb, method), f"{method} never carried the user's text"
    assert any(ESCAPED in r for r in replied(sb, "response_url")), "no response_url reply"
    called = {c.method for c in slack.calls}
    assert "views.open" in called
    assert called & (MESSAGE_METHODS | set(STRING_ARGUMENTS)) >= {
        "chat.postMessage",
        "chat.update",
        "conversations.setTopic",
        "views.open",
    }

    topic = slack.topic(channel)
    assert ESCAPED in topic and "<!channel>" not in topic and "<https://evil" not in topic
