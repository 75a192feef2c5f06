"""The Slack emulator's control API (/_emulator/): a remote client acts as a named user and is
told what that user saw change. Driven over real HTTP, against a tiny stdlib "bot" that answers
what each test scripts and calls the Web API back with slack_sdk, like Bolt listeners do."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from slack_sdk import WebClient

from bot.emulators.slack import SlackEmulator

Script = Callable[[dict[str, Any], WebClient], Any]  # a request's payload → the bot's answer
CARD = [
    {"type": "section", "block_id": "card.text", "text": {"type": "mrkdwn", "text": "Card"}},
    {
        "type": "actions",
        "block_id": "card.actions",
        "elements": [
            {
                "type": "button",
                "action_id": "incident.ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "1",
            }
        ],
    },
]
FORM = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": [
                    {"text": {"type": "plain_text", "text": "🔴 Critical"}, "value": "SEV1"},
                    {"text": {"type": "plain_text", "text": "🟡 Minor"}, "value": "SEV3"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "impact",
            "label": {"type": "plain_text", "text": "Impact started"},
            "element": {"type": "datetimepicker", "action_id": "impact_started_at"},
            "optional": True,
        },
        {
            "type": "input",
            "block_id": "private",
            "label": {"type": "plain_text", "text": "Visibility"},
            "element": {
                "type": "checkboxes",
                "action_id": "private",
                "options": [
                    {"text": {"type": "plain_text", "text": "Private"}, "value": "private"}
                ],
            },
            "optional": True,
        },
    ],
}


class ScriptedBot:
    """Answers every request Slack sends with ``script(payload, client)``; keeps the payloads."""

    def __init__(self, emu: SlackEmulator) -> None:
        self.client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        self.script: Script = lambda payload, client: None
        self.received: list[dict[str, Any]] = []
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers["Content-Type"].startswith("application/json"):
                    payload = json.loads(raw)
                else:
                    form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
                    payload = json.loads(form["payload"]) if "payload" in form else form
                bot.received.append(payload)
                answer = bot.script(payload, bot.client)
                body = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.received if p.get("type") == kind or p.get("command") == kind]


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def bot(emu: SlackEmulator) -> Iterator[ScriptedBot]:
    scripted = ScriptedBot(emu)
    emu.bot_url = scripted.url
    yield scripted
    scripted.server.shutdown()


@pytest.fixture
def incidents(emu: SlackEmulator) -> str:
    return emu.add_channel("incidents", members=[emu.bot_user_id, emu.user_id("alice")])


def control(
    emu: SlackEmulator, endpoint: str, body: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {kw.pop('secret', emu.signing_secret)}"}
    url = f"{emu.url}/_emulator/{endpoint}"
    if body is None:
        return httpx.get(url, params=kw, headers=headers, timeout=30)
    return httpx.post(url, json={"quiet": 0.2, **body}, headers=headers, timeout=30)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def post_card(bot: ScriptedBot, channel: str) -> str:
    return str(bot.client.chat_postMessage(channel=channel, text="card", blocks=CARD)["ts"])


# ------------------------------------------------------------------------------ access
def test_only_a_client_holding_the_signing_secret_may_act(
    emu: SlackEmulator, bot: ScriptedBot
) -> None:
    unsigned = httpx.post(f"{emu.url}/_emulator/message", json={"as": "alice", "text": "hi"})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "not_authed"
    for wrong in ("nope", emu.bot_token):
        refused = control(emu, "message", {"as": "alice", "text": "hi"}, secret=wrong)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_auth"
    general = emu.channel_by_name("general")
    assert general is not None and emu.messages(general["id"]) == []
    assert emu.calls == []  # the control API is not part of the Web API's call record


def test_unknown_endpoints_bodies_and_users_get_an_error_that_says_what_there_is(
    emu: SlackEmulator, bot: ScriptedBot
) -> None:
    missing = control(emu, "teleport", {"as": "alice"})
    assert missing.status_code == 404 and "POST /_emulator/click" in missing.json()["detail"]
    garbled = httpx.post(
        f"{emu.url}/_emulator/message",
        content=b"[1, 2",
        headers={"Authorization": f"Bearer {emu.signing_secret}"},
    )
    assert garbled.status_code == 400 and garbled.json()["error"] == "invalid_json"
    stranger = control(emu, "message", {"as": "zed", "text": "hi"})
    assert stranger.status_code == 404
    assert stranger.json()["error"] == "unknown_user" and "alice" in stranger.json()["detail"]
    nowhere = control(emu, "message", {"as": "alice", "text": "hi", "channel": "#nowhere"})
    assert nowhere.json()["error"] == "channel_not_found" and "#general" in nowhere.json()["detail"]


# ----------------------------------------------------------------------------- actions
def test_a_command_answers_the_reply_only_the_user_sees_and_the_messages_the_bot_posted(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    def declare(payload: dict[str, Any], client: WebClient) -> Any:
        client.chat_postMessage(channel=incidents, text=f"<@{payload['user_id']}> declared")
        return {"text": f"Declared: {payload['text']}"}

    bot.script = declare
    seen = ok(control(emu, "command", {"as": "alice", "text": "/incident declare db down"}))

    (sent,) = bot.of_type("/incident")
    assert sent["text"] == "declare db down" and sent["user_id"] == emu.user_id("alice")
    assert seen["reply"]["body"] == {"text": "Declared: declare db down"}
    assert [e["text"] for e in seen["ephemerals"]] == ["Declared: declare db down"]
    (posted,) = seen["messages"]
    assert posted["channel"] == incidents and posted["change"] == "new"
    assert seen["channels"][incidents]["name"] == "incidents" and seen["settled"] is True


def test_a_command_that_opens_a_form_answers_the_form_and_submit_fills_it_by_label(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    def script(payload: dict[str, Any], client: WebClient) -> Any:
        if payload.get("command"):
            client.views_open(trigger_id=payload["trigger_id"], view=FORM)
        return None

    bot.script = script
    opened = ok(control(emu, "command", {"as": "alice", "text": "/incident declare"}))
    assert opened["view"]["title"]["text"] == "Declare"
    assert [b["block_id"] for b in opened["view"]["blocks"]] == [
        "title",
        "severity",
        "impact",
        "private",
    ]
    assert ok(control(emu, "view", **{"as": "alice"}))["view"]["id"] == opened["view"]["id"]

    values = {"Title": "DB down", "severity": "critical", "impact": "2026-12-06T14:05"}
    done = ok(control(emu, "submit", {"as": "alice", "values": {**values, "Visibility": "yes"}}))

    (submitted,) = bot.of_type("view_submission")
    state = submitted["view"]["state"]["values"]
    assert state["title"]["title"]["value"] == "DB down"
    assert state["severity"]["severity"]["selected_option"]["value"] == "SEV1"
    assert state["impact"]["impact_started_at"]["selected_date_time"] == 1796565900
    assert [o["value"] for o in state["private"]["private"]["selected_options"]] == ["private"]
    assert done["view_closed"] == [opened["view"]["id"]] and emu.views() == []


def test_a_refused_submission_keeps_the_form_open_with_the_bots_errors(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    def script(payload: dict[str, Any], client: WebClient) -> Any:
        if payload.get("command"):
            client.views_open(trigger_id=payload["trigger_id"], view=FORM)
            return None
        return {"response_action": "errors", "errors": {"title": "Say what is broken"}}

    bot.script = script
    ok(control(emu, "command", {"as": "alice", "text": "/incident declare"}))
    refused = ok(
        control(emu, "submit", {"as": "alice", "values": {"title": "?", "severity": "SEV3"}})
    )

    assert refused["errors"] == {"title": "Say what is broken"}
    assert refused["view"]["errors"] == {"title": "Say what is broken"}
    assert len(emu.views(emu.user_id("alice"))) == 1


def test_what_slack_would_not_let_a_user_submit_is_refused_before_the_bot_hears_of_it(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    nothing_open = control(emu, "submit", {"as": "alice", "values": {"title": "x"}})
    assert nothing_open.status_code == 409 and nothing_open.json()["error"] == "no_open_view"

    def script(payload: dict[str, Any], client: WebClient) -> Any:
        client.views_open(trigger_id=payload["trigger_id"], view=FORM)

    bot.script = script
    ok(control(emu, "command", {"as": "alice", "text": "/incident declare"}))
    unknown = control(emu, "submit", {"as": "alice", "values": {"colour": "red"}})
    assert (
        unknown.json()["error"] == "unknown_field" and "Title (title)" in unknown.json()["detail"]
    )
    bad_option = control(emu, "submit", {"as": "alice", "values": {"title": "x", "severity": "9"}})
    assert bad_option.json()["error"] == "invalid_option" and "SEV1" in bad_option.json()["detail"]
    empty = control(emu, "submit", {"as": "alice", "values": {"severity": "SEV3"}})
    assert empty.status_code == 400 and "required input left empty" in empty.json()["detail"]
    assert bot.of_type("view_submission") == []


def test_a_click_finds_the_newest_bot_message_with_that_button_and_reports_the_update(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    post_card(bot, incidents)
    newest = post_card(bot, incidents)

    def ack(payload: dict[str, Any], client: WebClient) -> Any:
        client.chat_update(channel=incidents, ts=payload["container"]["message_ts"], text="acked")

    bot.script = ack
    clicked = ok(control(emu, "click", {"as": "bob", "button": "acknowledge"}))

    (action,) = bot.of_type("block_actions")
    assert action["container"]["message_ts"] == newest
    assert action["actions"][0]["action_id"] == "incident.ack"
    (updated,) = clicked["messages"]
    assert (updated["ts"], updated["change"], updated["text"]) == (newest, "updated", "acked")

    missing = control(emu, "click", {"as": "bob", "button": "Resolve"})
    assert missing.status_code == 404 and "Acknowledge" in missing.json()["detail"]


def test_a_reaction_to_the_last_message_reaches_the_bot_as_reaction_added(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    said = ok(
        control(emu, "message", {"as": "alice", "text": "p99 doubled", "channel": "#incidents"})
    )
    (message,) = said["messages"]
    reacted = ok(
        control(
            emu, "react", {"as": "bob", "name": ":pushpin:", "ts": "last", "channel": incidents}
        )
    )

    (event,) = [
        p["event"] for p in bot.of_type("event_callback") if p["event"]["type"] == "reaction_added"
    ]
    assert event["item"] == {"type": "message", "channel": incidents, "ts": message["ts"]}
    assert reacted["messages"][0]["reactions"][0]["name"] == "pushpin"
    twice = control(emu, "react", {"as": "bob", "name": "pushpin", "channel": "#incidents"})
    assert twice.status_code == 400 and "already" in twice.json()["detail"]


def test_messages_since_a_cursor_are_the_newer_ones_only(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    first = ok(control(emu, "message", {"as": "alice", "text": "one", "channel": incidents}))
    cursor = first["messages"][-1]["ts"]
    ok(control(emu, "message", {"as": "alice", "text": "two"}))
    page = ok(control(emu, "messages", **{"as": "alice", "channel": "#incidents", "since": cursor}))
    assert [m["text"] for m in page["messages"]] == ["two"]
    assert page["cursor"] == page["messages"][-1]["ts"]
    again = ok(control(emu, "messages", **{"as": "alice", "since": page["cursor"]}))
    assert again["messages"] == [] and again["cursor"] == page["cursor"]


def test_the_wait_ends_when_the_idle_probe_says_the_bot_is_done(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    """The bot acks first and posts afterwards; the probe (the in-process bot's wait_idle)
    holds the answer until that work is done."""
    go, done = threading.Event(), threading.Event()

    def later(client: WebClient) -> None:
        go.wait(10)  # the work starts only once the control API asks whether the bot is idle
        client.chat_postMessage(channel=incidents, text="declared, later")
        done.set()

    def ack_then_work(payload: dict[str, Any], client: WebClient) -> Any:
        threading.Thread(target=later, args=(client,)).start()
        return None

    def wait_idle(timeout: float) -> bool:
        go.set()
        return done.wait(timeout)

    bot.script = ack_then_work
    emu.control.idle_probe = wait_idle
    seen = ok(control(emu, "command", {"as": "alice", "text": "/incident declare x"}))
    assert seen["settled"] is True
    assert [m["text"] for m in seen["messages"]] == ["declared, later"]


def test_with_no_bot_to_send_to_the_client_is_told_so(emu: SlackEmulator) -> None:
    refused = control(emu, "command", {"as": "alice", "text": "/incident declare x"})
    assert refused.status_code == 409 and refused.json()["error"] == "no_bot"
    bad_cursor = control(emu, "messages", **{"as": "alice", "since": "yesterday"})
    assert bad_cursor.status_code == 400 and "not a message ts" in bad_cursor.json()["detail"]


def test_a_direct_message_from_the_bot_is_seen_but_does_not_move_the_user_there(
    emu: SlackEmulator, bot: ScriptedBot, incidents: str
) -> None:
    def dm(payload: dict[str, Any], client: WebClient) -> Any:
        opened = client.conversations_open(users=payload["user_id"])
        client.chat_postMessage(channel=opened["channel"]["id"], text="your follow-ups")

    bot.script = dm
    seen = ok(control(emu, "command", {"as": "alice", "text": "/incident followups"}))
    ((channel_id, info),) = seen["channels"].items()
    assert info["is_im"] is True and channel_id.startswith("D")
    assert [m["text"] for m in seen["messages"]] == ["your follow-ups"]
    assert "now_in" not in seen
