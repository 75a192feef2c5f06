"""The Slack emulator in Socket Mode, driven by slack_sdk's own Socket Mode client and by Bolt's
SocketModeHandler: apps.connections.open, tickets, hello, the three envelope types, acks with
payloads, redelivery of what is not acked, disconnects and reconnects, several connections."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.emulators.slack import SlackEmulator

SKIP = object()  # an answer that sends no ack at all
Answer = Callable[[SocketModeRequest], Any]


def wait_for(condition: Callable[[], object], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


class SocketApp:
    """An app on slack_sdk's built-in Socket Mode client: records every frame and request and
    acks each with ``answer(request)`` (a payload, None for an empty ack, SKIP for none)."""

    def __init__(self, emu: SlackEmulator, answer: Answer | None = None) -> None:
        self.web = WebClient(token=emu.bot_token, base_url=emu.api_url)
        self.client = SocketModeClient(app_token=emu.app_token, web_client=self.web)
        self.frames: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self.answer: Answer = answer or (lambda request: None)
        self.client.on_message_listeners.append(lambda raw: self.frames.append(json.loads(raw)))
        self.client.socket_mode_request_listeners.append(self._on_request)

    def _on_request(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        self.requests.append(request)
        payload = self.answer(request)
        if payload is SKIP:
            return
        response = SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        client.send_socket_mode_response(response)

    def close(self, emu: SlackEmulator) -> None:
        hang_up(emu, self.client)

    def frames_of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]


def hang_up(emu: SlackEmulator, client: SocketModeClient) -> None:
    """Closes the client; Slack's side hangs up first, or its reader sits out its 3 s timeout."""
    client.auto_reconnect_enabled = False
    for link in emu.socket_connections(leaving=True):
        emu.socket_close(link)
    client.close()


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(socket_mode=True, socket_ack_timeout_s=0.5) as emulator:
        yield emulator


@pytest.fixture
def app(emu: SlackEmulator) -> Iterator[SocketApp]:
    socket_app = SocketApp(emu)
    socket_app.client.connect()
    assert emu.wait_for_socket(1)
    yield socket_app
    socket_app.close(emu)


def people(emu: SlackEmulator) -> tuple[str, str]:
    return emu.user_id("alice"), emu.channel_by_name("general")["id"]  # type: ignore[index]


# ------------------------------------------------------------------ connections.open
def test_connections_open_wants_an_app_level_token_in_the_authorization_header(
    emu: SlackEmulator,
) -> None:
    url = WebClient(base_url=emu.api_url).apps_connections_open(app_token=emu.app_token)["url"]
    assert re.fullmatch(rf"ws://127\.0\.0\.1:\d+/link/\?ticket=[\w-]+&app_id={emu.app_id}", url)

    def error(token: str) -> str:
        with pytest.raises(SlackApiError) as failure:
            WebClient(base_url=emu.api_url).apps_connections_open(app_token=token)
        return str(failure.value.response["error"])

    assert error(emu.bot_token) == "not_allowed_token_type"
    assert error("xapp-1-A0-1-unknown") == "invalid_auth"
    revoked = emu.issue_app_token()
    assert WebClient(base_url=emu.api_url).apps_connections_open(app_token=revoked)["ok"]
    emu.revoke_app_token(revoked)
    assert error(revoked) == "invalid_auth"
    as_a_parameter = httpx.post(f"{emu.api_url}apps.connections.open", data={"token": revoked})
    assert as_a_parameter.json() == {"ok": False, "error": "missing_args"}
    # and an app-level token is no bot token
    with pytest.raises(SlackApiError) as failure:
        WebClient(token=emu.app_token, base_url=emu.api_url).chat_postMessage(
            channel="general", text="hi"
        )
    assert failure.value.response["error"] == "not_allowed_token_type"


def test_a_ticket_opens_one_connection_which_slack_greets_with_hello(emu: SlackEmulator) -> None:
    url = WebClient(base_url=emu.api_url).apps_connections_open(app_token=emu.app_token)["url"]
    with connect(url) as socket:
        hello = socket.recv(timeout=5)
        with pytest.raises(InvalidStatus):
            connect(url)  # the ticket was used
    assert '"type": "hello"' in str(hello)
    assert f'"connection_info": {{"app_id": "{emu.app_id}"}}' in str(hello)
    assert '"num_connections": 1' in str(hello)


def test_hello_and_ping_pong_with_slack_sdks_client(emu: SlackEmulator, app: SocketApp) -> None:
    assert wait_for(lambda: app.frames_of("hello"))
    (hello,) = app.frames_of("hello")
    assert hello["num_connections"] == 1 and hello["connection_info"]["app_id"] == emu.app_id
    assert hello["debug_info"]["host"] and hello["debug_info"]["approximate_connection_time"] > 0
    session = app.client.current_session
    assert session is not None
    assert wait_for(lambda: session.last_ping_pong_time is not None), "no pong for the ping"


