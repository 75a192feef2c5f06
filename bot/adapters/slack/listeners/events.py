"""Events API: a :pushpin: reaction puts a message on the timeline; removing it takes it off.
The event is acked once it is in the inbox; `event` does the work."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.adapters.slack.listeners import SlackContext, accept, channel_lane, request_key

PIN = "pushpin"


def register(app: App, ctx: SlackContext) -> None:
    listener = partial(reaction, ctx)
    app.event("reaction_added")(listener)
    app.event("reaction_removed")(listener)


def reaction(ctx: SlackContext, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
    """A :pushpin: on a message goes to the inbox (lane: its channel); any other reaction is
    only acked."""
    item = event.get("item") or {}
    if event.get("reaction") == PIN and item.get("type") == "message":
        accept(ctx, body, "event", channel_lane(item.get("channel")))
    ack()


def event(ctx: SlackContext, body: dict[str, Any]) -> None:
    happened = body.get("event") or {}
    item = happened.get("item") or {}
    flow = ctx.flows.pin if happened.get("type") == "reaction_added" else ctx.flows.unpin
    flow(
        channel_id=str(item["channel"]),
        ts=str(item["ts"]),
        actor=str(happened.get("user")),
        request_key=request_key(body),
    )


WORK = {"event": event}
