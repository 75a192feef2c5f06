"""Shortcuts from the Slack side: global shortcuts and message shortcuts ("More actions")."""

from __future__ import annotations

from .client_side import Headers, SlackSideBase
from .payloads import team_ref, user_ref
from .records import JSON
from .shapes import message_json
from .transport import BotReply


class ShortcutsMixin(SlackSideBase):
    def shortcut(
        self,
        user_id: str,
        callback_id: str,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """A global shortcut (comes with a trigger_id, no channel)."""
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            payload: JSON = {
                "type": "shortcut",
                "token": self.verification_token,
                "action_ts": ws.clock.next_ts(),
                "team": team_ref(ws),
                "user": user_ref(ws, user_id),
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": ws.issue_trigger(user_id),
            }
        return self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )

    def message_shortcut(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        callback_id: str,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """A message shortcut ("More actions" on a message): type ``message_action``, with the
        message, its channel, a trigger_id and a response_url."""
        with self._lock:
            ws = self.ws
            self._check_user(user_id)
            channel = self._channel(channel_id)
            message = ws.find_message(channel_id, message_ts)
            if message is None:
                raise LookupError(f"no message {message_ts} in {channel_id}")
            rid = ws.issue_response_url(user_id, channel_id, source_ts=message_ts)
            payload: JSON = {
                "type": "message_action",
                "token": self.verification_token,
                "action_ts": ws.clock.next_ts(),
                "team": team_ref(ws),
                "user": user_ref(ws, user_id),
                "channel": {"id": channel.id, "name": channel.name},
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": ws.issue_trigger(user_id),
                "response_url": self._response_url(rid),
                "message_ts": message_ts,
                "message": message_json(ws, message),
            }
        return self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )
