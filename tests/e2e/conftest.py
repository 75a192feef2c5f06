"""End-to-end: the bot served over HTTP on loopback, driven only by signed Slack requests from
the emulator, asserting what people see in Slack and what the API reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.sandbox import API_TOKEN, Sandbox


@dataclass
class People:
    alice: str
    bob: str
    carol: str
    general: str


@pytest.fixture
def sb(db_url: str) -> Iterator[Sandbox]:
    with Sandbox(db_url) as sandbox:
        yield sandbox


@pytest.fixture
def socket_sb(db_url: str) -> Iterator[Sandbox]:
    """The same bot in Socket Mode: SLACK_APP_TOKEN and no signing secret, Bolt's
    SocketModeHandler connected to the emulator, which sends nothing over HTTP."""
    with Sandbox(db_url, socket_mode=True) as sandbox:
        yield sandbox


def _people(sb: Sandbox) -> People:
    alice, bob, carol = (sb.slack.user_id(name) for name in ("alice", "bob", "carol"))
    general = sb.slack.channel_by_name("general")["id"]  # type: ignore[index]
    return People(alice, bob, carol, general)


@pytest.fixture
def people(sb: Sandbox) -> People:
    return _people(sb)


@pytest.fixture
def socket_people(socket_sb: Sandbox) -> People:
    return _people(socket_sb)


def api(sb: Sandbox, path: str, token: str | None = API_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{sb.url}{path}", headers=headers, timeout=10)


def command(sb: Sandbox, user: str, channel: str, text: str) -> Any:
    reply = sb.slack.send_command(user, channel, text)
    assert reply.status == 200, (reply.status, reply.body)
    sb.settle()
    return reply


def declare(sb: Sandbox, p: People, text: str = "sev2 Checkout API returns 500s") -> dict[str, Any]:
    """Declare and return the incident as the API shows it."""
    command(sb, p.alice, p.general, f"declare {text}")
    incidents = api(sb, "/api/incidents").json()["incidents"]
    return api(sb, f"/api/incidents/{incidents[0]['id']}").json()  # type: ignore[no-any-return]


def card(sb: Sandbox, incident: dict[str, Any]) -> dict[str, Any]:
    channel = incident["channel"]["id"]
    cards = [
        m
        for m in sb.slack.messages(channel)
        if any(b.get("block_id") == "card.header" for b in m.get("blocks") or [])
    ]
    assert len(cards) == 1, "exactly one card per incident"
    return cards[0]  # type: ignore[no-any-return]


def card_text(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        parts.extend(
            e.get("text", "")
            if isinstance(e.get("text"), str)
            else e.get("text", {}).get("text", "")
            for e in block.get("elements", [])
        )
    return "\n".join(parts)


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def ephemerals(sb: Sandbox, user: str) -> list[str]:
    return [str(e.get("text") or "") for e in sb.slack.ephemerals(user_id=user)]
