"""The Chat port over slack_sdk's WebClient. Slack's answers become the port's errors:
`ConversationGone`, `ChatRefused` (with what to do), `RateLimited`, `NameTaken`, and
`IntegrationError` for the rest (service "slack", Slack's own error code)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.adapters.slack import blocks
from bot.adapters.slack.checklist import checklist_blocks
from bot.adapters.slack.errors import slack_errors
from bot.adapters.slack.pacing import SlackPacer
from bot.flows.ports import (
    CardView,
    ChecklistView,
    IntegrationError,
    Line,
    Message,
    NameTaken,
)

EFFECT_EVENT = "incidentbot_effect"  # message metadata carrying the outbox effect's key
FIND_PAGES = 5  # a retry looks this far back (5 × 200 messages) for its own message


def _keyed(key: str | None) -> dict[str, Any]:
    """Message metadata naming the effect that posted the message, so that a retry after a
    lost answer can find it in the history instead of posting it twice (Slack has no
    idempotency key of its own)."""
    return {"metadata": {"event_type": EFFECT_EVENT, "event_payload": {"key": key}}} if key else {}


class SlackChat:
    surface = "Slack"
    kind = "slack"

    def __init__(self, client: WebClient, pacer: SlackPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or SlackPacer()
        self._me: str | None = None

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        api_method = method.__name__.replace("_", ".", 1)  # chat_postMessage -> chat.postMessage
        self.pacer.before(api_method, kwargs.get("channel"))
        with slack_errors():
            response = method(**kwargs)
        return dict(response.data) if isinstance(response.data, dict) else {}

    def create_channel(self, name: str, *, private: bool) -> str:
        try:
            data = self._call(self.client.conversations_create, name=name, is_private=private)
        except IntegrationError as exc:
            if exc.code == "name_taken":
                raise NameTaken(name) from exc
            raise
        return str(data["channel"]["id"])

    def own_channel(self, name: str) -> str | None:
        """The live channel called `name` if the bot created it (a create whose answer was lost)."""
        if self._me is None:
            self._me = str(self._call(self.client.auth_test).get("user_id") or "")
        cursor: str | None = None
        while True:
            data = self._call(
                self.client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for channel in data.get("channels", []):
                if channel.get("name") == name and channel.get("creator") == self._me:
                    return str(channel["id"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def find_posted(self, channel_id: str, key: str) -> str | None:
        """The ts of the message posted with `key` (see `_keyed`) among the channel's latest
        messages (newest first; the clocks of the bot and Slack need not agree)."""
        cursor: str | None = None
        for _page in range(FIND_PAGES):
            data = self._history(channel_id, cursor)
            for message in data.get("messages", []):
                meta = message.get("metadata") or {}
                if meta.get("event_type") == EFFECT_EVENT and (
                    (meta.get("event_payload") or {}).get("key") == key
                ):
                    return str(message["ts"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    def _history(self, channel_id: str, cursor: str | None) -> dict[str, Any]:
        kwargs = {"channel": channel_id, "include_all_metadata": True, "limit": 200}
        try:
            return self._call(self.client.conversations_history, cursor=cursor, **kwargs)
        except IntegrationError as exc:
            if exc.code != "not_in_channel":
                raise
        # a public channel the bot posts to without being in it (chat:write.public, e.g. the
        # feed): join it to read what it posted there
        self._call(self.client.conversations_join, channel=channel_id)
        return self._call(self.client.conversations_history, cursor=cursor, **kwargs)

    def invite(self, channel_id: str, users: Sequence[str]) -> None:
        for user in dict.fromkeys(users):
            try:
                self._call(self.client.conversations_invite, channel=channel_id, users=user)
            except IntegrationError as exc:
                if exc.code not in ("already_in_channel", "cant_invite_self"):
                    raise

    def topic_for(self, card: CardView) -> str:
        return blocks.topic(card)

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._call(self.client.conversations_setTopic, channel=channel_id, topic=topic)

    def post_card(self, channel_id: str, card: CardView, *, key: str | None = None) -> str:
        data = self._call(
            self.client.chat_postMessage,
            channel=channel_id,
            text=blocks.card_fallback(card),
            blocks=blocks.card_blocks(card),
            **_keyed(key),
        )
        return str(data["ts"])

    def update_card(self, channel_id: str, ts: str, card: CardView) -> None:
        self._call(
            self.client.chat_update,
            channel=channel_id,
            ts=ts,
            text=blocks.card_fallback(card),
            blocks=blocks.card_blocks(card),
        )

    def propose_mitigation(
        self, channel_id: str, card: CardView, at: datetime, *, key: str | None = None
    ) -> str:
        text, message_blocks = blocks.mitigation_proposal(card, at)
        data = self._call(
            self.client.chat_postMessage,
            channel=channel_id,
            text=text,
            blocks=message_blocks,
            **_keyed(key),
        )
        return str(data["ts"])

    def post_checklist(
        self, channel_id: str, checklist: ChecklistView, *, key: str | None = None
    ) -> str:
        text, message_blocks = checklist_blocks(checklist)
        data = self._call(
            self.client.chat_postMessage,
            channel=channel_id,
            text=text,
            blocks=message_blocks,
            unfurl_links=False,
            **_keyed(key),
        )
        return str(data["ts"])

    def update_checklist(self, channel_id: str, ts: str, checklist: ChecklistView) -> None:
        text, message_blocks = checklist_blocks(checklist)
        self._call(
            self.client.chat_update, channel=channel_id, ts=ts, text=text, blocks=message_blocks
        )

    def pin(self, channel_id: str, ts: str) -> None:
        try:
            self._call(self.client.pins_add, channel=channel_id, timestamp=ts)
        except IntegrationError as exc:
            if exc.code != "already_pinned":
                raise

    def post_line(
        self, channel_id: str, line: Line, card: CardView, *, key: str | None = None
    ) -> str:
        text = blocks.drill_banner(card) + blocks.line_text(line, card)
        extra = (
            {"blocks": blocks.snooze_blocks(text, card.id)}
            if line.data.get("reminder") == "status_update"
            else {}
        )
        data = self._call(
            self.client.chat_postMessage,
            channel=channel_id,
            text=text,
            unfurl_links=False,
            **extra,
            **_keyed(key),
        )
        return str(data["ts"])

    def announce(self, feed: str, card: CardView, *, key: str | None = None) -> tuple[str, str]:
        data = self._call(
            self.client.chat_postMessage,
            channel=feed,
            text=blocks.card_fallback(card),
            blocks=blocks.announcement_blocks(card),
            unfurl_links=False,
            **_keyed(key),
        )
        return str(data["channel"]), str(data["ts"])

    def update_announcement(self, channel_id: str, ts: str, card: CardView) -> None:
        self._call(
            self.client.chat_update,
            channel=channel_id,
            ts=ts,
            text=blocks.card_fallback(card),
            blocks=blocks.announcement_blocks(card),
        )

    def fetch_message(self, channel_id: str, ts: str) -> Message:
        data = self._call(
            self.client.conversations_history,
            channel=channel_id,
            latest=ts,
            oldest=ts,
            inclusive=True,
            limit=1,
        )
        found = [m for m in data.get("messages", []) if m.get("ts") == ts]
        if not found:  # a reply in a thread is not in the channel's history
            data = self._call(
                self.client.conversations_replies,
                channel=channel_id,
                ts=ts,
                latest=ts,
                inclusive=True,
                limit=1,
            )
            found = [m for m in data.get("messages", []) if m.get("ts") == ts]
        if not found:
            raise IntegrationError(
                "slack", "message_not_found", retryable=False, detail=f"{channel_id}/{ts}"
            )
        link = self._call(self.client.chat_getPermalink, channel=channel_id, message_ts=ts)
        message = found[0]
        return Message(
            text=str(message.get("text") or ""),
            user=message.get("user"),
            permalink=str(link.get("permalink") or ""),
        )

    def user_by_email(self, email: str) -> str | None:
        try:
            data = self._call(self.client.users_lookupByEmail, email=email)
        except IntegrationError as exc:
            if exc.code == "users_not_found":
                return None
            raise
        return str(data["user"]["id"])

    def _user(self, user_id: str) -> dict[str, Any] | None:
        try:
            data = self._call(self.client.users_info, user=user_id)
        except IntegrationError as exc:
            if exc.code == "user_not_found":
                return None
            raise
        user: dict[str, Any] = data["user"]
        return user

    def user_email(self, user_id: str) -> str | None:
        user = self._user(user_id) or {}
        email = user.get("profile", {}).get("email")
        return str(email) if email else None

    def direct_message(self, user_id: str, line: Line) -> str:
        """A message from the bot in its direct conversation with the user."""
        opened = self._call(self.client.conversations_open, users=user_id)
        data = self._call(
            self.client.chat_postMessage,
            channel=opened["channel"]["id"],
            text=blocks.direct_text(line),
            unfurl_links=False,
        )
        return str(data["ts"])

    def user_name(self, user_id: str) -> str | None:
        """The name people know them by (display name, else real name)."""
        user = self._user(user_id) or {}
        profile = user.get("profile", {})
        name = profile.get("display_name") or profile.get("real_name") or user.get("name")
        return str(name) if name else None

    def members(self, channel_id: str) -> list[str]:
        """Everyone in the channel (all pages of conversations.members)."""
        found: list[str] = []
        cursor: str | None = None
        while True:
            data = self._call(
                self.client.conversations_members, channel=channel_id, limit=200, cursor=cursor
            )
            found += [str(u) for u in data.get("members", [])]
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return found

    def archive(self, channel_id: str) -> None:
        try:
            self._call(self.client.conversations_archive, channel=channel_id)
        except IntegrationError as exc:
            if exc.code != "already_archived":
                raise

    def usergroup_members(self, handle: str) -> list[str] | None:
        """The members of the user group `@handle`; None when no enabled group has it."""
        data = self._call(self.client.usergroups_list, include_users=True)
        for group in data.get("usergroups", []):
            if group.get("handle") == handle and not group.get("date_delete"):
                return [str(u) for u in group.get("users", [])]
        return None
