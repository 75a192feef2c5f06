"""The Slack emulator, exercised with slack_sdk (the client the bot really uses) and a tiny
stdlib "bot" that records and signature-checks what the emulator sends it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.emulators.slack import SlackEmulator, sign

Answer = tuple[int, "str | dict[str, Any] | None"]
pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument:UserWarning")


# ------------------------------------------------------------------ fake bot
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.form["payload"])
        return data

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class FakeBot:
    """Records every request, checks it with slack_sdk's SignatureVerifier, answers via
    ``answer`` (which may call the emulator's Web API back, like Bolt listeners do)."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.received: list[Received] = []
        self.answer: Callable[[Received], Answer] = lambda r: (200, None)
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                ok = bot.verifier.is_valid_request(body, headers)
                request = Received(self.path, headers, body, ok)
                bot.received.append(request)
                status, answer = bot.answer(request)
                if isinstance(answer, dict):
                    data, ctype = json.dumps(answer).encode(), "application/json"
                else:
                    data, ctype = (answer or "").encode(), "text/plain;charset=utf-8"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    @property
    def last(self) -> Received:
        return self.received[-1]

    def last_signature_ok(self) -> bool:
        return self.received[-1].signature_ok

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=5)


@pytest.fixture
def bot(emu: SlackEmulator) -> Iterator[FakeBot]:
    fake = FakeBot(emu.signing_secret)
    emu.bot_url = fake.url
    yield fake
    fake.close()


def api_error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        call()
    data: dict[str, Any] = info.value.response.data
    return data


def new_incident(emu: SlackEmulator, client: WebClient, name: str = "inc-1") -> str:
    cid: str = client.conversations_create(name=name)["channel"]["id"]
    client.conversations_invite(channel=cid, users=[emu.user_id("alice"), emu.user_id("bob")])
    return cid


BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* db is down"}},
    {
        "type": "actions",
        "block_id": "controls",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "ack",
                "value": "inc-1",
                "style": "primary",
            },
            {
                "type": "static_select",
                "action_id": "severity",
                "placeholder": {"type": "plain_text", "text": "Severity"},
                "options": [
                    {"text": {"type": "plain_text", "text": s}, "value": s.lower()}
                    for s in ("SEV1", "SEV2", "SEV3")
                ],
            },
        ],
    },
]


# ------------------------------------------------------------------ web API
def test_auth_errors_and_unknown_method(emu: SlackEmulator) -> None:
    assert api_error(WebClient(base_url=emu.api_url).auth_test)["error"] == "not_authed"
    bad = WebClient(token="xoxb-wrong", base_url=emu.api_url)
    assert api_error(bad.auth_test)["error"] == "invalid_auth"
    good = WebClient(token=emu.bot_token, base_url=emu.api_url)
    assert api_error(lambda: good.api_call("chat.frobnicate"))["error"] == "unknown_method"
    # Slack reads the token of a JSON body only from the Authorization header.
    request = urllib.request.Request(
        emu.api_url + "auth.test",
        data=json.dumps({"token": emu.bot_token}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["error"] == "not_authed"
    # … but from a form field when form-encoded.
    form = urllib.request.Request(emu.api_url + "auth.test", data=f"token={emu.bot_token}".encode())
    with urllib.request.urlopen(form) as response:
        assert json.loads(response.read())["user_id"] == emu.bot_user_id


def test_auth_test_and_identity(emu: SlackEmulator, client: WebClient) -> None:
    data = client.auth_test().data
    assert isinstance(data, dict)
    assert data["user_id"] == emu.bot_user_id and data["bot_id"] == emu.bot_id
    assert data["team_id"] == emu.team_id and emu.team_id.startswith("T")
    assert emu.api_url.startswith("http://127.0.0.1:") and emu.api_url.endswith("/api/")
    assert client.team_info()["team"]["domain"] == emu.team_domain


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Inc-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc#1", "invalid_name_specials"),
        ("inc-é", "invalid_name_specials"),
        ("--__", "invalid_name_punctuation"),
        ("general", "name_taken"),
    ],
)
def test_conversations_create_name_errors(client: WebClient, name: str, error: str) -> None:
    assert api_error(lambda: client.conversations_create(name=name))["error"] == error


def test_conversations_create(emu: SlackEmulator, client: WebClient) -> None:
    channel = client.conversations_create(name="inc-2024-db_down-" + "x" * 63)["channel"]
    assert len(channel["name"]) == 80 and channel["id"].startswith("C")
    assert channel["is_channel"] and not channel["is_private"] and channel["is_member"]
    assert channel["creator"] == emu.bot_user_id
    assert set(channel["topic"]) == {"value", "creator", "last_set"}
    private = client.conversations_create(name="sec-1", is_private=True)["channel"]
    assert private["is_private"] and private["is_group"] and not private["is_channel"]
    assert emu.members(private["id"]) == [emu.bot_user_id]
    client.conversations_archive(channel=private["id"])
    assert api_error(lambda: client.conversations_create(name="sec-1"))["error"] == "name_taken"
    info = client.conversations_info(channel=private["id"], include_num_members=True)
    assert info["channel"]["is_archived"] and info["channel"]["num_members"] == 1
    assert emu.channel_by_name("#sec-1") == emu.channel(private["id"])


