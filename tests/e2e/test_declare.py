from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, buttons, card, card_text, command, declare, ephemerals


def test_declare_with_text_opens_the_channel_card_topic_and_announcement(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people)
    today = datetime.now(UTC).strftime("%Y%m%d")
    channel = sb.slack.channel(incident["channel"]["id"])
    assert channel["name"] == f"inc-{today}-checkout-api-returns-500s"
    assert not channel["is_private"]
    assert people.alice in sb.slack.members(channel["id"])
    assert (
        sb.slack.topic(channel["id"])
        == f"🟠 SEV2 | Investigating | IC: <@{people.alice}> | Checkout API returns 500s"
    )
    message = card(sb, incident)
    assert message["pinned_to"] == [channel["id"]]
    text = card_text(message)
    assert "SEV2 · Checkout API returns 500s" in text
    assert (
        "Investigating" in text and f"<@{people.alice}>" in text and "*Declared:* <!date^" in text
    )
    assert buttons(message) == [
        "Acknowledge",
        "Change status",
        "Change severity",
        "Claim commander",
        "Resolve",
    ]
    (announcement,) = sb.slack.messages(sb.feed_id)
    assert f"<#{channel['id']}>" in card_text(announcement)
    assert any(f"<#{channel['id']}>" in e for e in ephemerals(sb, people.alice))
    assert incident["severity"] == "SEV2" and incident["status"] == "investigating"
    stamps = incident["milestones"]
    assert (
        stamps["declared_at"]["at"]
        == stamps["detected_at"]["at"]
        == stamps["impact_started_at"]["at"]
    )
    assert stamps["declared_at"]["source"] == "chat" and stamps["declared_at"]["by"] == people.alice
    assert datetime.fromisoformat(stamps["declared_at"]["at"]).tzinfo is not None
    assert incident["roles"] == {"commander": people.alice}


def test_declare_without_text_opens_the_form_and_a_private_incident_stays_private(
    sb: Sandbox, people: People
) -> None:
    command(sb, people.alice, people.general, "declare")
    (view,) = sb.slack.views(people.alice)
    impact = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=25)
    reply = sb.slack.submit_view(
        people.alice,
        view["id"],
        {
            "title": "Leaked API keys in logs",
            "severity": "SEV1",
            "description": "Keys visible in the log pipeline.",
            "impact_started_at": int(impact.timestamp()),
            "private": ["private"],
        },
    )
    assert reply.status == 200
    sb.settle()
    (summary,) = api(sb, "/api/incidents").json()["incidents"]
    incident = api(sb, f"/api/incidents/{summary['id']}").json()
    assert (
        incident["private"] is True
        and incident["description"] == "Keys visible in the log pipeline."
    )
    assert datetime.fromisoformat(incident["milestones"]["impact_started_at"]["at"]) == impact
    assert sb.slack.channel(incident["channel"]["id"])["is_private"]
    assert sb.slack.messages(sb.feed_id) == []  # no public announcement
    assert "🔒 Private incident" in card_text(card(sb, incident))


def test_form_refuses_an_impact_start_in_the_future(sb: Sandbox, people: People) -> None:
    command(sb, people.alice, people.general, "declare sev3")
    (view,) = sb.slack.views(people.alice)
    later = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    reply = sb.slack.submit_view(
        people.alice, view["id"], {"title": "x", "severity": "SEV3", "impact_started_at": later}
    )
    assert reply.view_errors == {"impact": "Impact can't start in the future."}
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []


def test_a_taken_name_gets_a_suffix(sb: Sandbox, people: People) -> None:
    today = datetime.now(UTC).strftime("%Y%m%d")
    sb.slack.add_channel(f"inc-{today}-checkout-api-returns-500s")
    sb.slack.add_channel(f"inc-{today}-checkout-api-returns-500s-2")
    incident = declare(sb, people)
    assert incident["channel"]["name"] == f"inc-{today}-checkout-api-returns-500s-3"
    errors = [c.error for c in sb.slack.calls_to("conversations.create")]
    assert errors == ["name_taken", "name_taken", None]


def test_long_and_strange_titles_still_make_a_valid_channel(sb: Sandbox, people: People) -> None:
    title = "Ünïcode <!channel> & " + "very long title " * 12
    incident = declare(sb, people, f"sev4 {title[:150]}")
    assert re.fullmatch(r"[a-z0-9_-]{1,80}", incident["channel"]["name"])
    message = card(sb, incident)
    # mrkdwn would ping everyone: user text there is escaped (plain_text fields never parse it)
    mrkdwn = [t for t in _texts(message["blocks"]) if t.get("type") == "mrkdwn"]
    assert mrkdwn and not any("<!channel>" in t["text"] for t in mrkdwn)
    (announcement,) = sb.slack.messages(sb.feed_id)
    assert "&lt;!channel&gt;" in str(announcement["blocks"]) and "<!channel>" not in str(
        announcement["blocks"]
    )


def _texts(node: object) -> list[dict[str, str]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") in ("mrkdwn", "plain_text") else []
        return found + [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_a_slack_failure_during_declaration_loses_nothing(sb: Sandbox, people: People) -> None:
    sb.slack.fail("chat.postMessage", status=500, times=1)
    incident = declare(sb, people)
    channel = incident["channel"]["id"]
    assert channel is not None  # the channel was made; the card post failed
    assert not any("card.header" in str(m) for m in sb.slack.messages(channel))
    time.sleep(1.1)  # the first retry is due after 1 s; then sweep as the in-process scheduler does
    sb.bot.runner.sweep()
    assert card(sb, incident)
    assert len(sb.slack.messages(sb.feed_id)) == 1