# ------------------------------------------------------------------------- envelopes
def test_a_slash_command_goes_down_the_socket_and_the_acks_payload_is_the_answer(
    emu: SlackEmulator, app: SocketApp
) -> None:
    alice, general = people(emu)
    app.answer = lambda request: {"text": f"got {request.payload['text']}"}
    reply = emu.send_command(alice, general, "declare sev2 db down")
    assert reply.ok and reply.status == 200 and reply.json == {"text": "got declare sev2 db down"}
    (envelope,) = emu.socket_envelopes
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in envelope  # events only
    assert envelope["payload"]["command"] == "/incident" and envelope["payload"]["trigger_id"]
    assert reply.envelope_ids == [envelope["envelope_id"]]
    (request,) = app.requests
    assert request.type == "slash_commands" and request.payload["user_id"] == alice
    (shown,) = emu.ephemerals(alice)
    assert shown["text"] == "got declare sev2 db down" and shown["source"] == "command_ack"
    assert emu.socket_acks[0]["counted"] is True


def test_clicks_and_form_submissions_are_interactive_envelopes(
    emu: SlackEmulator, app: SocketApp
) -> None:
    alice, general = people(emu)
    button = {"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}}
    posted = app.web.chat_postMessage(
        channel=general, text="card", blocks=[{"type": "actions", "elements": [button]}]
    )
    click = emu.click_button(alice, general, posted["ts"], "ack")
    assert click.status == 200 and click.body == ""
    (request,) = app.requests
    assert request.type == "interactive" and request.payload["type"] == "block_actions"
    assert request.accepts_response_payload is True

    name_input = {"type": "plain_text_input", "action_id": "name"}
    form = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Name"}}
            | {"element": name_input}
        ],
    }
    view = app.web.views_open(trigger_id=str(click.trigger_id), view=form)["view"]
    app.answer = lambda request: {"response_action": "errors", "errors": {"b": "Too short"}}
    refused = emu.submit_view(alice, view["id"], {"name": "x"})
    assert refused.status == 200 and refused.view_errors == {"b": "Too short"}
    assert app.requests[-1].payload["type"] == "view_submission"
    app.answer = lambda request: None  # an empty ack closes the form
    assert emu.submit_view(alice, view["id"], {"name": "xavier"}).ok
    assert emu.views(alice) == []


def test_events_carry_their_retry_number_and_are_redelivered_until_acked(
    emu: SlackEmulator, app: SocketApp
) -> None:
    alice, _ = people(emu)
    channel = emu.add_channel("ops", members=[alice, emu.bot_user_id])
    ts = emu.post_user_message(alice, channel, "deploy 1.2.3 done", send_event=False)
    seen: list[str] = []

    def first_one_lost(request: SocketModeRequest) -> object:
        seen.append(request.envelope_id)
        return SKIP if len(seen) == 1 else None

    app.answer = first_one_lost
    reply = emu.add_reaction(alice, channel, ts, "pushpin")
    assert reply is not None and reply.status == 200
    first, second = emu.socket_envelopes
    assert (first["retry_attempt"], first["retry_reason"]) == (0, "")
    assert (second["retry_attempt"], second["retry_reason"]) == (1, "timeout")
    assert first["type"] == second["type"] == "events_api"
    assert first["accepts_response_payload"] is False
    assert first["envelope_id"] != second["envelope_id"]
    assert first["payload"]["event_id"] == second["payload"]["event_id"] == reply.event_id
    assert reply.envelope_ids == seen
    assert [r.retry_attempt for r in app.requests] == [0, 1]

    # Slack's own retry of an event (as over HTTP) is told in the envelope
    again = emu.send_event(
        reply.payload["event"], event_id=reply.event_id, retry_num=2, retry_reason="http_timeout"
    )
    assert again.ok
    assert (app.requests[-1].retry_attempt, app.requests[-1].retry_reason) == (2, "http_timeout")
    assert emu.resend(again).ok  # a replay goes down the socket too
    assert len(app.requests) == 4 and app.requests[-1].payload["event_id"] == reply.event_id


def test_what_is_never_acked_fails_like_a_timeout_and_only_events_are_sent_again(
    emu: SlackEmulator, app: SocketApp
) -> None:
    alice, general = people(emu)
    app.answer = lambda request: SKIP
    reply = emu.send_command(alice, general, "status")
    assert reply.status == 0 and reply.error == "operation_timeout" and not reply.ok
    assert len(emu.socket_envelopes) == 1  # Slack does not resend a slash command
    assert [e["text"] for e in emu.ephemerals(alice)] == [
        '/incident failed with the error "operation_timeout"'
    ]
    emu.socket_retries = 2
    event = emu.send_event({"type": "app_mention", "user": alice, "channel": general, "text": "hi"})
    assert event.status == 0 and event.error == "operation_timeout"
    events = [e for e in emu.socket_envelopes if e["type"] == "events_api"]
    assert [e["retry_attempt"] for e in events] == [0, 1, 2]
    late = app.requests[0].envelope_id  # an ack after Slack gave up does not count
    app.client.send_socket_mode_response(SocketModeResponse(envelope_id=late))
    assert wait_for(lambda: any(a["envelope_id"] == late for a in emu.socket_acks))
    assert [a["counted"] for a in emu.socket_acks] == [False]