def test_invite_errors(emu: SlackEmulator, client: WebClient) -> None:
    alice, bob = emu.user_id("alice"), emu.user_id("bob")
    cid = client.conversations_create(name="inc-1")["channel"]["id"]
    result = client.conversations_invite(channel=cid, users=[alice, bob])
    assert result["channel"]["id"] == cid
    assert emu.members(cid) == [emu.bot_user_id, alice, bob]
    joins = [m for m in emu.messages(cid) if m.get("subtype") == "channel_join"]
    assert [m["user"] for m in joins] == [emu.bot_user_id, alice, bob]
    assert joins[1]["inviter"] == emu.bot_user_id

    def invite(channel: str, users: str) -> dict[str, Any]:
        return api_error(lambda: client.conversations_invite(channel=channel, users=users))

    already = invite(cid, alice)
    assert already["error"] == "already_in_channel"
    assert already["errors"] == [{"user": alice, "ok": False, "error": "already_in_channel"}]
    assert invite(cid, emu.bot_user_id)["error"] == "cant_invite_self"
    assert invite(cid, "U0NOBODY")["error"] == "user_not_found"
    assert invite("C0MISSING", alice)["error"] == "channel_not_found"
    general = emu.channel_by_name("general")
    assert general is not None
    assert invite(general["id"], alice)["error"] == "not_in_channel"
    secret = emu.add_channel("secret", is_private=True, members=[alice])
    assert invite(secret, bob)["error"] == "channel_not_found"  # the bot cannot see it
    client.conversations_archive(channel=cid)
    assert invite(cid, emu.user_id("carol"))["error"] == "is_archived"
    assert api_error(lambda: client.conversations_archive(channel=cid))["error"] == (
        "already_archived"
    )
    forced = client.conversations_invite(
        channel=new_incident(emu, client, "inc-2"), users=[alice, emu.user_id("carol")], force=True
    )
    assert forced["errors"][0]["error"] == "already_in_channel"


def test_set_topic(emu: SlackEmulator, client: WebClient) -> None:
    cid = new_incident(emu, client)
    data = client.conversations_setTopic(channel=cid, topic="SEV1 | db down")["channel"]
    assert data["topic"]["value"] == "SEV1 | db down" == emu.topic(cid)
    assert data["topic"]["creator"] == emu.bot_user_id
    last = emu.messages(cid)[-1]
    assert last["subtype"] == "channel_topic" and last["topic"] == "SEV1 | db down"
    assert last["text"] == "set the channel topic: SEV1 | db down"
    too_long = api_error(lambda: client.conversations_setTopic(channel=cid, topic="x" * 251))
    assert too_long["error"] == "too_long"
    assert api_error(lambda: client.conversations_setTopic(channel="C0MISSING", topic="x")) == {
        "ok": False,
        "error": "channel_not_found",
    }
    assert emu.messages(cid, system=False) == []


def test_post_message_membership_and_scopes(emu: SlackEmulator) -> None:
    general = emu.channel_by_name("general")
    assert general is not None
    client = WebClient(token=emu.bot_token, base_url=emu.api_url)
    posted = client.chat_postMessage(channel=general["id"], text="hello all")
    assert posted["message"]["bot_id"] == emu.bot_id  # chat:write.public
    by_name = client.chat_postMessage(channel="#general", text="by name")
    assert by_name["channel"] == general["id"]
    assert client.chat_postMessage(channel="general", text="bare")["channel"] == general["id"]
    emu.scopes = emu.scopes - {"chat:write.public"}
    assert (
        api_error(lambda: client.chat_postMessage(channel=general["id"], text="x"))["error"]
        == "not_in_channel"
    )
    secret = emu.add_channel("secret", is_private=True, members=[emu.user_id("alice")])
    assert api_error(lambda: client.chat_postMessage(channel=secret, text="x"))["error"] == (
        "channel_not_found"
    )
    emu.scopes = emu.scopes - {"chat:write"}
    missing = api_error(lambda: client.chat_postMessage(channel="#general", text="x"))
    assert missing["error"] == "missing_scope" and missing["needed"] == "chat:write"


def test_post_message_errors(emu: SlackEmulator, client: WebClient) -> None:
    cid = new_incident(emu, client)
    assert api_error(lambda: client.chat_postMessage(channel=cid))["error"] == "no_text"
    assert (
        api_error(lambda: client.chat_postMessage(channel=cid, text="x" * 40_001))["error"]
        == "msg_too_long"
    )
    assert api_error(lambda: client.chat_postMessage(channel="C0NOPE", text="x"))["error"] == (
        "channel_not_found"
    )
    client.conversations_archive(channel=cid)
    assert api_error(lambda: client.chat_postMessage(channel=cid, text="x"))["error"] == (
        "is_archived"
    )


