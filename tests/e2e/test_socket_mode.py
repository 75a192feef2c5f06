"""The bot in Socket Mode (SLACK_APP_TOKEN, no signing secret), as `serve` runs it with Bolt's
SocketModeHandler: the emulator sends every command, click, form and event down the WebSocket
and nothing over HTTP, and the main scenarios work as they do over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.adapters.slack import blocks as b
from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, buttons, card, command, declare
from tests.e2e.processes import postgres_url, started_rig, wait_for


def kinds(sb: Sandbox) -> list[str]:
    return [e["type"] for e in sb.slack.socket_envelopes]


def test_declare_by_text_over_the_socket(socket_sb: Sandbox, socket_people: People) -> None:
    sb, p = socket_sb, socket_people
    incident = declare(sb, p)
    assert kinds(sb) == ["slash_commands"]
    assert incident["severity"] == "SEV2" and incident["title"] == "Checkout API returns 500s"
    channel = sb.slack.channel(incident["channel"]["id"])
    assert channel is not None and p.alice in sb.slack.members(channel["id"])
    assert "Acknowledge" in buttons(card(sb, incident))
    assert [a["counted"] for a in sb.slack.socket_acks] == [True]
    # Slack over HTTP is off: the endpoint could verify nothing without a signing secret
    assert httpx.post(f"{sb.url}/slack/events", content=b"{}", timeout=5).status_code == 503


def test_declare_with_the_form_over_the_socket(socket_sb: Sandbox, socket_people: People) -> None:
    sb, p = socket_sb, socket_people
    command(sb, p.alice, p.general, "declare")  # the bot opens the form with the trigger_id
    (view,) = sb.slack.views(p.alice)
    reply = sb.slack.submit_view(
        p.alice,
        view["id"],
        {"title": "Search is slow", "severity": "SEV3", "description": "p99 at 4 s."},
    )
    assert reply.status == 200 and reply.error is None, reply.body
    sb.settle()
    assert sb.slack.views(p.alice) == []  # the ack closed it
    assert kinds(sb) == ["slash_commands", "interactive"]
    (summary,) = api(sb, "/api/incidents").json()["incidents"]
    incident = api(sb, f"/api/incidents/{summary['id']}").json()
    assert (incident["title"], incident["severity"]) == ("Search is slow", "SEV3")
    assert incident["description"] == "p99 at 4 s."


def test_a_card_button_over_the_socket(socket_sb: Sandbox, socket_people: People) -> None:
    sb, p = socket_sb, socket_people
    incident = declare(sb, p)
    message = card(sb, incident)
    reply = sb.slack.click_button(p.bob, incident["channel"]["id"], message["ts"], b.ACK)
    assert reply.status == 200, reply.error
    sb.settle()
    after = api(sb, f"/api/incidents/{incident['id']}").json()
    assert after["milestones"]["acknowledged_at"]["by"] == p.bob
    assert kinds(sb) == ["slash_commands", "interactive"]


def test_a_pushpin_reaction_over_the_socket_once_even_when_slack_retries(
    socket_sb: Sandbox, socket_people: People
) -> None:
    sb, p = socket_sb, socket_people
    incident = declare(sb, p)
    channel = incident["channel"]["id"]
    sb.slack.join(channel, p.carol)
    ts = sb.slack.post_user_message(p.carol, channel, "error rate back to 0.1%")
    reply = sb.slack.add_reaction(p.bob, channel, ts, "pushpin")
    assert reply is not None and reply.status == 200, reply
    # Slack retries an event it thinks was lost: the same event_id in a new envelope
    again = sb.slack.send_event(
        reply.payload["event"], event_id=reply.event_id, retry_num=1, retry_reason="timeout"
    )
    assert again.status == 200
    sb.settle()
    timeline = api(sb, f"/api/incidents/{incident['id']}").json()["timeline"]
    (pin,) = [e for e in timeline if e["kind"] == "pin"]
    assert pin["text"] == "error rate back to 0.1%" and pin["actor"] == p.bob
    pins = [e for e in sb.slack.socket_envelopes if e["payload"].get("event_id") == reply.event_id]
    assert [e["retry_attempt"] for e in pins] == [0, 1]


def test_a_real_serve_process_in_socket_mode_reconnects_after_kill_9(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`incidentbot serve` with SLACK_APP_TOKEN and no signing secret, as a real process: it
    connects, declares, dies (kill -9: Slack cannot dispatch to it), and its successor
    connects through a new ticket and carries on."""
    with started_rig(postgres_url(request), tmp_path, socket_mode=True) as rig:
        first = rig.serve("serve-1")
        rig.ready(first)
        rig.connected(1)
        reply = rig.slack.send_command(rig.alice, rig.general, "declare sev2 Checkout down")
        assert reply.status == 200, (reply.error, rig.logs())
        assert wait_for(lambda: rig.settled(1), 30), rig.logs()

        first.kill()
        rig.connected(0)
        down = rig.slack.send_command(rig.alice, rig.general, "declare sev2 Nobody home")
        assert down.status == 0 and str(down.error).startswith("dispatch_failed")

        second = rig.serve("serve-2")
        rig.ready(second)
        rig.connected(1)
        reply = rig.slack.send_command(rig.alice, rig.general, "declare sev2 Payments down")
        assert reply.status == 200, (reply.error, rig.logs())
        assert wait_for(lambda: rig.settled(2), 30), rig.logs()
        assert [i.title for i in rig.incidents()] == ["Checkout down", "Payments down"]
        assert len(rig.slack.calls_to("apps.connections.open")) == 2
