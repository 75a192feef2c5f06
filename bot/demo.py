"""`incidentbot demo`: a whole incident, offline, over real HTTP against the Slack emulator.

Declare (form) → roles → acknowledge → status changes → 📌 → severity → resolve → close; then
the channel as people saw it, the timeline and the milestones with MTTx."""

from __future__ import annotations

import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.adapters.slack import blocks as b
from bot.core.metrics import DEFINITIONS, durations, humanize
from bot.core.milestones import ORDER, Milestone
from bot.sandbox import Sandbox, ScriptedClock
from bot.store import incidents as q

console = Console()


class DemoFailed(AssertionError):
    pass


def run_demo(keep: Path | None = None) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="incidentbot-demo-") as tmp:
        path = keep or Path(tmp) / "demo.db"
        path.unlink(missing_ok=True)
        clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
        try:
            with Sandbox(f"sqlite:///{path}", clock=clock) as sandbox:
                _play(sandbox, clock)
        except DemoFailed as failure:
            console.print(f"[bold red]Demo failed:[/bold red] {failure}")
            return 1
    console.print(f"\n[green]Demo finished in {time.monotonic() - started:.1f} s.[/green]")
    return 0


def _play(sb: Sandbox, clock: ScriptedClock) -> None:
    slack = sb.slack
    alice, bob, carol = (slack.user_id(name) for name in ("alice", "bob", "carol"))  # seeded people
    names = {alice: "alice", bob: "bob", carol: "carol", slack.bot_user_id: "incidentbot"}
    general = _need(slack.channel_by_name("general"), "#general")["id"]  # seeded, with all three
    console.rule("[bold]incidentbot demo[/bold] — an offline incident (SQLite + Slack emulator)")

    def step(who: str, what: str) -> None:
        console.print(f"[dim]{clock.now():%H:%M}[/dim] [bold]{who}[/bold] {what}")

    def command(user: str, channel: str, text: str, minutes: float = 0) -> Any:
        clock.advance(minutes=minutes)
        step(names[user], _humane(f"/incident {text}", names, {}))
        reply = slack.send_command(user, channel, text)
        _expect(reply.status == 200, f"/incident {text} was answered {reply.status}")
        sb.settle()
        return reply

    # 1. Alice declares through the form: impact started 12 minutes before anyone noticed.
    clock.advance(minutes=0)
    impact = clock.now() - timedelta(minutes=12)
    command(alice, general, "declare")
    view = _only(slack.views(alice), "the declare form")
    step("alice", "fills the form: SEV2, 'Checkout API returns 500s', impact started 12 min ago")
    reply = slack.submit_view(
        alice,
        view["id"],
        {
            "title": "Checkout API returns 500s",
            "severity": "SEV2",
            "description": "5xx rate on /api/checkout above 20% since the 14:05 deploy.",
            "impact_started_at": int(impact.timestamp()),
        },
    )
    _expect(reply.status == 200, f"the form submission was answered {reply.status}")
    sb.settle()
    with sb.bot.db.read() as session:
        incident = _only(q.list_incidents(session=session), "the new incident")
    channel = incident.channel_id
    _expect(channel is not None, "the incident channel was not created")
    assert channel is not None
    card_ts = incident.card_ts
    assert card_ts is not None

    # 2. Roles, acknowledgement, investigation.
    command(bob, channel, "comms", minutes=1)
    command(alice, channel, f"scribe <@{carol}|carol>", minutes=0.5)
    clock.advance(minutes=1)
    step("bob", "clicks [Acknowledge] on the incident card")
    slack.click_button(bob, channel, card_ts, b.ACK)
    sb.settle()
    command(alice, channel, "status identified", minutes=6)
    clock.advance(minutes=1)
    said = slack.post_user_message(
        carol, channel, "Deploy 2026.11.26-3 lines up exactly with the 500s; rolling back."
    )
    step("carol", "says the deploy lines up with the errors; alice reacts with :pushpin:")
    slack.add_reaction(alice, channel, said, "pushpin")
    sb.settle()
    command(carol, channel, "note Rollback to 2026.11.26-2 started", minutes=2)
    command(alice, channel, "status monitoring", minutes=7)

    # 3. Severity through the card's button and its form.
    clock.advance(minutes=3)
    step("alice", "clicks [Change severity] → SEV3 (impact has stopped)")
    slack.click_button(alice, channel, card_ts, b.CHANGE_SEVERITY)
    sb.settle()
    form = _only(slack.views(alice), "the severity form")
    slack.submit_view(alice, form["id"], {"severity": "SEV3"})
    sb.settle()

    # 4. Resolve and close.
    command(
        alice,
        channel,
        "resolve Rolled back to 2026.11.26-2; error rate back to baseline",
        minutes=15,
    )
    command(alice, channel, "close", minutes=30)
    _report(sb, incident.id, channel, names)