def test_post_message_shapes_json_and_form(emu: SlackEmulator, client: WebClient) -> None:
    cid = new_incident(emu, client)
    first = client.chat_postMessage(channel=cid, text="update", blocks=BUTTONS)
    assert emu.calls_to("chat.postMessage")[-1].content_type.startswith("application/json")
    # A form-encoded body carries blocks as a JSON string; the record holds it decoded.
    second = client.api_call(
        "chat.postMessage", data={"channel": cid, "text": "form", "blocks": json.dumps(BUTTONS)}
    )
    call = emu.calls_to("chat.postMessage")[-1]
    assert call.content_type.startswith("application/x-www-form-urlencoded")
    assert call.params["blocks"] == BUTTONS and call.token == emu.bot_token
    assert call.response["ts"] == second["ts"] and call.status == 200
    assert float(second["ts"]) > float(first["ts"])
    message = first["message"]
    assert message["type"] == "message" and message["user"] == emu.bot_user_id
    assert message["team"] == emu.team_id and message["app_id"] == emu.app_id
    assert message["blocks"][0]["block_id"]  # Slack fills in missing block_ids
    assert message["blocks"][0]["text"]["verbatim"] is False
    assert message["blocks"][1]["elements"][0]["text"]["emoji"] is True
    reply = client.chat_postMessage(channel=cid, text="in thread", thread_ts=first["ts"])
    assert reply["message"]["thread_ts"] == first["ts"]
    parent = emu.message(cid, first["ts"])
    assert parent is not None and parent["reply_count"] == 1
    assert [m["ts"] for m in emu.thread(cid, first["ts"])] == [first["ts"], reply["ts"]]
    history = client.conversations_history(channel=cid)["messages"]
    assert [m["ts"] for m in history[:2]] == [second["ts"], first["ts"]]  # newest first
    blocks_only = client.chat_postMessage(channel=cid, blocks=BUTTONS[:1])
    assert blocks_only["message"]["text"] == "This content can't be displayed."
    assert client.chat_getPermalink(channel=cid, message_ts=first["ts"])["permalink"] == (
        f"https://{emu.team_domain}.slack.com/archives/{cid}/p{first['ts'].replace('.', '')}"
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([_section("x")] * 51, "/blocks"),
        ([{"type": "carousel"}], "/blocks/0/type"),
        ([{**_section("a"), "block_id": "b"}, {**_section("b"), "block_id": "b"}], "/blocks/1"),
        ([{"type": "actions", "elements": [_button("a"), _button("a")]}], "/blocks/0/elements/1"),
        ([_section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [_button("a", "x" * 76)]}], "/blocks/0/elements/0"),
        ([{"type": "section"}], "/blocks/0"),
        ([{"type": "actions", "elements": []}], "/blocks/0/elements"),
    ],
)
def test_invalid_blocks(
    emu: SlackEmulator, client: WebClient, blocks: list[dict[str, Any]], pointer: str
) -> None:
    cid = new_incident(emu, client)
    data = api_error(lambda: client.chat_postMessage(channel=cid, text="t", blocks=blocks))
    assert data["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}" in e for e in data["errors"]), data["errors"]
    assert data["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert emu.messages(cid, system=False) == []


def test_same_action_id_in_different_blocks_is_allowed(
    emu: SlackEmulator, client: WebClient
) -> None:
    cid = new_incident(emu, client)
    blocks = [{"type": "actions", "elements": [_button("open")]} for _ in range(2)]
    assert client.chat_postMessage(channel=cid, text="t", blocks=blocks)["ok"]
    not_json = api_error(lambda: client.chat_postMessage(channel=cid, text="t", blocks="[{"))
    assert not_json["error"] == "invalid_blocks_format"


def test_update_delete_ephemeral(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    cid = new_incident(emu, client)
    alice = emu.user_id("alice")
    posted = client.chat_postMessage(channel=cid, text="v1", blocks=BUTTONS)
    updated = client.chat_update(channel=cid, ts=posted["ts"], text="v2")
    assert updated["text"] == "v2" and updated["message"]["edited"]["user"] == emu.bot_user_id
    now = emu.message(cid, posted["ts"])
    assert now is not None and now["text"] == "v2" and len(now["blocks"]) == 2  # blocks kept
    assert (
        api_error(lambda: client.chat_update(channel=cid, ts="1.000001", text="x"))["error"]
        == "message_not_found"
    )
    human = emu.post_user_message(alice, cid, "I'm on it")
    assert api_error(lambda: client.chat_update(channel=cid, ts=human, text="x"))["error"] == (
        "cant_update_message"
    )
    assert api_error(lambda: client.chat_delete(channel=cid, ts=human))["error"] == (
        "cant_delete_message"
    )
    client.chat_delete(channel=cid, ts=posted["ts"])
    assert emu.message(cid, posted["ts"]) is None
    carol = emu.user_id("carol")
    assert (
        api_error(lambda: client.chat_postEphemeral(channel=cid, user=carol, text="psst"))["error"]
        == "user_not_in_channel"
    )
    sent = client.chat_postEphemeral(channel=cid, user=alice, text="only you")
    [ephemeral] = emu.ephemerals(user_id=alice)
    assert ephemeral["text"] == "only you" and ephemeral["ts"] == sent["message_ts"]
    assert ephemeral["source"] == "chat.postEphemeral" and ephemeral["channel"] == cid
    assert all(m["ts"] != sent["message_ts"] for m in emu.messages(cid))


def test_users_and_reactions_api(emu: SlackEmulator, client: WebClient) -> None:
    alice = emu.user_id("alice")
    user = client.users_info(user=alice)["user"]
    assert user["name"] == "alice" and user["is_admin"] and user["tz"] == "America/New_York"
    assert isinstance(user["tz_offset"], int) and user["profile"]["email"] == "alice@example.com"
    assert user["profile"]["display_name"] == "alice" and user["real_name"] == "Alice Anders"
    assert api_error(lambda: client.users_info(user="U0NOPE"))["error"] == "user_not_found"
    found = client.users_lookupByEmail(email="ALICE@example.com")["user"]["id"]
    assert found == alice
    assert api_error(lambda: client.users_lookupByEmail(email="x@y.z"))["error"] == (
        "users_not_found"
    )
    dave = emu.add_user("dave", email="dave@corp.test", tz="Europe/Paris")
    assert client.users_info(user=dave)["user"]["profile"]["email"] == "dave@corp.test"
    cid = new_incident(emu, client)
    ts = client.chat_postMessage(channel=cid, text="x")["ts"]
    client.reactions_add(channel=cid, timestamp=ts, name="eyes")
    assert (
        api_error(lambda: client.reactions_add(channel=cid, timestamp=ts, name="eyes"))["error"]
        == "already_reacted"
    )
    got = client.reactions_get(channel=cid, timestamp=ts)["message"]["reactions"]
    assert got == [{"name": "eyes", "users": [emu.bot_user_id], "count": 1}]
    client.reactions_remove(channel=cid, timestamp=ts, name="eyes")
    assert (
        api_error(lambda: client.reactions_remove(channel=cid, timestamp=ts, name="eyes"))["error"]
        == "no_reaction"
    )
    members = client.conversations_members(channel=cid, limit=2)
    cursor = members["response_metadata"]["next_cursor"]
    rest = client.conversations_members(channel=cid, limit=2, cursor=cursor)["members"]
    assert members["members"] + rest == emu.members(cid)


# ----------------------------------------------------------------- faults
def test_fault_429_and_slack_sdk_retry_handler(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="#general", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"
    emu.fail("chat.postMessage", status=429, retry_after=0)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    assert client.chat_postMessage(channel="#general", text="retried")["ok"]
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [429, 429, 200]
    general = emu.channel_by_name("general")
    assert general is not None
    assert [m["text"] for m in emu.messages(general["id"])] == ["retried"]


def test_fault_errors_5xx_apply_and_delay(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail("conversations.create", error="restricted_action", times=2)
    for _ in range(2):
        assert api_error(lambda: client.conversations_create(name="a"))["error"] == (
            "restricted_action"
        )
    assert client.conversations_create(name="a")["ok"] and emu.pending_faults() == 0
    emu.fail("auth.test", status=503)
    with pytest.raises(SlackApiError) as info:
        client.auth_test()
    assert info.value.response.status_code == 503
    assert emu.calls_to("auth.test")[-1].body.startswith("<html>")
    emu.fail("*", status=500, body='{"ok": false, "error": "fatal_error"}')
    assert api_error(client.auth_test)["error"] == "fatal_error"
    emu.fail("chat.postMessage", status=500, apply=True)  # done, but the answer is lost
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="#general", text="posted anyway")
    general = emu.channel_by_name("general")
    assert general is not None
    assert emu.messages(general["id"])[-1]["text"] == "posted anyway"
    emu.fail("users.info", error=None, delay=0.5)
    impatient = WebClient(token=emu.bot_token, base_url=emu.api_url, timeout=0.1)  # type: ignore[arg-type]
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        impatient.users_info(user=emu.user_id("bob"))


def test_rate_limit_tiers(emu: SlackEmulator, client: WebClient) -> None:
    emu.rate_limits = True
    for i in range(20):  # Tier 2: 20 per minute
        client.conversations_create(name=f"inc-{i}")
    limited = api_error(lambda: client.conversations_create(name="inc-20"))
    assert limited["error"] == "ratelimited"
    call = emu.calls_to("conversations.create")[-1]
    assert call.status == 429 and emu.channel_by_name("inc-20") is None
    for _ in range(5):  # chat.postMessage: ~1/s per channel after a small burst
        client.chat_postMessage(channel="#inc-0", text="x")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="#inc-0", text="x")
    assert int(info.value.response.headers["Retry-After"]) >= 1
    assert client.chat_postMessage(channel="#inc-1", text="other channel")["ok"]
    emu.set_rate_limit("users.info", per_minute=1)
    client.users_info(user=emu.user_id("bob"))
    assert api_error(lambda: client.users_info(user=emu.user_id("bob")))["error"] == "ratelimited"


def test_tier_limits_are_per_minute_windows_shared_by_every_caller(emu: SlackEmulator) -> None:
    """Slack counts "per API method per app per workspace": two processes holding the bot's
    token share one tier-2 minute. The whole minute may be spent at once; the next call waits
    for the window, and Retry-After says how long."""
    emu.rate_limits = True
    first, second = (WebClient(token=emu.bot_token, base_url=emu.api_url) for _ in range(2))
    for i in range(20):
        (first if i % 2 else second).conversations_create(name=f"burst-{i}")
    for caller in (first, second):
        with pytest.raises(SlackApiError) as info:
            caller.conversations_create(name="one-too-many")
        assert info.value.response.status_code == 429
        assert 58 <= int(info.value.response.headers["Retry-After"]) <= 60
    assert first.conversations_setTopic(channel="#burst-0", topic="x")["ok"]  # another method
    statuses = [c.status for c in emu.calls_to("conversations.create")]
    assert statuses == [200] * 20 + [429, 429]


# ------------------------------------------------------------------ signing
def test_signature_is_exactly_slacks(emu: SlackEmulator, bot: FakeBot) -> None:
    verifier = SignatureVerifier(emu.signing_secret)
    body = b"token=x&text=%2Fincident+new"
    assert sign(emu.signing_secret, 1700000000, body) == verifier.generate_signature(
        timestamp="1700000000", body=body
    )
    alice, general = emu.user_id("alice"), emu.channel_by_name("general")
    assert general is not None
    emu.send_command(alice, general["id"], "new")
    assert bot.last_signature_ok()
    headers = bot.last.headers
    assert headers["X-Slack-Signature"] == sign(
        emu.signing_secret, headers["X-Slack-Request-Timestamp"], bot.last.body
    )
    assert headers["User-Agent"].startswith("Slackbot 1.0")
    emu.send_command(alice, general["id"], "new", signature="v0=" + "0" * 64)
    assert not bot.last_signature_ok()
    emu.send_command(alice, general["id"], "new", timestamp=int(time.time()) - 600)
    assert not bot.last_signature_ok()  # stale: replay protection
    emu.send_command(alice, general["id"], "new", unsigned=True)
    assert "X-Slack-Signature" not in bot.last.headers and not bot.last_signature_ok()
    emu.send_command(alice, general["id"], "x", extra_headers={"X-Forwarded-For": "1.2.3.4"})
    assert bot.last.headers["X-Forwarded-For"] == "1.2.3.4"


# ------------------------------------------------------------ slash commands
def test_send_command_payload_and_acks(emu: SlackEmulator, bot: FakeBot) -> None:
    alice = emu.user_id("alice")
    cid = emu.add_channel("ops", members=[alice, emu.bot_user_id])
    bot.answer = lambda r: (200, "Working on it…")  # Bolt's ack("...") answers text/plain
    reply = emu.send_command(alice, cid, "new db is down")
    form = bot.last.form
    assert bot.last.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/incident" and form["text"] == "new db is down"
    assert form["user_id"] == alice and form["user_name"] == "alice"
    assert form["channel_id"] == cid and form["channel_name"] == "ops"
    assert form["team_id"] == emu.team_id and form["team_domain"] == emu.team_domain
    assert form["api_app_id"] == emu.app_id and form["is_enterprise_install"] == "false"
    assert form["token"] == emu.verification_token
    assert form["trigger_id"] == reply.trigger_id and form["response_url"] == reply.response_url
    assert reply.response_url is not None and reply.response_url.startswith(emu.url + "/response/")
    assert reply.status == 200 and reply.body == "Working on it…" and reply.ok
    [ack] = emu.ephemerals(alice, cid)
    assert ack["text"] == "Working on it…" and ack["source"] == "command_ack"
    bot.answer = lambda r: (200, {"response_type": "in_channel", "text": "Declared!"})
    emu.send_command(alice, cid, "declare")
    assert emu.messages(cid)[-1]["text"] == "Declared!"
    assert emu.messages(cid)[-1]["bot_id"] == emu.bot_id
    bot.answer = lambda r: (500, "boom")
    failed = emu.send_command(alice, cid, "x")
    assert not failed.ok and failed.status == 500
    assert emu.ephemerals(alice)[-1]["source"] == "slack_error"
    assert emu.ephemerals(alice)[-1]["text"] == '/incident failed with the error "dispatch_failed"'
    bot.answer = lambda r: (200, None)
    emu.send_command(alice, cid, "quiet")
    assert len(emu.ephemerals(alice)) == 2


def test_slow_ack_times_out_like_slack(emu: SlackEmulator, bot: FakeBot) -> None:
    def slow(request: Received) -> Answer:
        time.sleep(0.5)
        return 200, None

    bot.answer = slow
    emu.bot_timeout_s = 0.1
    general = emu.channel_by_name("general")
    assert general is not None
    reply = emu.send_command(emu.user_id("bob"), general["id"], "new")
    assert reply.status == 0 and reply.error == "operation_timeout"
    assert "operation_timeout" in emu.ephemerals(emu.user_id("bob"))[-1]["text"]


# ------------------------------------------------------------------ modals
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "private_metadata": '{"channel": "C1"}',
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input", "max_length": 80},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "sev_select",
                "options": [
                    {"text": {"type": "plain_text", "text": s.upper()}, "value": s}
                    for s in ("sev1", "sev2")
                ],
            },
        },
        {
            "type": "input",
            "block_id": "teams",
            "optional": True,
            "label": {"type": "plain_text", "text": "Teams"},
            "element": {
                "type": "checkboxes",
                "action_id": "teams_cb",
                "options": [
                    {"text": {"type": "mrkdwn", "text": t}, "value": t} for t in ("db", "web")
                ],
            },
        },
        *[
            {
                "type": "input",
                "block_id": kind,
                "optional": True,
                "label": {"type": "plain_text", "text": kind},
                "element": {"type": kind, "action_id": f"{kind}_a"},
            }
            for kind in ("users_select", "datepicker", "timepicker", "datetimepicker")
        ],
    ],
}


