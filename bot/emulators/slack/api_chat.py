"""chat.* Web API methods."""

from __future__ import annotations

from typing import Any

from .blockkit import normalize_blocks, validate_blocks
from .records import JSON, Channel
from .shapes import message_json
from .state import Workspace
from .webapi import ApiContext, ApiError, Params, api

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100
BLOCKS_ONLY_TEXT = "This content can't be displayed."


def blocks_error(errors: list[str]) -> ApiError:
    return ApiError(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def check_content(
    data: dict[str, Any], *, require: bool = True
) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """(text, blocks, attachments) validated like chat.postMessage does."""
    raw_text = data.get("text")
    text = None if raw_text is None else str(raw_text)
    blocks, attachments = data.get("blocks"), data.get("attachments")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        errors = validate_blocks(blocks)
        if errors:
            raise blocks_error(errors)
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise ApiError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise ApiError("too_many_attachments")
    if text is not None and len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    if require and not text and not blocks and not attachments:
        raise ApiError("no_text")
    return text, blocks, attachments


def post_target(ctx: ApiContext, ref: str | None) -> Channel:
    """Where chat.postMessage/postEphemeral would post, with Slack's membership rules."""
    ws = ctx.ws
    if not ref:
        raise ApiError("channel_not_found")
    if ref in ws.users:
        return ws.im_with(ref)
    channel = ws.resolve_channel(ref)
    if channel is None or not ws.bot_can_see(channel):
        raise ApiError("channel_not_found")
    if channel.is_archived:
        raise ApiError("is_archived")
    if ws.bot_user_id not in channel.members and "chat:write.public" not in ctx.scopes:
        raise ApiError("not_in_channel")
    return channel


def normalized(ws: Workspace, blocks: list[Any] | None) -> list[JSON] | None:
    return normalize_blocks(blocks, ws.ids.short) if blocks is not None else None


@api("chat.postMessage")
def chat_post_message(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("chat:write")
    channel = post_target(ctx, p.get_str("channel"))
    text, blocks, attachments = check_content(p.data)
    ws = ctx.ws
    thread_ts = p.get_str("thread_ts") or None
    parent = ws.find_message(channel.id, thread_ts) if thread_ts else None
    if parent is not None and parent.thread_ts and parent.thread_ts != parent.ts:
        thread_ts = parent.thread_ts
    metadata = p.data.get("metadata")
    message = ws.post(
        channel.id,
        text=text or (BLOCKS_ONLY_TEXT if blocks else ""),
        user=ws.bot_user_id,
        blocks=normalized(ws, blocks),
        attachments=attachments,
        metadata=metadata if isinstance(metadata, dict) else None,
        thread_ts=thread_ts,
    )
    if thread_ts and p.get_bool("reply_broadcast"):
        message.subtype = "thread_broadcast"
    return {"channel": channel.id, "ts": message.ts, "message": message_json(ws, message)}


@api("chat.update")
def chat_update(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("chat:write")
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("ts"))
    ws = ctx.ws
    if message.user != ws.bot_user_id or message.subtype not in (None, "thread_broadcast"):
        raise ApiError("cant_update_message")
    if channel.is_archived:
        raise ApiError("is_archived")
    text, blocks, attachments = check_content(p.data)
    if text is not None:
        message.text = text
    elif blocks:
        message.text = BLOCKS_ONLY_TEXT
    if blocks is not None:
        message.blocks = normalized(ws, blocks) or None
    if attachments is not None:
        message.attachments = attachments or None
    metadata = p.data.get("metadata")
    if isinstance(metadata, dict):
        message.metadata = metadata
    message.edited = {"user": ws.bot_user_id, "ts": ws.clock.next_ts()}
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message_json(ws, message),
    }


@api("chat.delete")
def chat_delete(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("chat:write")
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("ts"))
    ws = ctx.ws
    if message.user != ws.bot_user_id or message.subtype not in (None, "thread_broadcast"):
        raise ApiError("cant_delete_message")
    if message.reply_ts:
        message.subtype, message.text, message.blocks = (
            "tombstone",
            "This message was deleted.",
            None,
        )
        message.user, message.bot_id, message.app_id = "USLACKBOT", None, None
        message.attachments = None
    else:
        ws.delete_message(channel.id, message.ts)
    return {"channel": channel.id, "ts": message.ts}


@api("chat.postEphemeral")
def chat_post_ephemeral(ctx: ApiContext, p: Params) -> JSON:
    ctx.require_scope("chat:write")
    channel = post_target(ctx, p.get_str("channel"))
    ws = ctx.ws
    user_id = p.get_str("user") or ""
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    if user_id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, attachments = check_content(p.data)
    ephemeral = ws.add_ephemeral(
        channel.id,
        user_id,
        text=text or (BLOCKS_ONLY_TEXT if blocks else ""),
        source="chat.postEphemeral",
        blocks=normalized(ws, blocks),
        attachments=attachments,
        thread_ts=p.get_str("thread_ts") or None,
        sender=ws.bot_user_id,
    )
    return {"message_ts": ephemeral.ts}


@api("chat.getPermalink")
def chat_get_permalink(ctx: ApiContext, p: Params) -> JSON:
    channel = ctx.channel(p)
    message = ctx.message(channel, p.get_str("message_ts"))
    ws = ctx.ws
    link = f"https://{ws.domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}
