"""conversations.* Web API methods."""

from __future__ import annotations

import time

from .records import JSON, TOPIC_MAX, Channel, channel_name_error
from .shapes import channel_json, message_json
from .webapi import ApiContext, ApiError, Params, api, paginate


def _join_message(ctx: ApiContext, channel: Channel, user_id: str, inviter: str | None) -> None:
    extra: JSON = {"inviter": inviter} if inviter and inviter != user_id else {}
    ctx.ws.post(
        channel.id,
        text=f"<@{user_id}> has joined the channel",
        user=user_id,
        subtype="channel_join",
        extra=extra,
    )


@api("conversations.create")
def conversations_create(ctx: ApiContext, p: Params) -> JSON:
    is_private = p.get_bool("is_private")
    ctx.require_scope("groups:write" if is_private else "channels:manage")
    name = p.get_str("name") or ""
    error = channel_name_error(name)
    if error:
        raise ApiError(error)
    if ctx.ws.channel_named(name) is not None:
        raise ApiError("name_taken")
    ws = ctx.ws
    cid = ws.add_channel(name, is_private=is_private, members=[ws.bot_user_id])
    channel = ws.channels[cid]
    _join_message(ctx, channel, ws.bot_user_id, None)
    return {"channel": channel_json(ws, channel)}