def _report(sb: Sandbox, incident_id: int | None, channel: str, names: dict[str, str]) -> None:
    assert incident_id is not None
    slack = sb.slack
    info = _need(slack.channel(channel), "the incident channel")
    console.rule(f"#{info['name']} — what the responders saw")
    channels = {channel: info["name"], sb.feed_id: sb.feed}
    for message in slack.messages(channel, system=False):
        who = names.get(str(message.get("user")), str(message.get("user")))
        console.print(Text(who, style="cyan"), Text(_humane(_readable(message), names, channels)))
    console.print(Text("topic:", style="dim"), Text(_humane(slack.topic(channel), names, channels)))
    feed = slack.messages(sb.feed_id, system=False)
    console.rule(f"#{sb.feed} — the announcement")
    for message in feed:
        console.print(Text(_humane(_readable(message), names, channels)))

    with sb.bot.db.read() as session:
        incident = q.get_incident(session=session, incident_id=incident_id)
        rows = q.timeline(session=session, incident_id=incident_id)
        stamps = q.milestones(session=session, incident_id=incident_id)
    assert incident is not None
    timeline = Table(
        title=f"Timeline of incident #{incident_id}: {incident.title}", show_lines=False
    )
    for column in ("UTC", "who", "what", "kind", "source"):
        timeline.add_column(column)
    for row in rows:
        timeline.add_row(
            f"{row.at:%H:%M:%S}",
            names.get(row.actor or "", row.actor or "—"),
            row.text,
            row.kind,
            row.source,
        )
    console.print(timeline)

    table = Table(title="Milestones")
    for column in ("milestone", "UTC", "source", "set by"):
        table.add_column(column)
    for milestone in ORDER:
        stamp = stamps.get(milestone)
        if stamp is None:
            table.add_row(milestone.label, "—", "", "")
        else:
            table.add_row(
                milestone.label,
                f"{stamp.at:%Y-%m-%d %H:%M:%S}",
                stamp.source.value,
                names.get(stamp.by or "", stamp.by or ""),
            )
    console.print(table)
    metrics = Table(title="This incident's numbers")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    metrics.add_column("definition")
    for metric, value in durations({m: s.at for m, s in stamps.items()}).items():
        metrics.add_row(metric.value.upper(), humanize(value), DEFINITIONS[metric][2])
    console.print(metrics)

    _expect(incident.status == "closed", f"the incident ended {incident.status}, not closed")
    _expect(
        all(m in stamps for m in ORDER),
        f"milestones missing: {[m.value for m in ORDER if m not in stamps]}",
    )
    _expect(
        any(r.kind == "pin" and "Deploy 2026.11.26-3" in r.text for r in rows),
        "the pinned message is not on the timeline",
    )
    _expect(
        stamps[Milestone.IMPACT_STARTED].at < stamps[Milestone.DETECTED].at,
        "impact start was not kept from the form",
    )
    _expect(len(feed) == 1, "the incident was not announced once in the feed")


def _humane(text: str, names: dict[str, str], channels: dict[str, str]) -> str:
    """Slack markup as a reader sees it: @names, #channels, dates, link labels."""
    text = re.sub(
        r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + names.get(m.group(1), m.group(1)), text
    )
    text = re.sub(
        r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>",
        lambda m: "#" + channels.get(m.group(1), m.group(1)),
        text,
    )
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _readable(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if block.get("type") == "header":
            parts.append(block["text"]["text"].upper())
        elif block.get("type") == "section":
            if block.get("text"):
                parts.append(block["text"]["text"])
            parts.extend(f["text"].replace("\n", ": ") for f in block.get("fields", []))
        elif block.get("type") == "context":
            parts.append(" ".join(e.get("text", "") for e in block.get("elements", [])))
        elif block.get("type") == "actions":
            parts.append(
                " ".join(
                    f"[{e['text']['text']}]"
                    for e in block.get("elements", [])
                    if e.get("type") == "button"
                )
            )
    return "\n    ".join(p for p in parts if p) or str(message.get("text") or "")


def _need(found: dict[str, Any] | None, what: str) -> dict[str, Any]:
    _expect(found is not None, f"{what} is missing")
    assert found is not None
    return found


def _only(items: Any, what: str) -> Any:
    items = list(items)
    _expect(len(items) == 1, f"expected {what}, found {len(items)}")
    return items[0]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)
