"""Web API plumbing (errors, params, handler registry) and the small methods.

Handlers take an :class:`ApiContext` and :class:`Params` and return the success body without
``ok``; they raise :class:`ApiError` for ``{"ok": false, "error": ...}`` answers.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import JSON, Channel, Message, UserGroup
from .shapes import channel_json, message_json, user_json
from .state import Workspace

DEFAULT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "pins:read",
    "pins:write",
    "reactions:read",
    "reactions:write",
    "team:read",
    "usergroups:read",
    "users:read",
    "users:read.email",
)


class ApiError(Exception):
    """A Slack API error: answered as HTTP 200 ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class Params:
    """Request parameters, whether they arrived form-encoded, as JSON or in the query."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def get_int(self, name: str, default: int) -> int:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments", response_metadata=_meta(name)) from None


def _meta(name: str) -> JSON:
    return {"messages": [f"[ERROR] invalid value for argument: {name}"]}


@dataclass
class ApiContext:
    ws: Workspace
    scopes: frozenset[str]

    def require_scope(self, *any_of: str) -> None:
        if not any(scope in self.scopes for scope in any_of):
            raise ApiError(
                "missing_scope", needed=",".join(any_of), provided=",".join(sorted(self.scopes))
            )

    def channel(self, p: Params, name: str = "channel") -> Channel:
        """The channel the bot can see, else ``channel_not_found`` like Slack."""
        ref = p.get_str(name)
        channel = self.ws.resolve_channel(ref) if ref else None
        if channel is None or not self.ws.bot_can_see(channel):
            raise ApiError("channel_not_found")
        return channel

    def require_member(self, channel: Channel) -> None:
        if self.ws.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")

    def message(self, channel: Channel, ts: str | None) -> Message:
        message = self.ws.find_message(channel.id, ts)
        if message is None:
            raise ApiError("message_not_found")
        return message

    def scope_for(self, channel: Channel, public: str, private: str) -> None:
        self.require_scope(private if channel.is_private else public)


Handler = Callable[[ApiContext, Params], JSON]
HANDLERS: dict[str, Handler] = {}


def api(method: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[method] = func
        return func

    return register


def paginate(items: list[Any], p: Params, *, default_limit: int = 100) -> tuple[list[Any], str]:
    """Cursor pagination like Slack's: returns (page, next_cursor or "")."""
    limit = max(1, min(p.get_int("limit", default_limit) or default_limit, 1000))
    cursor = p.get_str("cursor") or ""
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().split(":", 1)[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
    page = items[start : start + limit]
    end = start + len(page)
    next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return page, next_cursor


# ----------------------------------------------------------------- methods
@api("auth.test")
def auth_test(ctx: ApiContext, p: Params) -> JSON:
    ws = ctx.ws
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@api("team.info")
def team_info(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("team:read")
    ws = ctx.ws
    team = p.get_str("team")
    if team and team != ws.team_id:
        raise ApiError("team_not_found")
    return {
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "url": f"https://{ws.domain}.slack.com/",
            "domain": ws.domain,
            "email_domain": "example.com",
            "icon": {"image_default": True},
            "avatar_base_url": "https://ca.slack-edge.com/",
            "is_verified": False,
        }
    }


@api("users.info")
def users_info(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("users:read")
    user = ctx.ws.users.get(p.get_str("user") or "")
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user_json(ctx.ws, user, include_email="users:read.email" in ctx.scopes)}


@api("users.list")
def users_list(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("users:read")
    email = "users:read.email" in ctx.scopes
    members = [user_json(ctx.ws, u, include_email=email) for u in ctx.ws.users.values()]
    page, cursor = paginate(members, p, default_limit=200)
    return {"members": page, "cache_ts": 0, "response_metadata": {"next_cursor": cursor}}


@api("users.lookupByEmail")
def users_lookup_by_email(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("users:read.email")
    user = ctx.ws.user_by_email(p.get_str("email") or "")
    if user is None:
        raise ApiError("users_not_found")
    return {"user": user_json(ctx.ws, user)}


def _usergroup_json(ctx: ApiContext, group: UserGroup, *, include_users: bool) -> JSON:
    body: JSON = {
        "id": group.id,
        "team_id": ctx.ws.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": group.created,
        "date_update": group.created,
        "date_delete": group.created if group.disabled else 0,
        "auto_type": None,
        "created_by": group.created_by,
        "updated_by": group.created_by,
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
        "user_count": len(group.users),
    }
    if include_users:
        body["users"] = list(group.users)
    return body


@api("usergroups.list")
def usergroups_list(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("usergroups:read")
    include_users = p.get_bool("include_users")
    include_disabled = p.get_bool("include_disabled")
    groups = [
        _usergroup_json(ctx, g, include_users=include_users)
        for g in ctx.ws.usergroups.values()
        if include_disabled or not g.disabled
    ]
    return {"usergroups": groups}


@api("usergroups.users.list")
def usergroups_users_list(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("usergroups:read")
    group = ctx.ws.usergroups.get(p.get_str("usergroup") or "")
    if group is None:
        raise ApiError("no_such_subteam")
    if group.disabled and not p.get_bool("include_disabled"):
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


def _reaction_target(ctx: ApiContext, p: Params) -> tuple[Channel, Message, str]:
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("timestamp"))
    name = (p.get_str("name") or "").strip()
    if not name or ":" in name or " " in name:
        raise ApiError("invalid_name")
    return channel, message, name


@api("reactions.add")
def reactions_add(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("reactions:write")
    channel, message, name = _reaction_target(ctx, p)
    if channel.is_archived:
        raise ApiError("is_archived")
    users = message.reactions.setdefault(name, [])
    if ctx.ws.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(ctx.ws.bot_user_id)
    return {}


@api("reactions.remove")
def reactions_remove(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("reactions:write")
    _, message, name = _reaction_target(ctx, p)
    users = message.reactions.get(name, [])
    if ctx.ws.bot_user_id not in users:
        raise ApiError("no_reaction")
    users.remove(ctx.ws.bot_user_id)
    if not users:
        del message.reactions[name]
    return {}


@api("reactions.get")
def reactions_get(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("reactions:read")
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("timestamp"))
    return {"type": "message", "channel": channel.id, "message": message_json(ctx.ws, message)}


@api("pins.add")
def pins_add(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("pins:write")
    channel = ctx.channel(p)
    ctx.require_member(channel)
    message = ctx.message(channel, p.get_str("timestamp"))
    if message.ts in channel.pins:
        raise ApiError("already_pinned")
    channel.pins.append(message.ts)
    return {}


@api("pins.remove")
def pins_remove(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("pins:write")
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("timestamp"))
    if message.ts not in channel.pins:
        raise ApiError("no_pin")
    channel.pins.remove(message.ts)
    return {}


@api("pins.list")
def pins_list(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("pins:read")
    channel = ctx.channel(p)
    items = []
    for ts in channel.pins:
        message = ctx.ws.find_message(channel.id, ts)
        if message is not None:
            items.append(
                {"type": "message", "channel": channel.id, "message": message_json(ctx.ws, message)}
            )
    return {"items": items}


@api("conversations.open")
def conversations_open(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("im:write")
    users = [u for u in (p.get_str("users") or "").split(",") if u]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise ApiError("method_not_supported_for_channel_type")
    if users[0] not in ctx.ws.users:
        raise ApiError("user_not_found")
    channel = ctx.ws.im_with(users[0])
    if p.get_bool("return_im"):
        return {"channel": channel_json(ctx.ws, channel)}
    return {"channel": {"id": channel.id}}
