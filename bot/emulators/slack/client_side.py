"""The Slack side of the conversation: "Slack" sends signed requests to the bot.

Slash commands and block_actions from messages. Modals live in ``modals.py``, shortcuts in
``shortcuts.py``, events in ``events.py``; in Socket Mode (``socket_mode.py``) the same
requests go down the app's WebSocket as envelopes. No lock is held while the bot is called, so
the bot may call the Web API back while it handles a request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from .blockkit import find_element, iter_elements, normalize_blocks, validate_blocks
from .payloads import entry_for, message_state, option_for, team_ref, user_ref
from .records import JSON, Channel
from .shapes import message_json
from .state import Workspace
from .transport import BotReply, post, signed_headers

FORM = "application/x-www-form-urlencoded"
JSON_CT = "application/json"
Headers = Mapping[str, str] | None
Envelope = tuple[str, JSON, tuple[int, str] | None]  # Socket Mode: type, payload, events' retry


class SlackSideBase:
    """State shared by the Slack-side mixins (set by ``SlackEmulator.__init__``)."""

    ws: Workspace
    _lock: threading.RLock
    signing_secret: str
    verification_token: str
    bot_url: str | None
    bot_timeout_s: float
    replies: list[BotReply]
    subscribed_events: frozenset[str] | None
    _root_url: str
    _event_bodies: dict[str, bytes]

    def _send(
        self,
        body: bytes,
        content_type: str,
        *,
        signature: str | None,
        timestamp: int | None,
        unsigned: bool,
        extra_headers: Headers,
        envelope: Envelope | None = None,
    ) -> BotReply:
        """POSTs to ``bot_url``, or sends ``envelope`` (kind, payload, events' retry) down the
        app's socket when it is in Socket Mode."""
        if envelope is not None and self._socket_active():
            return self._send_socket(*envelope)
        if not self.bot_url:
            raise RuntimeError("set SlackEmulator.bot_url to the bot's Slack request URL first")
        headers = signed_headers(
            self.signing_secret,
            body,
            content_type,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )
        reply = post(self.bot_url, body, headers, timeout=self.bot_timeout_s)
        with self._lock:
            self.replies.append(reply)
        return reply

    def _socket_active(self) -> bool:
        return False  # SocketModeMixin knows better

    def _send_socket(self, kind: str, payload: JSON, retry: tuple[int, str] | None) -> BotReply:
        raise NotImplementedError

    def _send_payload(
        self,
        payload: JSON,
        *,
        signature: str | None,
        timestamp: int | None,
        unsigned: bool,
        extra_headers: Headers,
    ) -> BotReply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        reply = self._send(
            body,
            FORM,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
            envelope=("interactive", payload, None),
        )
        reply.payload = payload
        reply.trigger_id = payload.get("trigger_id")
        reply.response_url = payload.get("response_url")
        return reply

    def _channel(self, channel_id: str) -> Channel:
        channel = self.ws.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id!r}")
        return channel

    def _check_user(self, user_id: str) -> None:
        if user_id not in self.ws.users:
            raise KeyError(f"unknown user {user_id!r}")

    def _channel_name(self, channel: Channel) -> str:
        if channel.is_im:
            return "directmessage"
        if channel.is_private and self.ws.bot_user_id not in channel.members:
            return "privategroup"
        return channel.name

    def _response_url(self, rid: str) -> str:
        return f"{self._root_url}/response/{rid}"

    def _deliver(self, channel_id: str, user_id: str, data: JSON, source: str) -> None:
        """Shows a command/response_url message: in the channel or to the user only."""
        ws = self.ws
        blocks = data.get("blocks")
        stored = normalize_blocks(blocks, ws.ids.short) if isinstance(blocks, list) else None
        text = str(data.get("text") or ("This content can't be displayed." if stored else ""))
        attachments = data.get("attachments") if isinstance(data.get("attachments"), list) else None
        thread_ts = data.get("thread_ts")
        if data.get("response_type") == "in_channel":
            ws.post(
                channel_id,
                text=text,
                user=ws.bot_user_id,
                blocks=stored,
                attachments=attachments,
                thread_ts=thread_ts,
            )
        else:
            ws.add_ephemeral(
                channel_id,
                user_id,
                text=text,
                source=source,
                blocks=stored,
                attachments=attachments,
                thread_ts=thread_ts,
                sender=ws.bot_user_id,
            )


