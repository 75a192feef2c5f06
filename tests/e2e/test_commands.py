from __future__ import annotations

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, buttons, card, card_text, command, declare, ephemerals


def test_every_in_channel_command_updates_card_topic_timeline_and_milestones(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people)
    channel, incident_id = incident["channel"]["id"], incident["id"]
    card_ts = card(sb, incident)["ts"]
    command(sb, people.bob, channel, "comms")
    command(sb, people.alice, channel, f"scribe <@{people.carol}|carol>")
    command(sb, people.bob, channel, "commander")
    command(sb, people.bob, channel, "ack")
    command(sb, people.alice, channel, "status identified")
    command(sb, people.alice, channel, "severity sev1")
    command(sb, people.carol, channel, "note Rollback <!channel> started")
    command(sb, people.alice, channel, "status monitoring")
    command(sb, people.alice, channel, "resolve Rolled back to 1.2.2")
    after = api(sb, f"/api/incidents/{incident_id}").json()
    assert (
        after["status"] == "resolved"
        and after["severity"] == "SEV1"
        and after["summary"] == "Rolled back to 1.2.2"
    )
    assert after["roles"] == {"commander": people.bob, "comms": people.bob, "scribe": people.carol}
    stamps = after["milestones"]
    assert stamps["acknowledged_at"]["by"] == people.bob
    assert (
        stamps["mitigated_at"]["source"] == "chat" and stamps["resolved_at"]["by"] == people.alice
    )
    assert stamps["closed_at"] is None
    kinds = [e["kind"] for e in after["timeline"] if e["kind"] != "page"]
    assert kinds == [
        "declared",
        "role",
        "role",
        "role",
        "role",
        "acknowledged",
        "status",
        "severity",
        "note",
        "status",
        "resolved",
    ]
    note = next(e for e in after["timeline"] if e["kind"] == "note")
    assert (note["text"], note["actor"], note["source"]) == (
        "Rollback <!channel> started",
        people.carol,
        "chat",
    )

    # the card was updated in place, never re-posted
    message = card(sb, after)
    assert message["ts"] == card_ts
    assert {
        c.params["ts"] for c in sb.slack.calls_to("chat.update") if c.params["channel"] == channel
    } == {card_ts}
    text = card_text(message)
    assert (
        "Resolved" in text
        and "SEV1" in text
        and f"<@{people.carol}>" in text
        and "Rolled back to 1.2.2" in text
    )
    assert buttons(message) == ["Change status", "Change severity", "Claim commander", "Close"]
    assert sb.slack.topic(channel).startswith(f"🔴 SEV1 | Resolved | IC: <@{people.bob}>")
    lines = [
        m["text"]
        for m in sb.slack.messages(channel)
        if m.get("user") == sb.slack.bot_user_id and not m.get("blocks")
    ]
    assert any("Status: Investigating → Identified" in line for line in lines)
    assert any(
        "Rollback &lt;!channel&gt; started" in line for line in lines
    )  # user text is escaped

    command(sb, people.bob, channel, "close")
    closed = api(sb, f"/api/incidents/{incident_id}").json()
    assert closed["status"] == "closed" and closed["milestones"]["closed_at"]["by"] == people.bob
    assert buttons(card(sb, closed)) == []


def test_reopen_is_recorded_and_closing_unresolved_is_refused(sb: Sandbox, people: People) -> None:
    incident = declare(sb, people)
    channel = incident["channel"]["id"]
    command(sb, people.alice, channel, "close")
    assert any("Resolve it first" in e for e in ephemerals(sb, people.alice))
    command(sb, people.alice, channel, "resolve")
    command(sb, people.alice, channel, "status investigating")
    after = api(sb, f"/api/incidents/{incident['id']}").json()
    assert after["status"] == "investigating" and after["milestones"]["resolved_at"] is None
    assert [e["kind"] for e in after["timeline"] if e["kind"] != "page"][-2:] == [
        "resolved",
        "reopened",
    ]


def test_incident_commands_elsewhere_say_what_to_do(sb: Sandbox, people: People) -> None:
    for text in ("ack", "status identified", "note hi", "commander", "close"):
        command(sb, people.bob, people.general, text)
    errors = ephemerals(sb, people.bob)
    assert len(errors) == 5 and all("not an incident channel" in e for e in errors)
    assert api(sb, "/api/incidents").json()["incidents"] == []


def test_help_unknown_and_invalid_input_answer_in_the_ack(sb: Sandbox, people: People) -> None:
    for text in ("", "frobnicate", "status sideways", "commander bob"):
        command(sb, people.bob, people.general, text)
    seen = ephemerals(sb, people.bob)
    assert len(seen) == 4
    assert "Incident commands" in seen[0] and "`/incident declare [sev1..sev4] [title]`" in seen[0]
    assert seen[1].startswith("I don't know `frobnicate`") and "Incident commands" in seen[1]
    assert "Unknown status `sideways`" in seen[2]
    assert "Mention the person" in seen[3]


def test_list_shows_open_public_incidents(sb: Sandbox, people: People) -> None:
    first = declare(sb, people, "sev2 Checkout API returns 500s")
    command(sb, people.alice, first["channel"]["id"], "resolve")
    command(sb, people.alice, first["channel"]["id"], "close")
    declare(sb, people, "sev3 Search is slow")
    command(sb, people.bob, people.general, "list")
    listing = ephemerals(sb, people.bob)[-1]
    assert (
        "Search is slow" in listing
        and "Checkout" not in listing
        and "Open incidents (1)" in listing
    )


def test_an_internal_failure_reaches_the_user_and_leaves_nothing_half_done(
    sb: Sandbox, people: People
) -> None:
    from sqlalchemy import text

    incident = declare(sb, people)
    channel = incident["channel"]["id"]
    with sb.bot.db.engine.begin() as conn:  # the timeline table vanishes under the bot
        conn.execute(text("ALTER TABLE timeline_entry RENAME TO timeline_gone"))
    try:
        command(sb, people.bob, channel, "ack")
    finally:
        with sb.bot.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE timeline_gone RENAME TO timeline_entry"))
    assert any(
        e.startswith("Sorry, that failed inside incidentbot") for e in ephemerals(sb, people.bob)
    )
    after = api(sb, f"/api/incidents/{incident['id']}").json()
    assert after["milestones"]["acknowledged_at"] is None  # the whole change rolled back
    command(sb, people.bob, channel, "ack")  # and the same command works once the fault is gone
    assert (
        api(sb, f"/api/incidents/{incident['id']}").json()["milestones"]["acknowledged_at"]["by"]
        == people.bob
    )
