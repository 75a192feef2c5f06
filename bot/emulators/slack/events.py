"""Events API deliveries (human messages, reactions, app home, raw events) and response_url.

Slack only delivers channel events to a bot that is a member of the channel and subscribed
to the event; ``post_user_message`` / ``add_reaction`` follow that rule and return None
(no delivery) otherwise.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from .blockkit import normalize_blocks, validate_blocks
from .client_side import JSON_CT, Headers, SlackSideBase
from .records import JSON, Channel
from .shapes import view_json
from .transport import BotReply, post

RESPONSE_URL_MAX_USES = 5


def subscription_name(event: JSON, channel: Channel | None) -> str:
    """The name an event has in an app's event subscriptions (message.channels …)."""
    kind = str(event.get("type"))
    if kind != "message" or channel is None:
        return kind
    if channel.is_im:
        return "message.im"
    return "message.groups" if channel.is_private else "message.channels"


class EventsMixin(SlackSideBase):
    def send_event(
        self,
        event: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        event_id: str | None = None,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """Delivers ``event`` in an ``event_callback`` envelope.

        Passing the ``event_id`` of an earlier delivery re-sends that exact envelope (like
        Slack's retries); ``retry_num`` adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``
        (in Socket Mode: the envelope's ``retry_attempt`` / ``retry_reason``).
        """
        with self._lock:
            ws = self.ws
            event = {**event}
            event.setdefault("event_ts", ws.clock.next_ts())
            if event_id is not None and event_id in self._event_bodies:
                body = self._event_bodies[event_id]
            else:
                event_id = event_id or ws.ids.new("Ev")
                context = f'{{"team":"{ws.team_id}","app":"{ws.app_id}"}}'
                envelope = {
                    "token": self.verification_token,
                    "team_id": ws.team_id,
                    "context_team_id": ws.team_id,
                    "context_enterprise_id": None,
                    "api_app_id": ws.app_id,
                    "event": event,
                    "type": "event_callback",
                    "event_id": event_id,
                    "event_time": int(time.time()),
                    "authorizations": [
                        {
                            "enterprise_id": None,
                            "team_id": ws.team_id,
                            "user_id": ws.bot_user_id,
                            "is_bot": True,
                            "is_enterprise_install": False,
                        }
                    ],
                    "is_ext_shared_channel": False,
                    "event_context": "4-" + base64.urlsafe_b64encode(context.encode()).decode(),
                }
                body = json.dumps(envelope).encode()
                self._event_bodies[event_id] = body
        headers = dict(extra_headers or {})
        if retry_num is not None:
            headers.setdefault("X-Slack-Retry-Num", str(retry_num))
            headers.setdefault("X-Slack-Retry-Reason", retry_reason or "http_timeout")
        reply = self._send(
            body,
            JSON_CT,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=headers,
            envelope=("events_api", json.loads(body), (retry_num or 0, retry_reason or "")),
        )
        reply.payload = json.loads(body)
        reply.event_id = event_id
        return reply

    def retry_event(
        self, reply: BotReply, retry_num: int = 1, retry_reason: str = "http_timeout"
    ) -> BotReply:
        """Slack's retry of an earlier delivery: same envelope, fresh signature."""
        if reply.event_id is None:
            raise ValueError("not an Events API delivery")
        return self.send_event(
            reply.payload.get("event", {}),
            retry_num=retry_num,
            retry_reason=retry_reason,
            event_id=reply.event_id,
        )

    def url_verification(self, challenge: str = "emulator-challenge") -> BotReply:
        with self._lock:
            body = {"token": self.verification_token, "challenge": challenge}
        body["type"] = "url_verification"
        reply = self._send(
            json.dumps(body).encode(),
            JSON_CT,
            signature=None,
            timestamp=None,
            unsigned=False,
            extra_headers=None,
        )
        reply.payload = body
        return reply

    def resend(self, reply: BotReply) -> BotReply:
        """Replays the exact bytes and headers (signature included) of an earlier request; in
        Socket Mode, sends its last envelope's payload again (in a new envelope)."""
        if reply.url.startswith("ws://"):
            sent = json.loads(reply.request_body)
            retry = (
                (sent["retry_attempt"], sent["retry_reason"]) if "retry_attempt" in sent else None
            )
            again = self._send_socket(sent["type"], sent["payload"], retry)
            again.payload, again.event_id = reply.payload, reply.event_id
            return again
        again = post(
            reply.url, reply.request_body, reply.request_headers, timeout=self.bot_timeout_s
        )
        again.payload, again.event_id = reply.payload, reply.event_id
        with self._lock:
            self.replies.append(again)
        return again

    def _maybe_deliver(self, event: JSON, channel_id: str | None) -> BotReply | None:
        with self._lock:
            channel = self.ws.channels.get(channel_id or "")
            if not self.bot_url and not self._socket_active():
                return None
            if channel is not None and self.ws.bot_user_id not in channel.members:
                return None
            subscribed = self.subscribed_events
            if subscribed is not None and subscription_name(event, channel) not in subscribed:
                return None
        return self.send_event(event)

    # -------------------------------------------------------- human actions
    def join(self, channel_id: str, user_id: str) -> BotReply | None:
        """A human joins a public channel: membership, the ``channel_join`` message and the
        ``member_joined_channel`` event (delivered if the bot is in the channel)."""
        with self._lock:
            event = self._join(channel_id, user_id)
        return self._maybe_deliver(event, channel_id) if event else None

    def _join(self, channel_id: str, user_id: str) -> JSON | None:
        ws = self.ws
        self._check_user(user_id)
        channel = self._channel(channel_id)
        if user_id in channel.members:
            return None
        if channel.is_private or channel.is_archived:
            raise ValueError(f"{user_id} cannot join private or archived {channel_id}")
        channel.members.append(user_id)
        joined = ws.post(
            channel_id,
            text=f"<@{user_id}> has joined the channel",
            user=user_id,
            subtype="channel_join",
        )
        return {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "C",
            "team": ws.team_id,
            "event_ts": joined.ts,
        }

    def post_user_message(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        send_event: bool = True,
    ) -> str:
        """A human posts ``text``; the ``message`` event (and ``app_mention`` if the bot is
        mentioned) goes to the bot when Slack would deliver it. Returns the message ts.

        Like the Slack client, a non-member first joins a public channel (see ``join``);
        private and archived channels raise ValueError."""
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            channel = self._channel(channel_id)
            if channel.is_archived:
                raise ValueError(f"{channel_id} is archived")
            joined = self._join(channel_id, user_id) if user_id not in channel.members else None
            client_msg_id = str(uuid.uuid4())
            section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            blocks = normalize_blocks([{"type": "rich_text", "elements": [section]}], ws.ids.short)
            message = ws.post(
                channel_id,
                text=text,
                user=user_id,
                blocks=blocks,
                thread_ts=thread_ts,
                extra={"client_msg_id": client_msg_id},
            )
            base: JSON = {
                "client_msg_id": client_msg_id,
                "type": "message",
                "text": text,
                "user": user_id,
                "ts": message.ts,
                "blocks": blocks,
                "team": ws.team_id,
            }
            if message.thread_ts:
                base["thread_ts"] = message.thread_ts
                parent = ws.find_message(channel_id, message.thread_ts)
                base["parent_user_id"] = parent.user if parent else None
            kind = "im" if channel.is_im else "group" if channel.is_private else "channel"
            events = [{**base, "channel": channel_id, "event_ts": message.ts, "channel_type": kind}]
            if f"<@{ws.bot_user_id}>" in text:
                mention = {**base, "type": "app_mention", "channel": channel_id}
                events.append({**mention, "event_ts": message.ts})
        if send_event:
            if joined is not None:
                self._maybe_deliver(joined, channel_id)
            for event in events:
                self._maybe_deliver(event, channel_id)
        return message.ts

    def add_reaction(
        self, user_id: str, channel_id: str, ts: str, name: str = "pushpin"
    ) -> BotReply | None:
        """A human reacts; state is updated and ``reaction_added`` delivered if Slack would."""
        return self._react(user_id, channel_id, ts, name, added=True)

    def remove_reaction(
        self, user_id: str, channel_id: str, ts: str, name: str = "pushpin"
    ) -> BotReply | None:
        return self._react(user_id, channel_id, ts, name, added=False)

    def _react(
        self, user_id: str, channel_id: str, ts: str, name: str, *, added: bool
    ) -> BotReply | None:
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            message = ws.find_message(channel_id, ts)
            if message is None:
                raise LookupError(f"no message {ts} in {channel_id}")
            users = message.reactions.setdefault(name, [])
            if added == (user_id in users):
                raise ValueError(f"{user_id} has {'already' if added else 'not'} reacted :{name}:")
            if added:
                users.append(user_id)
            else:
                users.remove(user_id)
                if not users:
                    del message.reactions[name]
            event = {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user_id,
                "reaction": name,
                "item": {"type": "message", "channel": channel_id, "ts": ts},
                "item_user": message.user,
                "event_ts": ws.clock.next_ts(),
            }
        return self._maybe_deliver(event, channel_id)

    def open_home(self, user_id: str) -> BotReply | None:
        """The user opens the app's Home tab (``app_home_opened``)."""
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            event: JSON = {
                "type": "app_home_opened",
                "user": user_id,
                "channel": ws.im_with(user_id).id,
                "tab": "home",
                "event_ts": ws.clock.next_ts(),
            }
            home = ws.views.get(ws.home_views.get(user_id, ""))
            if home is not None:
                event["view"] = view_json(ws, home)
        return self._maybe_deliver(event, None)

    # --------------------------------------------------------- response_url
    def _handle_response_url(self, rid: str, payload: Any) -> tuple[int, JSON]:
        """``POST /response/<id>`` (caller holds the lock): applies it like Slack does."""
        ws = self.ws
        target = ws.response_targets.get(rid)
        if target is None:
            return 404, {"ok": False, "error": "no_service"}
        if time.monotonic() - target.created > ws.response_url_ttl_s:
            return 404, {"ok": False, "error": "expired_url"}
        if target.uses >= RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        if not isinstance(payload, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        blocks = payload.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or validate_blocks(blocks)):
            return 400, {"ok": False, "error": "invalid_blocks"}
        has_content = any(payload.get(k) for k in ("text", "blocks", "attachments"))
        delete, replace = (
            bool(payload.get("delete_original")),
            bool(payload.get("replace_original")),
        )
        if not has_content and not delete:
            return 400, {"ok": False, "error": "no_text"}
        target.uses += 1
        source_ts = target.source_ts
        if source_ts and delete:
            self._delete_source(target.channel_id, source_ts, target.source_ephemeral)
        if source_ts and replace and not delete:
            self._replace_source(target.channel_id, source_ts, target.source_ephemeral, payload)
        elif has_content:
            self._deliver(target.channel_id, target.user_id, payload, "response_url")
        return 200, {"ok": True}

    def _delete_source(self, channel_id: str, ts: str, ephemeral: bool) -> None:
        if ephemeral:
            found = self.ws.find_ephemeral(ts)
            if found is not None:
                found.deleted = True
        else:
            self.ws.delete_message(channel_id, ts)

    def _replace_source(self, channel_id: str, ts: str, ephemeral: bool, payload: JSON) -> None:
        ws = self.ws
        blocks = payload.get("blocks")
        stored = normalize_blocks(blocks, ws.ids.short) if isinstance(blocks, list) else None
        text = str(payload.get("text") or ("This content can't be displayed." if stored else ""))
        target = ws.find_ephemeral(ts) if ephemeral else ws.find_message(channel_id, ts)
        if target is None:
            return
        target.text, target.blocks = text, stored
        if isinstance(payload.get("attachments"), list):
            target.attachments = payload["attachments"]