class InteractionsMixin(SlackSideBase):
    def send_command(
        self,
        user_id: str,
        channel_id: str,
        text: str = "",
        command: str = "/incident",
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """A slash command, form-encoded with every field Slack sends."""
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            channel = self._channel(channel_id)
            trigger_id = ws.issue_trigger(user_id)
            response_url = self._response_url(ws.issue_response_url(user_id, channel_id))
            fields = {
                "token": self.verification_token,
                "team_id": ws.team_id,
                "team_domain": ws.domain,
                "channel_id": channel_id,
                "channel_name": self._channel_name(channel),
                "user_id": user_id,
                "user_name": ws.users[user_id].name,
                "command": command,
                "text": text,
                "api_app_id": ws.app_id,
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
        reply = self._send(
            urlencode(fields).encode(),
            FORM,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
            envelope=("slash_commands", dict(fields), None),
        )
        reply.payload, reply.trigger_id, reply.response_url = dict(fields), trigger_id, response_url
        with self._lock:
            self._apply_command_ack(reply, command, user_id, channel_id)
        return reply

    def _apply_command_ack(
        self, reply: BotReply, command: str, user_id: str, channel_id: str
    ) -> None:
        failure = None
        data: JSON = {}
        if reply.status != 200:
            failure = (
                "operation_timeout" if reply.error == "operation_timeout" else "dispatch_failed"
            )
        elif reply.body.strip():
            data = reply.json if isinstance(reply.json, dict) else {"text": reply.body}
            blocks = data.get("blocks")
            if blocks is not None and (not isinstance(blocks, list) or validate_blocks(blocks)):
                failure = "invalid_blocks"
        if failure:
            reply.error = reply.error or failure
            self.ws.add_ephemeral(
                channel_id,
                user_id,
                text=f'{command} failed with the error "{failure}"',
                source="slack_error",
            )
        elif any(data.get(k) for k in ("text", "blocks", "attachments")):
            self._deliver(channel_id, user_id, data, "command_ack")

    # -------------------------------------------------------- block_actions
    def click_button(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """Clicks a button the bot rendered; LookupError if it is not in the stored message.

        ``value``, when given, must equal the rendered button's value (an assertion aid).
        Slack ignores the body of the bot's answer to block_actions, and so does this.
        """

        def action(block: JSON, element: JSON) -> tuple[JSON, JSON | None]:
            if value is not None and element.get("value") != value:
                raise LookupError(f"button {action_id!r} has value {element.get('value')!r}")
            data = {"action_id": action_id, "block_id": block["block_id"], "text": element["text"]}
            for key in ("value", "style", "url"):
                if key in element:
                    data[key] = element[key]
            return {**data, "type": "button", "action_ts": self.ws.clock.next_ts()}, None

        return self._message_action(
            user_id,
            channel_id,
            message_ts,
            action_id,
            block_id,
            {"button"},
            action,
            (signature, timestamp, unsigned, extra_headers),
        )

    def select_option(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: Any,
        block_id: str | None = None,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """Picks ``value`` in a non-button element of a message: static_select/overflow (an
        option value), checkboxes (a list), users_select (a user id), datepicker …"""

        def action(block: JSON, element: JSON) -> tuple[JSON, JSON | None]:
            kind, where = str(element["type"]), f"{block['block_id']}/{action_id}"
            head = {"type": kind, "action_id": action_id, "block_id": block["block_id"]}
            if kind == "overflow":
                picked = {"selected_option": option_for(element, value, where)}
                return {**head, **picked, "action_ts": self.ws.clock.next_ts()}, None
            entry = entry_for(self.ws, element, value, where)
            fields = {k: v for k, v in entry.items() if k != "type"}
            return {**head, **fields, "action_ts": self.ws.clock.next_ts()}, entry

        return self._message_action(
            user_id,
            channel_id,
            message_ts,
            action_id,
            block_id,
            None,
            action,
            (signature, timestamp, unsigned, extra_headers),
        )

    def _message_action(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        block_id: str | None,
        types: set[str] | None,
        make: Callable[[JSON, JSON], tuple[JSON, JSON | None]],
        knobs: tuple[str | None, int | None, bool, Headers],
    ) -> BotReply:
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            channel = self._channel(channel_id)
            message = ws.find_message(channel_id, message_ts)
            ephemeral = ws.find_ephemeral(message_ts) if message is None else None
            if message is None and (
                ephemeral is None or ephemeral.user != user_id or ephemeral.channel != channel_id
            ):
                raise LookupError(f"no message {message_ts} in {channel_id} visible to {user_id}")
            blocks = (message.blocks if message else ephemeral.blocks if ephemeral else None) or []
            if types is None:
                types = {e["type"] for _, e in iter_elements(blocks)} - {
                    "button",
                    "workflow_button",
                }
            block, element = find_element(blocks, action_id, block_id=block_id, types=types)
            action, entry = make(block, element)
            state = message_state(blocks)
            if entry is not None:
                state.setdefault(block["block_id"], {})[action_id] = entry
            rid = ws.issue_response_url(
                user_id, channel_id, source_ts=message_ts, source_ephemeral=message is None
            )
            container: JSON = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": message is None,
            }
            if message is not None and message.thread_ts:
                container["thread_ts"] = message.thread_ts
            payload: JSON = {
                "type": "block_actions",
                "user": user_ref(ws, user_id),
                "api_app_id": ws.app_id,
                "token": self.verification_token,
                "container": container,
                "trigger_id": ws.issue_trigger(user_id),
                "team": team_ref(ws),
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": channel_id, "name": self._channel_name(channel)},
            }
            if message is not None:
                payload["message"] = message_json(ws, message)
            payload["state"] = {"values": state}
            payload["response_url"] = self._response_url(rid)
            payload["actions"] = [action]
        signature, timestamp, unsigned, extra = knobs
        return self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra,
        )
