"""The Slack listeners called directly, one at a time, with what Bolt would hand them.

Slack is the emulator: it sends its real, signed requests to a capture server standing where
the bot would be, and each test takes the body Bolt parses from the request (`BoltRequest`),
calls the listener with a real `Ack`, and lets the work answer over a real `response_url` and
a real `WebClient`, both pointed at the emulator. What the listeners hand on is recorded: the
inbox (`accept(key, lane, work, body)`) and the flows (each call with its arguments, answered
with what the test scripted)."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import Ack
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.adapters.slack.listeners import SlackContext
from bot.core.catalog import default_catalog
from bot.emulators.slack import SlackEmulator
from bot.flows.incidents import IncidentFlows
from bot.flows.unit import Outcome
from bot.sandbox import ScriptedClock
from bot.store.read_models import IncidentSummary

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


class _Capture(BaseHTTPRequestHandler):
    """Where the emulator posts what the bot would receive: kept, answered with an empty 200."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = {k.lower(): [v] for k, v in self.headers.items()}
        self.server.requests.append(BoltRequest(body=raw, headers=headers))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


class Journal:
    """What happened, in order: `stored` (the inbox took it) and `acked` (Bolt would answer)."""

    def __init__(self) -> None:
        self.steps: list[str] = []


class RecordingInbox:
    """The inbox the listeners hand requests to: `accept` records (key, lane, work, body)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.accepted: list[tuple[str, str, str, dict[str, Any]]] = []
        self.refuse: Exception | None = None  # raised by accept, as a database that is down
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {}

    def accept(self, key: str, lane: str, handler: str, payload: dict[str, Any]) -> bool:
        if self.refuse is not None:
            raise self.refuse
        self.accepted.append((key, lane, handler, payload))
        self.journal.steps.append("stored")
        return True

    def register(self, name: str, handler: Callable[[dict[str, Any]], None]) -> None:
        self.handlers[name] = handler


class RecordingFlows:
    """`IncidentFlows` as the listeners see it: every call, checked against the real method's
    signature, is recorded as (name, arguments) and answered from `answers` (an exception
    there is raised); unscripted, `act`-like calls answer ok."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        real = getattr(IncidentFlows, name, None)
        if name.startswith("_") or not callable(real):
            raise AttributeError(f"IncidentFlows has no method {name!r}")
        signature = inspect.signature(real)

        def call(*args: Any, **kwargs: Any) -> Any:
            signature.bind(self, *args, **kwargs)  # a TypeError as the real flows would raise
            self.calls.append((name, {**dict(enumerate(args)), **kwargs}))
            answer = self.answers.get(name, _DEFAULTS.get(name, Outcome(ok=True)))
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call

    def named(self, name: str) -> list[dict[str, Any]]:
        return [arguments for called, arguments in self.calls if called == name]


_DEFAULTS: dict[str, Any] = {"incident": None, "stamps": {}, "check": None}


class TrackedAck(Ack):
    """Bolt's own `Ack`, noting in the journal when it was called."""

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.journal.steps.append("acked")
        return super().__call__(*args, **kwargs)

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    @property
    def answer(self) -> dict[str, Any]:
        """The ack as Slack reads it: its JSON, a plain text body as `{"text": …}`, {} if empty."""
        assert self.response is not None, "the listener did not ack"
        body = self.response.body
        if not body:
            return {}
        if self.response.headers.get("content-type", [""])[0].startswith("application/json"):
            return dict(json.loads(body))
        return {"text": body}