@api("conversations.info")
def conversations_info(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:read", "groups:read")
    num = p.get_bool("include_num_members")
    return {"channel": channel_json(ctx.ws, channel, num_members=num)}


@api("conversations.list")
def conversations_list(ctx: ApiContext, p: Params) -> JSON:
    types = {t.strip() for t in (p.get_str("types") or "public_channel").split(",")}
    exclude_archived = p.get_bool("exclude_archived")
    ws = ctx.ws
    wanted: list[Channel] = []
    for channel in ws.channels.values():
        if channel.is_im:
            kind = "im"
        else:
            kind = "private_channel" if channel.is_private else "public_channel"
        if kind not in types or not ws.bot_can_see(channel):
            continue
        if exclude_archived and channel.is_archived:
            continue
        wanted.append(channel)
    if "public_channel" in types:
        ctx.require_scope("channels:read")
    if "private_channel" in types:
        ctx.require_scope("groups:read")
    page, cursor = paginate(wanted, p)
    return {
        "channels": [channel_json(ws, c) for c in page],
        "response_metadata": {"next_cursor": cursor},
    }


@api("conversations.members")
def conversations_members(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:read", "groups:read")
    page, cursor = paginate(list(channel.members), p)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@api("conversations.invite")
def conversations_invite(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:manage", "groups:write")
    ws = ctx.ws
    if channel.is_archived:
        raise ApiError("is_archived")
    ctx.require_member(channel)
    if channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    users = [u.strip() for u in (p.get_str("users") or "").split(",") if u.strip()]
    if not users:
        raise ApiError("no_user")
    if len(users) > 1000:
        raise ApiError("too_many_users")
    failures: list[JSON] = []
    valid: list[str] = []
    for uid in dict.fromkeys(users):
        if uid == ws.bot_user_id:
            error = "cant_invite_self"
        elif uid not in ws.users or ws.users[uid].deleted:
            error = "user_not_found"
        elif uid in channel.members:
            error = "already_in_channel"
        else:
            valid.append(uid)
            continue
        failures.append({"user": uid, "ok": False, "error": error})
    if failures and not p.get_bool("force"):
        raise ApiError(failures[0]["error"], errors=failures)
    for uid in valid:
        channel.members.append(uid)
        _join_message(ctx, channel, uid, ws.bot_user_id)
    result: JSON = {"channel": channel_json(ws, channel)}
    if failures:
        result["errors"] = failures
    return result


def _set_topic_or_purpose(ctx: ApiContext, p: Params, kind: str) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:manage", "groups:write")
    if channel.is_archived:
        raise ApiError("is_archived")
    ctx.require_member(channel)
    value = p.get_str(kind) or ""
    if len(value) > TOPIC_MAX:
        raise ApiError("too_long")
    ws = ctx.ws
    target = channel.topic if kind == "topic" else channel.purpose
    target.update({"value": value, "creator": ws.bot_user_id, "last_set": int(time.time())})
    verb = f"set the channel {kind}: {value}" if value else f"cleared the channel {kind}"
    ws.post(
        channel.id,
        text=verb,
        user=ws.bot_user_id,
        subtype=f"channel_{kind}",
        extra={kind: value},
    )
    return {"channel": channel_json(ws, channel)}


@api("conversations.setTopic")
def conversations_set_topic(ctx: ApiContext, p: Params) -> JSON:
    return _set_topic_or_purpose(ctx, p, "topic")


@api("conversations.setPurpose")
def conversations_set_purpose(ctx: ApiContext, p: Params) -> JSON:
    return _set_topic_or_purpose(ctx, p, "purpose")


@api("conversations.archive")
def conversations_archive(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:manage", "groups:write")
    if channel.is_archived:
        raise ApiError("already_archived")
    if channel.is_general:
        raise ApiError("cant_archive_general")
    if channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    ctx.require_member(channel)
    ws = ctx.ws
    ws.post(channel.id, text="archived the channel", user=ws.bot_user_id, subtype="channel_archive")
    channel.is_archived = True
    return {}


@api("conversations.unarchive")
def conversations_unarchive(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:manage", "groups:write")
    if not channel.is_archived:
        raise ApiError("not_archived")
    channel.is_archived = False
    ws = ctx.ws
    ws.post(
        channel.id, text="un-archived the channel", user=ws.bot_user_id, subtype="channel_unarchive"
    )
    return {}


@api("conversations.join")
def conversations_join(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("channels:join")
    channel = ctx.channel(p)
    if channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    ws = ctx.ws
    result: JSON = {}
    if ws.bot_user_id in channel.members:
        result.update(
            {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        )
    else:
        channel.members.append(ws.bot_user_id)
        _join_message(ctx, channel, ws.bot_user_id, None)
    result["channel"] = channel_json(ws, channel)
    return result


@api("conversations.leave")
def conversations_leave(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:manage", "groups:write")
    ws = ctx.ws
    if channel.is_archived:
        raise ApiError("is_archived")
    if ws.bot_user_id not in channel.members:
        return {"not_in_channel": True}
    channel.members.remove(ws.bot_user_id)
    return {}


@api("conversations.history")
def conversations_history(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:history", "groups:history")
    ctx.require_member(channel)
    oldest, latest = p.get_str("oldest") or "0", p.get_str("latest")
    inclusive = p.get_bool("inclusive")
    ws = ctx.ws
    selected = []
    for message in reversed(ws.messages[channel.id]):
        is_reply = message.thread_ts and message.thread_ts != message.ts
        if is_reply and message.subtype != "thread_broadcast":
            continue
        ts = float(message.ts)
        if ts < float(oldest) or (ts == float(oldest) and not inclusive and oldest != "0"):
            continue
        if latest is not None and (ts > float(latest) or (ts == float(latest) and not inclusive)):
            continue
        selected.append(message)
    page, cursor = paginate(selected, p)
    return {
        "messages": [
            message_json(ws, m, metadata=p.get_bool("include_all_metadata")) for m in page
        ],
        "has_more": bool(cursor),
        "pin_count": len(channel.pins),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


@api("conversations.replies")
def conversations_replies(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    ctx.scope_for(channel, "channels:history", "groups:history")
    ctx.require_member(channel)
    ws = ctx.ws
    parent = ws.find_message(channel.id, p.get_str("ts"))
    if parent is None:
        raise ApiError("thread_not_found")
    root_ts = parent.thread_ts or parent.ts
    thread = [m for m in ws.messages[channel.id] if m.ts == root_ts or m.thread_ts == root_ts]
    page, cursor = paginate(thread, p, default_limit=1000)
    return {
        "messages": [
            message_json(ws, m, metadata=p.get_bool("include_all_metadata")) for m in page
        ],
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }
