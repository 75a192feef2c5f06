"""End-to-end: the bot served over HTTP on loopback, driven only by signed Slack requests from
the emulator, asserting what people see in Slack and what the API reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.emulators.sns import SnsEmulator
from bot.sandbox import ALERT_TOKEN, API_TOKEN, Sandbox, ScriptedClock


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
def sns() -> Iterator[SnsEmulator]:
    """Amazon SNS on loopback (HTTPS, its own CA), signing as SNS does."""
    with SnsEmulator() as emulator:
        yield emulator


def sns_settings(sns: SnsEmulator, topic: str = "incidentbot") -> dict[str, Any]:
    """The bot takes `topic` only, trusts the emulator's CA and fetches from its host."""
    return {
        "sns_topic_arns": sns.topic_arn(topic),
        "sns_cert_hosts": "127.0.0.1",
        "sns_ca_bundle": Path(sns.ca_bundle),
    }


@pytest.fixture
def sns_sb(db_url: str, sns: SnsEmulator) -> Iterator[Sandbox]:
    """The sandbox taking CloudWatch alarms from the SNS emulator's `incidentbot` topic."""
    with Sandbox(db_url, settings_extra=sns_settings(sns)) as sandbox:
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


# -- helpers shared by several test modules


def post(
    sb: Sandbox, path: str, payload: Any, token: str | None = ALERT_TOKEN, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{sb.url}{path}", json=payload, headers=headers, timeout=30, **kwargs)
    sb.settle()
    return response


def incidents(sb: Sandbox) -> list[dict[str, Any]]:
    return [
        api(sb, f"/api/incidents/{i['id']}").json()
        for i in api(sb, "/api/incidents").json()["incidents"]
    ]


def scrape(sb: Sandbox) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = httpx.get(f"{sb.url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def checklists(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in sb.slack.messages(channel)
        if any(b.get("block_id") == "checklist.head" for b in m.get("blocks") or [])
    ]


def step_text(message: dict[str, Any], step: str) -> str:
    return next(
        str(b["text"]["text"]) for b in message["blocks"] if b.get("block_id") == f"step.{step}"
    )


def run_incident(sb: Sandbox, p: People, clock: ScriptedClock) -> str:
    command(sb, p.alice, p.general, "declare sev2 Checkout returns 500s")
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    channel = incident.conversation_id
    sb.slack.join(channel, p.alice)
    sb.slack.join(channel, p.bob)
    command(sb, p.alice, channel, "commander")
    command(sb, p.alice, channel, "note Rolled back release 2026.11.3")
    command(sb, p.alice, channel, f"followup Add a canary for config pushes <@{p.bob}|bob>")
    command(sb, p.alice, channel, "followup Review the alert thresholds")
    clock.advance(minutes=30)
    command(sb, p.alice, channel, "resolve Config push rolled back")
    return channel


def told_time(at: datetime) -> str:
    """A pattern for a sender's time as the timeline says it: the time of day, with the date
    before it when that is another day than the one it is compared with (near midnight)."""
    return rf"(?:{at:%Y-%m-%d} )?{at:%H:%M:%S} UTC"


def morning_at_least_six_hours_ago() -> datetime:
    """08:00 UTC of a recent day, so every instant the tests script (T0 - 5 min … T0 + 4 h) falls
    on one calendar day and the timeline's times read without a date at any hour of the run."""
    six_ago = datetime.now(UTC) - timedelta(hours=6)
    morning = six_ago.replace(hour=8, minute=0, second=0, microsecond=0)
    return morning if morning <= six_ago else morning - timedelta(days=1)
