"""What `incidentbot demo` prints and checks: the channel as people saw it, the timeline, the
milestones with MTTx; and the expectations that make the demo fail loudly when the bot does not
do what it shows."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.adapters.source_names import source_name
from bot.core.metrics import DEFINITIONS, durations, humanize
from bot.core.milestones import ORDER, Milestone
from bot.sandbox import Sandbox
from bot.store import incidents as q

PIPED_WIDTH = 1000  # piped (a file, a pager, CI): tables as wide as they need, lines never cut


def _console() -> Console:
    """Soft wrap: a long line is the terminal's to fold, so no title or URL is ever cut in two
    by a newline. In a terminal, tables fit its width; piped, they take the width they need."""
    found = Console(soft_wrap=True)
    return found if found.is_terminal else Console(soft_wrap=True, width=PIPED_WIDTH)


console = _console()


def heading(title: str) -> None:
    """A section title: a rule across a terminal that has room for it, else the title alone."""
    if console.is_terminal and Text.from_markup(title).cell_len + 6 <= console.width:
        console.rule(title)
    else:
        console.print(f"\n── {title} ──")


class DemoFailed(AssertionError):
    pass


def report(sb: Sandbox, incident_id: int | None, channel: str, names: dict[str, str]) -> None:
    assert incident_id is not None
    slack = sb.slack
    info = need(slack.channel(channel), "the incident channel")
    heading(f"#{info['name']} — what the responders saw")
    channels = {channel: info["name"], sb.feed_id: sb.feed}
    for message in slack.messages(channel, system=False):
        who = names.get(str(message.get("user")), str(message.get("user")))
        console.print(Text(who, style="cyan"), Text(humane(readable(message), names, channels)))
    console.print(Text("topic:", style="dim"), Text(humane(slack.topic(channel), names, channels)))
    feed = slack.messages(sb.feed_id, system=False)
    heading(f"#{sb.feed} — the announcement")
    for message in feed:
        console.print(Text(humane(readable(message), names, channels)))

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
            source_name(row.source),
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
                source_name(stamp.source),
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

    expect(incident.status == "closed", f"the incident ended {incident.status}, not closed")
    expect(
        all(m in stamps for m in ORDER),
        f"milestones missing: {[m.value for m in ORDER if m not in stamps]}",
    )
    expect(
        any(r.kind == "pin" and "Deploy 2026.11.26-3" in r.text for r in rows),
        "the pinned message is not on the timeline",
    )
    expect(
        stamps[Milestone.IMPACT_STARTED].at < stamps[Milestone.DETECTED].at,
        "impact start was not kept from the form",
    )
    expect(len(feed) == 1, "the incident was not announced once in the feed")


def humane(text: str, names: dict[str, str], channels: dict[str, str]) -> str:
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


def readable(message: dict[str, Any]) -> str:
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


def need(found: dict[str, Any] | None, what: str) -> dict[str, Any]:
    expect(found is not None, f"{what} is missing")
    assert found is not None
    return found


def only(items: Any, what: str) -> Any:
    items = list(items)
    expect(len(items) == 1, f"expected {what}, found {len(items)}")
    return items[0]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)
