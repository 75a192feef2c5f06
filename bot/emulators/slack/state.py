"""Workspace state of the Slack emulator: users, channels, messages, views, triggers.

Guarded by the emulator's single lock; nothing here does I/O.
"""

from __future__ import annotations

import secrets
import time

from .records import (
    JSON,
    Channel,
    Clock,
    Ephemeral,
    Ids,
    Message,
    ResponseTarget,
    Trigger,
    User,
    UserGroup,
    View,
    channel_name_error,
)


class Workspace:
    """All mutable Slack state. Callers hold the emulator lock."""

    def __init__(
        self,
        *,
        team_name: str = "Incidentbot Emulated",
        domain: str = "incidentbot-emu",
        bot_name: str = "incidentbot",
        trigger_ttl_s: float = 3.0,
        response_url_ttl_s: float = 1800.0,
    ) -> None:
        self.ids = Ids()
        self.clock = Clock()
        self.team_name = team_name
        self.domain = domain
        self.bot_name = bot_name
        self.trigger_ttl_s = trigger_ttl_s
        self.response_url_ttl_s = response_url_ttl_s
        self.team_id = self.ids.new("T")
        self.app_id = self.ids.new("A")
        self.bot_id = self.ids.new("B")
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self.bot_user_id = self.add_user(
            bot_name, real_name="Incident Bot", tz="America/Los_Angeles", is_bot=True
        )

    def seed(self) -> None:
        """A small realistic workspace: three humans and #general."""
        alice = self.add_user(
            "alice", real_name="Alice Anders", tz="America/New_York", is_admin=True
        )
        bob = self.add_user("bob", real_name="Bob Brown", tz="Europe/Berlin")
        carol = self.add_user("carol", real_name="Carol Chen", tz="Asia/Tokyo")
        self.users[alice].is_owner = True
        general = self.add_channel("general", members=(alice, bob, carol), creator=alice)
        self.channels[general].is_general = True
        self.add_usergroup("security-oncall", [bob, carol], name="Security on-call")
        self.add_usergroup("dba-oncall", [carol], name="DBA on-call")

    def add_usergroup(self, handle: str, users: list[str], *, name: str | None = None) -> str:
        if any(g.handle == handle for g in self.usergroups.values()):
            raise ValueError(f"name_already_exists: {handle!r}")
        for uid in users:
            if uid not in self.users:
                raise ValueError(f"user_not_found: {uid!r}")
        gid = self.ids.new("S")
        creator = next((u.id for u in self.users.values() if u.is_owner), self.bot_user_id)
        self.usergroups[gid] = UserGroup(gid, handle, name or handle, list(users), creator)
        return gid

    # ---------------------------------------------------------------- users
    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_bot: bool = False,
    ) -> str:
        if any(u.name == name for u in self.users.values()):
            raise ValueError(f"user name already taken: {name!r}")
        uid = self.ids.new("U")
        if email is None and not is_bot:
            email = f"{name}@example.com"
        self.users[uid] = User(
            id=uid,
            name=name,
            real_name=real_name or name.capitalize(),
            email=email,
            tz=tz,
            is_admin=is_admin,
            is_bot=is_bot,
            bot_id=self.bot_id if is_bot else None,
        )
        return uid

    def user_id(self, name: str) -> str:
        for user in self.users.values():
            if user.name == name:
                return user.id
        raise KeyError(f"no user named {name!r}")

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        for user in self.users.values():
            if user.email and user.email.lower() == wanted and not user.deleted:
                return user
        return None

    # ------------------------------------------------------------- channels
    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        creator: str | None = None,
    ) -> str:
        error = channel_name_error(name)
        if error:
            raise ValueError(f"{error}: {name!r}")
        if self.channel_named(name) is not None:
            raise ValueError(f"name_taken: {name!r}")
        for uid in members:
            if uid not in self.users:
                raise ValueError(f"user_not_found: {uid!r}")
        creator = creator or (members[0] if members else self.bot_user_id)
        cid = self.ids.new("C")
        self.channels[cid] = Channel(
            id=cid,
            name=name,
            is_private=is_private,
            created=int(time.time()),
            creator=creator,
            members=list(dict.fromkeys(members)),
        )
        self.messages[cid] = []
        return cid

    def channel_named(self, name: str) -> Channel | None:
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        return None

    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id, or by name with or without a leading '#'."""
        if ref in self.channels:
            return self.channels[ref]
        return self.channel_named(ref.removeprefix("#"))

    def im_with(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        cid = self.ids.new("D")
        self.channels[cid] = Channel(
            id=cid,
            name=user_id,
            is_private=True,
            created=int(time.time()),
            creator=self.bot_user_id,
            members=[self.bot_user_id, user_id],
            is_im=True,
            im_user=user_id,
        )
        self.messages[cid] = []
        return self.channels[cid]

    def bot_can_see(self, channel: Channel) -> bool:
        return not channel.is_private or self.bot_user_id in channel.members

    # ------------------------------------------------------------- messages
    def post(
        self,
        channel_id: str,
        *,
        text: str,
        user: str,
        blocks: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        metadata: JSON | None = None,
        subtype: str | None = None,
        thread_ts: str | None = None,
        extra: JSON | None = None,
    ) -> Message:
        # system messages (channel_join, channel_topic …) carry the user but no bot_id
        is_bot = user == self.bot_user_id and subtype in (None, "thread_broadcast")
        message = Message(
            ts=self.clock.next_ts(),
            channel=channel_id,
            text=text,
            user=user,
            bot_id=self.bot_id if is_bot else None,
            app_id=self.app_id if is_bot else None,
            blocks=blocks,
            attachments=attachments,
            metadata=metadata,
            subtype=subtype,
            thread_ts=thread_ts,
            extra=dict(extra or {}),
        )
        parent = self.find_message(channel_id, thread_ts) if thread_ts else None
        if parent is not None:
            parent.thread_ts = parent.ts
            parent.reply_ts.append(message.ts)
            if user not in parent.reply_users:
                parent.reply_users.append(user)
        self.messages[channel_id].append(message)
        return message

    def find_message(self, channel_id: str, ts: str | None) -> Message | None:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        return None

    def delete_message(self, channel_id: str, ts: str) -> None:
        message = self.find_message(channel_id, ts)
        if message is None:
            return
        self.messages[channel_id].remove(message)
        if message.thread_ts and message.thread_ts != message.ts:
            parent = self.find_message(channel_id, message.thread_ts)
            if parent is not None and ts in parent.reply_ts:
                parent.reply_ts.remove(ts)

    def add_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        *,
        text: str,
        source: str,
        blocks: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        thread_ts: str | None = None,
        sender: str | None = None,
    ) -> Ephemeral:
        ephemeral = Ephemeral(
            ts=self.clock.next_ts(),
            channel=channel_id,
            user=user_id,
            text=text,
            source=source,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            sender=sender,
        )
        self.ephemerals.append(ephemeral)
        return ephemeral

    def find_ephemeral(self, ts: str) -> Ephemeral | None:
        for ephemeral in self.ephemerals:
            if ephemeral.ts == ts and not ephemeral.deleted:
                return ephemeral
        return None

    # ------------------------------------------- triggers and response_urls
    def issue_trigger(self, user_id: str) -> str:
        team_num = int(self.team_id[1:], 16)
        tid = f"{self.clock.next_ts().replace('.', '')}.{team_num}.{secrets.token_hex(16)}"
        self.triggers[tid] = Trigger(id=tid, user_id=user_id, issued_at=time.monotonic())
        return tid

    def trigger_error(self, trigger_id: str) -> str | None:
        """The views.open/views.push error for ``trigger_id``, or None if usable."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return "invalid_trigger_id"
        if trigger.used:
            return "exchanged_trigger_id"
        if time.monotonic() - trigger.issued_at > self.trigger_ttl_s:
            return "expired_trigger_id"
        return None

    def issue_response_url(
        self,
        user_id: str,
        channel_id: str,
        *,
        source_ts: str | None = None,
        source_ephemeral: bool = False,
    ) -> str:
        rid = f"{self.team_id}/{self.ids.new('R')[1:]}/{secrets.token_urlsafe(18)}"
        self.response_targets[rid] = ResponseTarget(
            id=rid,
            user_id=user_id,
            channel_id=channel_id,
            created=time.monotonic(),
            source_ts=source_ts,
            source_ephemeral=source_ephemeral,
        )
        return rid

    # ---------------------------------------------------------------- views
    def new_view_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def stack(self, user_id: str) -> list[str]:
        return self.stacks.setdefault(user_id, [])

    def close_view(self, view_id: str) -> None:
        view = self.views[view_id]
        view.is_open = False
        stack = self.stack(view.user_id)
        if view_id in stack:
            stack.remove(view_id)

    def clear_views(self, user_id: str) -> None:
        for view_id in list(self.stack(user_id)):
            self.close_view(view_id)
