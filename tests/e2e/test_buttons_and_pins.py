from __future__ import annotations

from bot.adapters.slack import blocks as b
from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, card, card_text, declare, ephemerals


def click(sb: Sandbox, user: str, incident: dict[str, object], action: str) -> None:
    message = card(sb, incident)  # type: ignore[arg-type]
    reply = sb.slack.click_button(
        user,
        message["channel"] if "channel" in message else incident["channel"]["id"],
        message["ts"],
        action,
    )  # type: ignore[index]
    assert reply.status == 200, reply.body
    sb.settle()


def test_card_buttons_drive_the_incident(sb: Sandbox, people: People) -> None:
    incident = declare(sb, people)
    channel = incident["channel"]["id"]
    # A double click: the second click lands before the card has been redrawn without the button.
    sb.slack.fail("chat.postMessage", error=None, delay=1.0)  # a slow update line holds the lane
    message = card(sb, incident)
    for _ in range(2):
        assert sb.slack.click_button(people.bob, channel, message["ts"], b.ACK).status == 200
    sb.settle()
    assert any("Already acknowledged" in e for e in ephemerals(sb, people.bob))
    click(sb, people.carol, incident, b.CLAIM_COMMANDER)

    click(sb, people.alice, incident, b.CHANGE_STATUS)
    (view,) = sb.slack.views(people.alice)
    sb.slack.submit_view(people.alice, view["id"], {"status": "monitoring"})
    sb.settle()
    click(sb, people.alice, incident, b.CHANGE_SEVERITY)
    (view,) = sb.slack.views(people.alice)
    sb.slack.submit_view(people.alice, view["id"], {"severity": "SEV1"})
    sb.settle()
    click(sb, people.alice, incident, b.RESOLVE)
    click(sb, people.carol, incident, b.CLOSE)

    after = api(sb, f"/api/incidents/{incident['id']}").json()
    assert [e["kind"] for e in after["timeline"] if e["kind"] != "page"] == [
        "declared",
        "role",
        "acknowledged",
        "role",
        "status",
        "severity",
        "resolved",
        "closed",
        "postmortem",  # drafted into Jira by the close
    ]
    assert after["roles"]["commander"] == people.carol
    assert after["milestones"]["acknowledged_at"]["by"] == people.bob
    assert after["milestones"]["mitigated_at"]["by"] == people.alice
    assert "Closed" in card_text(card(sb, after))
    assert sb.slack.topic(channel).startswith(f"🔴 SEV1 | Closed | IC: <@{people.carol}>")


def test_pushpin_puts_a_message_on_the_timeline_and_removing_it_takes_it_off(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people)
    channel = incident["channel"]["id"]
    sb.slack.join(channel, people.carol)
    ts = sb.slack.post_user_message(
        people.carol, channel, "p99 latency doubled right after deploy 1.2.3"
    )
    reply = sb.slack.add_reaction(people.bob, channel, ts, "pushpin")
    assert reply.status == 200
    # Slack re-sends the event when it thinks we were slow: same event id, one entry
    sb.slack.send_event(
        reply.payload["event"], event_id=reply.event_id, retry_num=1, retry_reason="http_timeout"
    )
    sb.slack.add_reaction(people.bob, channel, ts, "eyes")  # not a pin
    sb.settle()
    timeline = api(sb, f"/api/incidents/{incident['id']}").json()["timeline"]
    (pin,) = [e for e in timeline if e["kind"] == "pin"]
    assert pin["text"] == "p99 latency doubled right after deploy 1.2.3"
    assert pin["actor"] == people.bob and pin["data"]["author"] == people.carol
    assert pin["data"]["permalink"].endswith("/p" + ts.replace(".", ""))
    sb.slack.remove_reaction(people.bob, channel, ts, "pushpin")
    sb.settle()
    timeline = api(sb, f"/api/incidents/{incident['id']}").json()["timeline"]
    assert [e for e in timeline if e["kind"] == "pin"] == []


def test_pins_outside_incident_channels_are_ignored(sb: Sandbox, people: People) -> None:
    sb.slack.join(people.general, sb.slack.bot_user_id)  # else Slack sends the bot no event at all
    ts = sb.slack.post_user_message(people.carol, people.general, "lunch?")
    assert sb.slack.add_reaction(people.bob, people.general, ts, "pushpin").status == 200
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []
