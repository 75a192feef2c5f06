"""The JSON shapes real Slack returns for users, conversations, messages and views."""

from __future__ import annotations

import copy
import hashlib

from .records import JSON, Channel, Ephemeral, Message, User, View, tz_details
from .state import Workspace


def bot_profile(ws: Workspace) -> JSON:
    return {
        "id": ws.bot_id,
        "deleted": False,
        "name": ws.bot_name,
        "updated": ws.users[ws.bot_user_id].updated,
        "app_id": ws.app_id,
        "icons": {
            "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
            "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
            "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
        },
        "team_id": ws.team_id,
    }


def user_json(ws: Workspace, user: User, *, include_email: bool = True) -> JSON:
    offset, label = tz_details(user.tz)
    first, _, last = user.real_name.partition(" ")
    avatar = hashlib.md5(user.id.encode(), usedforsecurity=False).hexdigest()[:12]
    profile: JSON = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": "" if user.is_bot else user.name,
        "display_name_normalized": "" if user.is_bot else user.name,
        "fields": None,
        "status_text": "",
        "status_emoji": "",
        "status_emoji_display_info": [],
        "status_expiration": 0,
        "avatar_hash": avatar,
        "first_name": first,
        "last_name": last,
        "image_24": f"https://secure.gravatar.com/avatar/{avatar}.jpg?s=24",
        "image_48": f"https://secure.gravatar.com/avatar/{avatar}.jpg?s=48",
        "image_72": f"https://secure.gravatar.com/avatar/{avatar}.jpg?s=72",
        "image_192": f"https://secure.gravatar.com/avatar/{avatar}.jpg?s=192",
        "team": ws.team_id,
    }
    if user.email and include_email:
        profile["email"] = user.email
    if user.is_bot:
        profile.update({"bot_id": user.bot_id, "api_app_id": ws.app_id, "always_active": True})
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": label,
        "tz_offset": offset,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": user.updated,
        "is_email_confirmed": not user.is_bot,
        "who_can_share_contact_card": "EVERYONE",
    }


def channel_json(ws: Workspace, channel: Channel, *, num_members: bool = False) -> JSON:
    if channel.is_im:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_archived": False,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": ws.team_id,
            "updated": channel.updated_ms,
            "user": channel.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    data: JSON = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": ws.team_id,
        "updated": channel.updated_ms,
        "parent_conversation": None,
        "creator": channel.creator,
        "is_ext_shared": False,
        "shared_team_ids": [ws.team_id],
        "pending_connected_team_ids": [],
        "is_member": ws.bot_user_id in channel.members,
        "topic": dict(channel.topic),
        "purpose": dict(channel.purpose),
        "previous_names": [],
    }
    if num_members:
        data["num_members"] = len(channel.members)
    return data


def message_json(ws: Workspace, message: Message, *, metadata: bool = True) -> JSON:
    """A message as the Web API shows it; history shows metadata only when asked
    (`include_all_metadata`), as Slack does."""
    data: JSON = {"type": "message"}
    if message.subtype:
        data["subtype"] = message.subtype
    data["text"] = message.text
    if message.user:
        data["user"] = message.user
    if message.bot_id:
        data["bot_id"] = message.bot_id
        data["app_id"] = message.app_id
    data["ts"] = message.ts
    data["team"] = ws.team_id
    if message.bot_id:
        data["bot_profile"] = bot_profile(ws)
    if message.blocks is not None:
        data["blocks"] = copy.deepcopy(message.blocks)
    if message.attachments:
        data["attachments"] = copy.deepcopy(message.attachments)
    if message.metadata and metadata:
        data["metadata"] = copy.deepcopy(message.metadata)
    if message.thread_ts:
        data["thread_ts"] = message.thread_ts
    if message.thread_ts == message.ts and message.reply_ts:
        data.update(
            {
                "reply_count": len(message.reply_ts),
                "reply_users_count": len(message.reply_users),
                "latest_reply": message.reply_ts[-1],
                "reply_users": list(message.reply_users),
                "is_locked": False,
                "subscribed": False,
            }
        )
    elif message.thread_ts and message.thread_ts != message.ts:
        data["parent_user_id"] = _parent_user(ws, message)
    if message.edited:
        data["edited"] = dict(message.edited)
    if message.reactions:
        data["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in message.reactions.items()
        ]
    channel = ws.channels.get(message.channel)
    if channel is not None and message.ts in channel.pins:
        data["pinned_to"] = [channel.id]
    data.update(copy.deepcopy(message.extra))
    return data


def _parent_user(ws: Workspace, message: Message) -> str | None:
    parent = ws.find_message(message.channel, message.thread_ts)
    return parent.user if parent else None


def ephemeral_json(ws: Workspace, ephemeral: Ephemeral) -> JSON:
    """Inspector shape of an ephemeral message; ``user`` is the user who sees it."""
    data: JSON = {
        "type": "message",
        "subtype": "ephemeral",
        "ts": ephemeral.ts,
        "channel": ephemeral.channel,
        "user": ephemeral.user,
        "text": ephemeral.text,
        "source": ephemeral.source,
        "sender": ephemeral.sender,
    }
    if ephemeral.blocks is not None:
        data["blocks"] = copy.deepcopy(ephemeral.blocks)
    if ephemeral.attachments:
        data["attachments"] = copy.deepcopy(ephemeral.attachments)
    if ephemeral.thread_ts:
        data["thread_ts"] = ephemeral.thread_ts
    if ephemeral.sender == ws.bot_user_id:
        data["bot_id"] = ws.bot_id
    return data


def view_json(ws: Workspace, view: View, *, state_values: JSON | None = None) -> JSON:
    body = view.body
    data: JSON = {
        "id": view.id,
        "team_id": ws.team_id,
        "type": body.get("type", "modal"),
        "title": copy.deepcopy(body.get("title")),
        "close": copy.deepcopy(body.get("close")),
        "submit": copy.deepcopy(body.get("submit")),
        "blocks": copy.deepcopy(body.get("blocks", [])),
        "private_metadata": body.get("private_metadata", ""),
        "callback_id": body.get("callback_id", ""),
        "state": {"values": copy.deepcopy(state_values or {})},
        "hash": view.hash,
        "clear_on_close": bool(body.get("clear_on_close", False)),
        "notify_on_close": bool(body.get("notify_on_close", False)),
        "root_view_id": view.root_view_id,
        "previous_view_id": view.previous_view_id,
        "app_id": ws.app_id,
        "external_id": body.get("external_id", ""),
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    if data["type"] == "home":
        for key in ("title", "close", "submit", "root_view_id", "previous_view_id"):
            data.pop(key, None)
    if body.get("submit_disabled") is not None:
        data["submit_disabled"] = bool(body["submit_disabled"])
    return data