def _open_modal(emu: SlackEmulator, client: WebClient, bot: FakeBot, **overrides: Any) -> str:
    general = emu.channel_by_name("general")
    assert general is not None
    reply = emu.send_command(emu.user_id("alice"), general["id"], "new")
    view = {**MODAL, **overrides}
    view_id: str = client.views_open(trigger_id=reply.trigger_id, view=view)["view"]["id"]
    return view_id


def test_views_open_trigger_rules(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    general = emu.channel_by_name("general")
    assert general is not None
    reply = emu.send_command(emu.user_id("alice"), general["id"], "new")
    opened = client.views_open(trigger_id=reply.trigger_id, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["state"] == {"values": {}}
    assert opened["callback_id"] == "declare" and opened["root_view_id"] == opened["id"]
    assert opened["hash"] and opened["app_id"] == emu.app_id
    assert [v["id"] for v in emu.views(emu.user_id("alice"))] == [opened["id"]]
    again = api_error(lambda: client.views_open(trigger_id=reply.trigger_id, view=MODAL))
    assert again["error"] == "exchanged_trigger_id"
    assert api_error(lambda: client.views_open(trigger_id="1.2.3", view=MODAL))["error"] == (
        "invalid_trigger_id"
    )
    with SlackEmulator(trigger_ttl_s=0.05) as quick:
        quick.bot_url = bot.url
        fast = WebClient(token=quick.bot_token, base_url=quick.api_url)
        general = quick.channel_by_name("general")
        assert general is not None
        stale = quick.send_command(quick.user_id("bob"), general["id"], "x")
        time.sleep(0.1)
        assert (
            api_error(lambda: fast.views_open(trigger_id=stale.trigger_id, view=MODAL))["error"]
            == "expired_trigger_id"
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": {"type": "plain_text", "text": "x" * 25}}, "/view/title/text"),
        ({"submit": None}, "must provide a submit property"),
        ({"blocks": [_section("x")] * 101}, "/view/blocks"),
        ({"type": "dialog"}, "/view/type"),
    ],
)
def test_views_open_validation(
    emu: SlackEmulator, client: WebClient, bot: FakeBot, change: dict[str, Any], message: str
) -> None:
    general = emu.channel_by_name("general")
    assert general is not None
    reply = emu.send_command(emu.user_id("alice"), general["id"], "new")
    view = {k: v for k, v in {**MODAL, **change}.items() if v is not None}
    data = api_error(lambda: client.views_open(trigger_id=reply.trigger_id, view=view))
    assert data["error"] == "invalid_arguments"
    assert any(message in m for m in data["response_metadata"]["messages"])
    ok = client.views_open(trigger_id=reply.trigger_id, view=MODAL)  # trigger not consumed
    assert ok["ok"]


def test_views_push_and_update(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    root = _open_modal(emu, client, bot)
    alice = emu.user_id("alice")
    trigger = emu.click_view_button  # pushes need fresh triggers from interactions
    small = {**MODAL, "blocks": [{**_section("more"), "accessory": _button("next")}]}
    small.pop("submit")
    updated = client.views_update(view_id=root, view=small)["view"]
    with pytest.raises(SlackApiError):
        client.views_update(view_id=root, view=small, hash="stale.hash")
    assert client.views_update(view_id=root, view=small, hash=updated["hash"])["ok"]
    assert api_error(lambda: client.views_update(view_id="V0NOPE", view=small))["error"] == (
        "not_found"
    )
    for _ in range(2):
        top = emu.views(alice)[-1]["id"]
        pushed = client.views_push(trigger_id=trigger(alice, top, "next").trigger_id, view=small)
        assert pushed["view"]["root_view_id"] == root
    assert len(emu.views(alice)) == 3
    last = trigger(alice, emu.views(alice)[-1]["id"], "next").trigger_id
    assert api_error(lambda: client.views_push(trigger_id=last, view=small))["error"] == (
        "push_limit_reached"
    )
    assert bot.received[-1].payload["container"]["type"] == "view"


def test_submit_view_shapes_and_answers(
    emu: SlackEmulator, client: WebClient, bot: FakeBot
) -> None:
    alice, bob = emu.user_id("alice"), emu.user_id("bob")
    view_id = _open_modal(emu, client, bot)
    bot.answer = lambda r: (
        200,
        {"response_action": "errors", "errors": {"title": "Too vague"}},
    )
    values = {
        "title_input": "Database down",
        "sev": "sev1",  # by block_id
        "teams_cb": ["db", "web"],
        "users_select_a": bob,
        "datepicker_a": "2024-05-01",
        "timepicker_a": "13:45",
        "datetimepicker_a": 1714570000,
    }
    reply = emu.submit_view(alice, view_id, values)
    payload = bot.last.payload
    assert payload["type"] == "view_submission" and payload["user"]["id"] == alice
    view = payload["view"]
    assert view["id"] == view_id and view["callback_id"] == "declare"
    assert view["private_metadata"] == MODAL["private_metadata"] and view["hash"]
    assert payload["trigger_id"] == reply.trigger_id
    state = view["state"]["values"]
    assert state["title"]["title_input"] == {"type": "plain_text_input", "value": "Database down"}
    assert state["sev"]["sev_select"]["selected_option"] == {
        "text": {"type": "plain_text", "text": "SEV1", "emoji": True},
        "value": "sev1",
    }
    assert [o["value"] for o in state["teams"]["teams_cb"]["selected_options"]] == ["db", "web"]
    assert state["users_select"]["users_select_a"] == {"type": "users_select", "selected_user": bob}
    assert state["datepicker"]["datepicker_a"]["selected_date"] == "2024-05-01"
    assert state["timepicker"]["timepicker_a"]["selected_time"] == "13:45"
    assert state["datetimepicker"]["datetimepicker_a"]["selected_date_time"] == 1714570000
    assert reply.view_errors == {"title": "Too vague"} and reply.error is None
    assert emu.views(alice)[0]["errors"] == {"title": "Too vague"}
    with pytest.raises(ValueError, match="required"):
        emu.submit_view(alice, view_id, {"title_input": "x"})
    with pytest.raises(KeyError):
        emu.submit_view(alice, view_id, {**values, "nope": 1})
    with pytest.raises(ValueError, match="offered"):
        emu.submit_view(alice, view_id, {**values, "sev": "sev9"})
    bot.answer = lambda r: (
        200,
        {"response_action": "update", "view": {**MODAL, "callback_id": "u"}},
    )
    emu.submit_view(alice, view_id, values)
    assert emu.views(alice)[0]["callback_id"] == "u"
    bot.answer = lambda r: (200, None)  # Bolt's bare ack(): close the view
    emu.submit_view(alice, view_id, values)
    assert emu.views(alice) == []
    with pytest.raises(LookupError):
        emu.submit_view(alice, view_id, values)


def test_close_view_notifies_only_when_asked(
    emu: SlackEmulator, client: WebClient, bot: FakeBot
) -> None:
    alice = emu.user_id("alice")
    quiet = _open_modal(emu, client, bot)
    seen = len(bot.received)
    assert emu.close_view(alice, quiet) is None and len(bot.received) == seen
    loud = _open_modal(emu, client, bot, notify_on_close=True)
    reply = emu.close_view(alice, loud)
    assert reply is not None and bot.last.payload["type"] == "view_closed"
    assert bot.last.payload["view"]["id"] == loud and bot.last.payload["is_cleared"] is False
    assert emu.views(alice) == []


# ------------------------------------------------------- buttons & selects
def test_click_button_and_select(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    cid = new_incident(emu, client)
    alice = emu.user_id("alice")
    ts = client.chat_postMessage(channel=cid, text="SEV2", blocks=BUTTONS)["ts"]

    def open_modal_from_click(request: Received) -> Answer:
        trigger = request.payload["trigger_id"]
        client.views_open(trigger_id=trigger, view=MODAL)  # the bot calls back mid-request
        return 200, None

    bot.answer = open_modal_from_click
    reply = emu.click_button(alice, cid, ts, "ack", value="inc-1")
    payload = bot.last.payload
    assert reply.ok and bot.last.signature_ok and payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": alice,
        "username": "alice",
        "name": "alice",
        "team_id": emu.team_id,
    }
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": cid,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": cid, "name": "inc-1"}
    assert payload["message"]["ts"] == ts and payload["message"]["blocks"][1]["block_id"]
    assert payload["api_app_id"] == emu.app_id and payload["team"]["id"] == emu.team_id
    [action] = payload["actions"]
    assert action["type"] == "button" and action["action_id"] == "ack"
    assert action["block_id"] == "controls" and action["value"] == "inc-1"
    assert action["text"]["text"] == "Acknowledge" and action["action_ts"]
    assert payload["state"]["values"]["controls"]["severity"] == {
        "type": "static_select",
        "selected_option": None,
    }
    assert payload["response_url"] == reply.response_url and emu.views(alice)
    with pytest.raises(LookupError, match="rendered"):
        emu.click_button(alice, cid, ts, "resolve")
    with pytest.raises(LookupError):
        emu.click_button(alice, cid, ts, "ack", value="other")
    bot.answer = lambda r: (200, {"text": "ignored"})  # Slack ignores block_actions bodies
    emu.select_option(alice, cid, ts, "severity", "sev1")
    action = bot.last.payload["actions"][0]
    assert action["selected_option"]["value"] == "sev1" and action["type"] == "static_select"
    selected = bot.last.payload["state"]["values"]["controls"]["severity"]["selected_option"]
    assert selected["value"] == "sev1"
    assert emu.ephemerals(alice) == []


# ------------------------------------------------------------------ events
def test_events_messages_reactions_retries(
    emu: SlackEmulator, client: WebClient, bot: FakeBot
) -> None:
    cid = new_incident(emu, client)
    alice = emu.user_id("alice")
    ts = emu.post_user_message(alice, cid, f"<@{emu.bot_user_id}> status?")
    message_event, mention = (r.json for r in bot.received[-2:])
    assert message_event["type"] == "event_callback" and message_event["team_id"] == emu.team_id
    assert message_event["event_id"].startswith("Ev") and message_event["api_app_id"] == emu.app_id
    assert message_event["authorizations"][0]["user_id"] == emu.bot_user_id
    event = message_event["event"]
    assert event["type"] == "message" and event["channel_type"] == "channel"
    assert event["user"] == alice and event["ts"] == ts and event["channel"] == cid
    assert mention["event"]["type"] == "app_mention"
    assert bot.received[-1].headers["Content-Type"] == "application/json"
    reply = emu.add_reaction(alice, cid, ts, "pushpin")
    assert reply is not None and bot.last.signature_ok
    assert bot.last.json["event"] == {
        "type": "reaction_added",
        "user": alice,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": cid, "ts": ts},
        "item_user": alice,
        "event_ts": bot.last.json["event"]["event_ts"],
    }
    stored = emu.message(cid, ts)
    assert stored is not None and stored["reactions"][0]["users"] == [alice]
    removed = emu.remove_reaction(alice, cid, ts, "pushpin")
    assert removed is not None and bot.last.json["event"]["type"] == "reaction_removed"
    retry = emu.retry_event(reply, retry_num=1)
    assert retry.event_id == reply.event_id and bot.last.json == json.loads(reply.request_body)
    assert bot.last.headers["X-Slack-Retry-Num"] == "1"
    assert bot.last.headers["X-Slack-Retry-Reason"] == "http_timeout"
    custom = emu.send_event({"type": "member_joined_channel", "user": alice, "channel": cid})
    again = emu.send_event({}, event_id=custom.event_id, retry_num=2, retry_reason="http_error")
    assert again.request_body == custom.request_body
    replayed = emu.resend(custom)
    assert bot.last.body == custom.request_body
    assert bot.last.headers["X-Slack-Signature"] == custom.request_headers["X-Slack-Signature"]
    assert replayed.request_headers == custom.request_headers
    # No delivery for channels the bot is not in (Slack's rule for bot event subscriptions).
    general = emu.channel_by_name("general")
    assert general is not None
    count = len(bot.received)
    emu.post_user_message(alice, general["id"], "hi all")
    assert emu.add_reaction(alice, general["id"], emu.messages(general["id"])[-1]["ts"]) is None
    assert len(bot.received) == count
    # A non-member first joins a public channel, as the Slack client makes people do.
    carol = emu.user_id("carol")
    emu.post_user_message(carol, cid, "joining in")
    joined, said = (r.json["event"] for r in bot.received[-2:])
    assert joined == {
        "type": "member_joined_channel",
        "user": carol,
        "channel": cid,
        "channel_type": "C",
        "team": emu.team_id,
        "event_ts": joined["event_ts"],
    }
    assert said["text"] == "joining in" and carol in emu.members(cid)
    assert emu.messages(cid)[-2]["subtype"] == "channel_join"
    secret = emu.add_channel("secret", is_private=True, members=[alice])
    with pytest.raises(ValueError, match="private"):
        emu.post_user_message(carol, secret, "let me in")
    challenge = emu.url_verification("abc123")
    assert bot.last.json == {
        "token": emu.verification_token,
        "challenge": "abc123",
        "type": "url_verification",
    }
    assert challenge.status == 200


# ------------------------------------------------------------- response_url
def test_response_url(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    cid = new_incident(emu, client)
    alice = emu.user_id("alice")
    command = emu.send_command(alice, cid, "status")
    assert command.response_url is not None
    hook = WebhookClient(command.response_url)  # what Bolt's respond() uses
    answer = hook.send(text="only for you")
    assert answer.status_code == 200 and json.loads(answer.body) == {"ok": True}
    assert emu.ephemerals(alice)[-1]["source"] == "response_url"
    hook.send(text="for everyone", response_type="in_channel")
    assert emu.messages(cid)[-1]["text"] == "for everyone"
    assert emu.calls_to("response_url")[-1].params["response_type"] == "in_channel"
    ts = client.chat_postMessage(channel=cid, text="v1", blocks=BUTTONS)["ts"]
    click = emu.click_button(alice, cid, ts, "ack")
    assert click.response_url is not None
    replace = WebhookClient(click.response_url)
    replace.send(text="acknowledged by alice", replace_original=True)
    replaced = emu.message(cid, ts)
    assert replaced is not None and replaced["text"] == "acknowledged by alice"
    assert "blocks" not in replaced
    replace.send(text="", delete_original=True)
    assert emu.message(cid, ts) is None
    assert replace.send(text="late").status_code == 200
    replace.send(text="late")
    replace.send(text="late")
    used = replace.send(text="one too many")
    assert used.status_code == 404 and json.loads(used.body)["error"] == "used_url"
    bad = urllib.request.Request(command.response_url, data=b"not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(bad)
    assert info.value.code == 400


def test_concurrent_posts_get_unique_increasing_ts(emu: SlackEmulator) -> None:
    cid = emu.add_channel("busy", members=[emu.bot_user_id])

    def worker() -> None:
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        for i in range(10):
            client.chat_postMessage(channel=cid, text=str(i))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [m["ts"] for m in emu.messages(cid)]
    assert len(stamps) == 60 == len(set(stamps)) and stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_main_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.emulators.slack", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert "--bot-url" in result.stdout


def test_real_bolt_app_round_trip(emu: SlackEmulator, client: WebClient, bot: FakeBot) -> None:
    """Bolt (what the bot is built on) accepts the emulator's requests and drives its API."""
    from slack_bolt import Ack, App, BoltRequest, Respond, Say

    app = App(client=client, signing_secret=emu.signing_secret, process_before_response=True)
    seen: list[str] = []

    @app.command("/incident")
    def command(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack("Opening the form…")
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        respond("sent through response_url")

    @app.view("declare")
    def declare(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        title = view["state"]["values"]["title"]["title_input"]["value"]
        if title == "bad":
            ack(response_action="errors", errors={"title": "Be specific"})
            return
        ack()
        cid = client.conversations_create(name=f"inc-{title}")["channel"]["id"]
        client.conversations_invite(channel=cid, users=body["user"]["id"])
        client.chat_postMessage(channel=cid, text="Declared", blocks=BUTTONS)

    @app.action("ack")
    def acknowledge(ack: Ack, respond: Respond) -> None:
        ack()
        respond(replace_original=True, text="Acknowledged")

    @app.event("reaction_added")
    def reacted(event: dict[str, Any], say: Say) -> None:
        say(text=f"saw :{event['reaction']}:", channel=event["item"]["channel"])

    @app.event("message")
    def message(event: dict[str, Any]) -> None:
        seen.append(event["text"])

    def dispatch(request: Received) -> Answer:
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        response = app.dispatch(BoltRequest(body=request.body.decode(), headers=headers))
        return response.status, response.body

    bot.answer = dispatch
    alice, general = emu.user_id("alice"), emu.channel_by_name("general")
    assert general is not None
    assert emu.send_command(alice, general["id"], "new").body == "Opening the form…"
    assert [e["text"] for e in emu.ephemerals(alice)] == [
        "sent through response_url",
        "Opening the form…",
    ]
    [view] = emu.views(alice)
    rejected = emu.submit_view(alice, view["id"], {"title_input": "bad", "sev": "sev2"})
    assert rejected.view_errors == {"title": "Be specific"} and emu.views(alice)
    assert emu.submit_view(alice, view["id"], {"title_input": "db", "sev": "sev2"}).ok
    assert emu.views(alice) == []
    incident = emu.channel_by_name("inc-db")
    assert incident is not None and alice in emu.members(incident["id"])
    ts = emu.messages(incident["id"], system=False)[-1]["ts"]
    emu.click_button(alice, incident["id"], ts, "ack")
    acknowledged = emu.message(incident["id"], ts)
    assert acknowledged is not None and acknowledged["text"] == "Acknowledged"
    emu.add_reaction(alice, incident["id"], ts, "eyes")
    assert emu.messages(incident["id"])[-1]["text"] == "saw :eyes:"
    emu.post_user_message(alice, incident["id"], "looking at the replicas")
    assert seen == ["looking at the replicas"]
    assert emu.send_command(alice, general["id"], "new", signature="v0=forged").status == 401
    assert emu.url_verification("c-123").json == {"challenge": "c-123"}


def test_home_tab_dms_pins_and_shortcuts(
    emu: SlackEmulator, client: WebClient, bot: FakeBot
) -> None:
    alice = emu.user_id("alice")
    home = {"type": "home", "blocks": [_section("Open incidents: 0")]}
    published = client.views_publish(user_id=alice, view=home)["view"]
    assert emu.home_view(alice) == published and published["type"] == "home"
    emu.open_home(alice)
    event = bot.last.json["event"]
    assert event["type"] == "app_home_opened" and event["view"]["id"] == published["id"]
    dm = client.conversations_open(users=alice)["channel"]["id"]
    assert dm.startswith("D")
    assert client.chat_postMessage(channel=alice, text="you are on call")["channel"] == dm
    assert emu.messages(dm)[-1]["text"] == "you are on call"
    cid = new_incident(emu, client)
    ts = client.chat_postMessage(channel=cid, text="summary")["ts"]
    client.pins_add(channel=cid, timestamp=ts)
    assert api_error(lambda: client.pins_add(channel=cid, timestamp=ts))["error"] == (
        "already_pinned"
    )
    assert client.pins_list(channel=cid)["items"][0]["message"]["pinned_to"] == [cid]
    reply = emu.shortcut(alice, "declare_incident")
    assert bot.last.payload["callback_id"] == "declare_incident"
    assert client.views_open(trigger_id=reply.trigger_id, view=MODAL)["ok"]
