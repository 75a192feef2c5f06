"""Events API: a :pushpin: reaction puts a message on the timeline; removing it takes it off."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.adapters.slack.listeners import SlackContext, request_key

PIN = "pushpin"


def register(app: App, ctx: SlackContext) -> None:
    def reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") == PIN and item.get("type") == "message":
            ctx.flows.pin(
                channel_id=str(item["channel"]),
                ts=str(item["ts"]),
                actor=str(event.get("user")),
                request_key=request_key(body),
            )

    def reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") == PIN and item.get("type") == "message":
            ctx.flows.unpin(
                channel_id=str(item["channel"]),
                ts=str(item["ts"]),
                actor=str(event.get("user")),
                request_key=request_key(body),
            )

    app.event("reaction_added")(reaction_added)
    app.event("reaction_removed")(reaction_removed)
