"""Message shortcuts: "Add follow-up" on any message in an incident channel."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.adapters.slack import modals
from bot.adapters.slack.listeners import (
    SlackContext,
    accept,
    channel_lane,
    reporting_failures,
    respond_to,
)
from bot.adapters.slack.replies import refusal_reply
from bot.core.lifecycle import Refused


def register(app: App, ctx: SlackContext) -> None:
    app.shortcut(modals.ADD_FOLLOWUP_SHORTCUT)(partial(add_followup, ctx))


def add_followup(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The "Add follow-up" shortcut on a message: into the inbox (lane: its channel), then acked; the form
    opens from the work (`shortcut`), which checks the channel is an incident's."""
    accept(ctx, body, "shortcut", channel_lane((body.get("channel") or {}).get("id")))
    ack()


def shortcut(ctx: SlackContext, body: dict[str, Any]) -> None:
    """The work of "Add follow-up": open its form on the message."""
    respond, client = respond_to(body), ctx.client
    with reporting_failures(respond, "Add follow-up"):
        channel = str((body.get("channel") or {}).get("id") or "")
        try:
            ctx.flows.followups(channel)  # only incident channels have follow-ups
        except Refused as refused:
            respond(**refusal_reply(refused.refusal), response_type="ephemeral")
            return
        message = body.get("message") or {}
        ts = str(message.get("ts") or body.get("message_ts") or "")
        permalink = None
        try:
            permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except Exception:  # the link is a nicety; the follow-up is what matters
            permalink = None
        view = modals.followup_modal(
            channel_id=channel, text=str(message.get("text") or ""), permalink=permalink
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)


WORK = {"shortcut": shortcut}
