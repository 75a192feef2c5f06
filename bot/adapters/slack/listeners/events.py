"""Events API: a :pushpin: reaction puts a message on the timeline; removing it takes it off."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.adapters.slack.listeners import SlackContext, request_key

PIN = "pushpin"


def register(app: App, ctx: SlackContext) -> None:
    def reaction(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != PIN or item.get("type") != "message":
            return
        flow = ctx.flows.pin if event.get("type") == "reaction_added" else ctx.flows.unpin
        ctx.work.submit(
            flow,
            channel_id=str(item["channel"]),
            ts=str(item["ts"]),
            actor=str(event.get("user")),
            request_key=request_key(body),
        )

    app.event("reaction_added")(reaction)
    app.event("reaction_removed")(reaction)
