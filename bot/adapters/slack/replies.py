"""Ephemeral replies: help, the list of open incidents, confirmations, refusals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.slack.text import escape, link, said, when
from bot.core.catalog import Catalog
from bot.core.commands import SUBCOMMANDS, Subcommand
from bot.core.refusals import Refusal
from bot.flows.ports import OnCall
from bot.flows.unit import Outcome
from bot.markup import to_slack_mrkdwn
from bot.store.read_models import FollowupItem, IncidentSummary

Block = dict[str, Any]


def refusal_reply(refusal: Refusal) -> dict[str, Any]:
    """A refusal as its answer: why, with the people it is about mentioned, and what to do
    instead on a line of its own; `text`, the whole in one, is the plain fallback."""
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": said(refusal.why)[:3000]}}
    ]
    if refusal.fix:
        fix = f":bulb: {said(refusal.fix)}"[:2000]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": fix}]})
    return {"text": said(refusal.text), "blocks": blocks}


def outcome_reply(outcome: Outcome) -> dict[str, Any]:
    """What a flow answered: a refusal laid out as `refusal_reply`, anything else its text."""
    if outcome.refusal is not None:
        return refusal_reply(outcome.refusal)
    return {"text": said(outcome.message)}


# How a sub-command's alternative is done in Slack, added to its neutral help line.
HINTS = {
    "note": "the reaction is :pushpin: (remove it to unpin)",
    "followup": "on a message, its *Add follow-up* shortcut",
}


def help_line(entry: Subcommand, catalog: Catalog) -> str:
    """A sub-command's help line as Slack shows it: the core's, with Slack's hint."""
    statuses = ", ".join(s.id for s in catalog.statuses if s.phase.value != "closed")
    said = entry.summary.format(statuses=statuses)
    hint = HINTS.get(entry.name)
    return f"{said} · {hint}" if hint else said


def help_blocks(catalog: Catalog, unknown: str | None = None) -> tuple[str, list[Block]]:
    lines = [
        f"`/incident {entry.command(catalog)}` — {help_line(entry, catalog)}"
        for entry in SUBCOMMANDS
    ]
    intro = f"I don't know `{escape(unknown)}`. " if unknown else ""
    text = f"{intro}*Incident commands*\n" + "\n".join(lines)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def list_blocks(catalog: Catalog, incidents: Sequence[IncidentSummary]) -> tuple[str, list[Block]]:
    if not incidents:
        text = "No open incidents. :tada:"
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    rows = []
    for incident in incidents[:40]:
        sev = catalog.find_severity(incident.severity)
        status = catalog.find_status(incident.status)
        where = (
            f"<#{incident.conversation_id}>" if incident.conversation_id else "_channel pending_"
        )
        rows.append(
            f"{sev.emoji if sev else ''} *{incident.severity}* {escape(incident.title)} — "
            f"{status.name if status else incident.status} · {where}"
        )
    text = f"*Open incidents ({len(incidents)})*\n" + "\n".join(rows)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def oncall_blocks(service: str, people: Sequence[OnCall]) -> tuple[str, list[Block]]:
    if not people:
        text = f"Nobody is on call for *{escape(service)}* right now."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    rows = []
    for person in people[:20]:
        until = f" until {when(person.until)}" if person.until else ""
        them = f"*{escape(person.name)}*" + (f" <@{person.chat}>" if person.chat else "")
        rows.append(f"L{person.level} · {them}{until} ({escape(person.via)})")
    text = f"*On call for {escape(service)}*\n" + "\n".join(rows)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def followups_blocks(
    incident: IncidentSummary, followups: Sequence[FollowupItem]
) -> tuple[str, list[Block]]:
    if not followups:
        text = "No follow-ups yet. Add one: `/incident followup <what needs doing> [@owner] [due YYYY-MM-DD]`, or *Add follow-up* on any message."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    rows = []
    for f in followups[:40]:
        icon = "✅" if f.state == "done" else "⬜"
        owner = (
            f"<@{f.owner}>"
            if f.owner
            else (f"_the {escape(f.owner_role)}_" if f.owner_role else "_no owner_")
        )
        due = f" · due {f.due_on.isoformat()}" if f.due_on else ""
        jira = f" · {link(f.tracker_url, f.tracker_key or 'Jira')}" if f.tracker_url else ""
        rows.append(f"{icon} #{f.id} {escape(f.text)} — {owner}{due}{jira}")
    text = (
        f"*Follow-ups of #{incident.id} {escape(incident.title)} ({len(followups)})*\n"
        + "\n".join(rows)
    )
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def postmortem_blocks(markdown: str, template: str) -> tuple[str, list[Block]]:
    """The draft as Slack shows it: mrkdwn sections of up to 3000 characters, split on lines."""
    chunks = _sections(to_slack_mrkdwn(markdown), 2900)
    head = f"📝 *Post-mortem draft* (template `{escape(template)}`). `/incident close` drafts it into Jira; `/incident postmortem export` does it now."
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks if c.strip()
    ]
    if len(blocks) > 50:
        blocks = [
            *blocks[:49],
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "… (the rest is in the full draft)"}],
            },
        ]
    return "Post-mortem draft", blocks


def _sections(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters at line ends; a ``` block cut in two
    is closed at the end of one piece and reopened at the start of the next."""
    chunks: list[str] = []
    current: list[str] = []
    size, fenced = 0, False
    for line in text.splitlines():
        line = line[: limit - 8]
        if current and size + len(line) + 1 > limit - 4:
            chunks.append("\n".join([*current, "```"] if fenced else current))
            current, size = (["```"], 3) if fenced else ([], 0)
        current.append(line)
        size += len(line) + 1
        if line.startswith("```"):
            fenced = not fenced
    if current:
        chunks.append("\n".join(current))
    return chunks