class Rig:
    """The emulated Slack, the capture server, a context for the listeners, and the people."""

    def __init__(self, emu: SlackEmulator, capture: ThreadingHTTPServer) -> None:
        self.emu = emu
        self._capture = capture
        self.journal = Journal()
        self.inbox = RecordingInbox(self.journal)
        self.flows = RecordingFlows()
        self.clock = ScriptedClock(NOW)
        self.client = WebClient(token=emu.bot_token, base_url=f"{emu.api_url}/", retry_handlers=[])
        self.alice, self.bob = emu.user_id("alice"), emu.user_id("bob")
        self.channel = emu.add_channel(
            "inc-42-checkout", members=(self.alice, self.bob, emu.bot_user_id)
        )
        self.ctx = self.context()

    def context(self, **changes: Any) -> SlackContext:
        fields: dict[str, Any] = {
            "flows": self.flows,
            "catalog": default_catalog(),
            "clock": self.clock,
            "work": None,  # the listeners and their work never use it
            "inbox": self.inbox,
            "client": self.client,
        }
        return SlackContext(**{**fields, **changes})

    def incident(self, **changes: Any) -> IncidentSummary:
        """Incident #42 as the flows describe it, in the rig's channel."""
        fields: dict[str, Any] = {
            "id": 42,
            "title": "Checkout API returns 500s",
            "description": "",
            "severity": "SEV2",
            "status": "investigating",
            "private": False,
            "drill": False,
            "summary": None,
            "source": "chat",
            "created_by": self.alice,
            "conversation_id": self.channel,
            "conversation_name": "inc-42-checkout",
            "chat_surface": "slack",
            "service": None,
            "disposition": None,
            "postmortem_key": None,
            "postmortem_url": None,
            "created_at": NOW,
            "updated_at": NOW,
        }
        return IncidentSummary(**{**fields, **changes})

    def ack(self) -> TrackedAck:
        return TrackedAck(self.journal)

    # -- what Slack sends ------------------------------------------------------------------------
    def last_request(self) -> BoltRequest:
        """The request Slack sent the bot for the last thing a person did, as Bolt reads it."""
        sent: list[BoltRequest] = self._capture.requests  # type: ignore[attr-defined]
        assert sent, "Slack sent nothing"
        return sent[-1]

    def _about_to_send(self) -> None:
        self._capture.requests.clear()  # type: ignore[attr-defined]

    def command(
        self, text: str, user: str | None = None, channel: str | None = None, **knobs: Any
    ) -> dict[str, Any]:
        """`/incident <text>` (`knobs`: the emulator's, e.g. a forged `signature`)."""
        self._about_to_send()
        self.emu.send_command(user or self.alice, channel or self.channel, text, **knobs)
        return dict(self.last_request().body)

    def post(self, text: str = "the checkout API returns 500s", **kwargs: Any) -> str:
        """A message by the bot in the channel (buttons go in `blocks`); its ts."""
        return str(self.client.chat_postMessage(channel=self.channel, text=text, **kwargs)["ts"])

    def click(
        self,
        action_id: str,
        value: str,
        user: str | None = None,
        above: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """`user` clicks a button with `action_id` and `value` on a message of the bot's (with
        the blocks `above` it)."""
        button = {
            "type": "button",
            "action_id": action_id,
            "value": value,
            "text": {"type": "plain_text", "text": "Do it"},
        }
        block = {"type": "actions", "block_id": "buttons", "elements": [button]}
        ts = self.post(blocks=[*(above or []), block])
        self._about_to_send()
        self.emu.click_button(user or self.alice, self.channel, ts, action_id, value)
        return dict(self.last_request().body)

    def trigger(self, user: str | None = None) -> str:
        with self.emu._lock:
            return self.emu.ws.issue_trigger(user or self.alice)

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], user: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """`user` fills the modal `view` (opened by the bot) with `values` and submits it: the
        body and the view, as Bolt hands them to a view listener."""
        who = user or self.alice
        opened = self.client.views_open(trigger_id=self.trigger(who), view=view)
        self._about_to_send()
        self.emu.submit_view(who, opened["view"]["id"], values)
        body = dict(self.last_request().body)
        return body, body["view"]

    def said(self, text: str = "the checkout API returns 500s") -> str:
        """A message by Bob in the channel; its ts."""
        return str(self.emu.post_user_message(self.bob, self.channel, text))

    def react(self, ts: str, name: str, *, added: bool = True) -> dict[str, Any]:
        self._about_to_send()
        if added:
            self.emu.add_reaction(self.bob, self.channel, ts, name)
        else:
            self.emu.remove_reaction(self.bob, self.channel, ts, name)
        return dict(self.last_request().body)

    def message_shortcut(
        self, ts: str, callback_id: str, user: str | None = None
    ) -> dict[str, Any]:
        self._about_to_send()
        self.emu.message_shortcut(user or self.alice, self.channel, ts, callback_id)
        return dict(self.last_request().body)

    # -- what people see -------------------------------------------------------------------------
    def ephemerals(self, user: str | None = None) -> list[str]:
        return [str(e.get("text")) for e in self.emu.ephemerals(user or self.alice)]

    def modals(self, user: str | None = None) -> list[dict[str, Any]]:
        return [v for v in self.emu.views(user or self.alice) if v.get("type") == "modal"]


@pytest.fixture
def rig() -> Iterator[Rig]:
    capture = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    capture.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=capture.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{capture.server_port}/slack/events"
    emu = SlackEmulator(bot_url=url, trigger_ttl_s=60.0)
    with emu:
        yield Rig(emu, capture)
    capture.shutdown()
    capture.server_close()


@pytest.fixture
def work(rig: Rig) -> Callable[..., Callable[[dict[str, Any]], None]]:
    """A WORK function bound to the rig's context, as the inbox runs it."""
    return lambda fn, **changes: partial(fn, rig.context(**changes) if changes else rig.ctx)
