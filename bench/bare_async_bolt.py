"""The fastest bare Bolt host, a baseline for the benches: Bolt's `AsyncApp` served by its own
async Starlette handler (`AsyncSlackRequestHandler`) under uvicorn, no thread pool.

    bare_async_bolt.py PORT               # `/incident` only acks (bench/ack_latency.py)
    bare_async_bolt.py PORT --declare C1  # what a simple peer bot does (bench/declare_to_channel.py):
                                          # ack, then at once conversations.create, a card in the
                                          # new channel and an announcement in channel C1

Reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL like the bot.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]


def build(declare_feed: str | None) -> Starlette:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    bolt = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @bolt.command("/incident")
    async def incident(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        if declare_feed is None:
            await ack()
            return
        title = command.get("text", "").removeprefix("declare").strip() or "incident"
        await ack(f"Declaring {title}…")
        created = await client.conversations_create(
            name=f"inc-{slug(title)}-{secrets.token_hex(3)}"
        )
        channel = created["channel"]["id"]
        await client.chat_postMessage(channel=channel, text=f":rotating_light: {title}")
        await client.chat_postMessage(
            channel=declare_feed, text=f"New incident: {title} in <#{channel}>"
        )

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--declare", metavar="FEED_CHANNEL", default=None)
    args = parser.parse_args()
    app = build(args.declare)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