def test_concurrent_envelopes_are_matched_to_their_own_acks(
    emu: SlackEmulator, app: SocketApp
) -> None:
    """Acks come back in any order; each answers its own envelope."""
    alice, general = people(emu)

    def slow_first(request: SocketModeRequest) -> dict[str, str]:
        number = int(request.payload["text"].split()[1])
        time.sleep(0.02 * (10 - number))  # the first sent is answered last
        return {"text": f"answer {number}"}

    app.answer = slow_first
    replies: dict[int, Any] = {}

    def send(number: int) -> None:
        replies[number] = emu.send_command(alice, general, f"note {number}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: r.json for n, r in replies.items()} == {
        n: {"text": f"answer {n}"} for n in range(10)
    }
    assert len(emu.socket_envelopes) == 10


def test_with_no_connection_open_a_command_fails_to_dispatch(emu: SlackEmulator) -> None:
    alice, general = people(emu)
    reply = emu.send_command(alice, general, "help")
    assert reply.status == 0 and str(reply.error).startswith("dispatch_failed")
    assert [e["text"] for e in emu.ephemerals(alice)] == [
        '/incident failed with the error "dispatch_failed"'
    ]


# ------------------------------------------------------------------- connections
@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_a_disconnect_makes_the_app_reconnect_through_a_new_ticket(
    emu: SlackEmulator, app: SocketApp, reason: str
) -> None:
    alice, general = people(emu)
    (old,) = emu.socket_connections()
    emu.socket_disconnect(reason, close_after_s=5.0 if reason == "warning" else None)
    assert wait_for(lambda: app.frames_of("disconnect"))
    assert app.frames_of("disconnect")[0]["reason"] == reason
    assert wait_for(lambda: len(emu.calls_to("apps.connections.open")) == 2)
    assert wait_for(lambda: emu.socket_connections(leaving=True) not in ([], [old]))
    assert wait_for(lambda: old not in emu.socket_connections(leaving=True))  # the app left it
    (new,) = emu.socket_connections()
    app.answer = lambda request: {"text": "still here"}
    assert emu.send_command(alice, general, "help").json == {"text": "still here"}
    assert emu.socket_envelopes[-1]["link"] == new != old


def test_each_envelope_goes_to_one_of_several_connections(emu: SlackEmulator) -> None:
    alice, general = people(emu)
    apps = [SocketApp(emu, lambda request: {"text": "ok"}) for _ in range(2)]
    try:
        for number, socket_app in enumerate(apps, 1):
            socket_app.client.connect()
            assert emu.wait_for_socket(number)
        assert wait_for(lambda: apps[1].frames_of("hello"))
        assert apps[1].frames_of("hello")[0]["num_connections"] == 2
        replies = [emu.send_command(alice, general, f"note {n}") for n in range(6)]
        assert all(r.status == 200 for r in replies)
        handled = [r.envelope_id for a in apps for r in a.requests]
        assert sorted(handled) == sorted(e["envelope_id"] for e in emu.socket_envelopes)
        assert len(set(handled)) == 6 and all(a.requests for a in apps)
    finally:
        for socket_app in apps:
            socket_app.close(emu)


def test_revoking_the_app_token_closes_its_connections(emu: SlackEmulator, app: SocketApp) -> None:
    app.client.auto_reconnect_enabled = False
    emu.revoke_app_token(emu.app_token)
    assert wait_for(lambda: emu.socket_connections(leaving=True) == [])


# ------------------------------------------------------------------------------ Bolt
def test_bolt_socket_mode_handler_round_trip(emu: SlackEmulator) -> None:
    """Bolt's SocketModeHandler (what `incidentbot serve` runs): its acks are the answers."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    bolt = App(
        client=WebClient(token=emu.bot_token, base_url=emu.api_url),
        token_verification_enabled=False,
        request_verification_enabled=False,
    )
    reacted = threading.Event()

    @bolt.command("/incident")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack(f"pong {command['text']}")

    @bolt.event("reaction_added")
    def on_reaction(ack: Ack) -> None:
        ack()
        reacted.set()

    handler = SocketModeHandler(bolt, emu.app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        assert emu.wait_for_socket(1)
        alice, general = people(emu)
        reply = emu.send_command(alice, general, "ping")
        assert reply.status == 200 and reply.json == {"text": "pong ping"}
        channel = emu.add_channel("ops", members=[alice, emu.bot_user_id])
        ts = emu.post_user_message(alice, channel, "look", send_event=False)
        event = emu.add_reaction(alice, channel, ts, "pushpin")
        assert event is not None and event.status == 200
        # Bolt acks first and runs the rest of the listener on its worker thread.
        assert reacted.wait(5)
        assert len(emu.socket_envelopes) == 2  # nothing had to be sent again
    finally:
        hang_up(emu, handler.client)
