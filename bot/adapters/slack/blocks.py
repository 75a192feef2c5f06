"""Block Kit for the incident card, the feed announcement, channel lines and the topic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.adapters.slack.text import escape, link, mention, plain, said, when
from bot.core.catalog import COMMANDER, Phase
from bot.core.milestones import ORDER, Milestone
from bot.flows.ports import CardView, Line

Block = dict[str, Any]

ACK = "incident.ack"
CHANGE_STATUS = "incident.change_status"
CHANGE_SEVERITY = "incident.change_severity"
CLAIM_COMMANDER = "incident.claim_commander"
RESOLVE = "incident.resolve"
CLOSE = "incident.close"
ACCEPT_MITIGATION = "incident.accept_mitigation"
SNOOZE = "incident.snooze_status_update"
SNOOZE_MINUTES = (15, 30, 60)

_LINE_ICONS = {
    "status": "🔄",
    "severity": "🚨",
    "role": "👤",
    "acknowledged": "👍",
    "note": "📝",
    "reopened": "↩️",
    "resolved": "✅",
    "closed": "🔒",
    "milestone": "⏱️",
    "error": "⚠️",
    "step": "📋",
    "page": "📟",
    "followup": "📌",
    "postmortem": "📝",
    "visibility": "🔓",
}


def _text(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def headline(card: CardView) -> str:
    drill = "[DRILL] " if card.drill else ""
    return f"{drill}{card.severity.emoji} {card.severity.id} · {card.title}".strip()


def card_blocks(card: CardView) -> list[Block]:
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": "card.header",
            "text": {"type": "plain_text", "text": plain(headline(card), 150), "emoji": True},
        }
    ]
    if card.drill:
        blocks.append(
            {
                "type": "context",
                "block_id": "card.drill",
                "elements": [_text("🧪 *This is a drill.* Nothing here counts in the metrics.")],
            }
        )
    fields = [
        _text(f"*Status*\n{card.status.emoji} {card.status.name}"),
        _text(
            f"*Severity*\n{card.severity.emoji} {card.severity.id} — {escape(card.severity.name)}"
        ),
    ]
    fields += [_text(f"*{escape(role.name)}*\n{mention(user)}") for role, user in card.roles[:8]]
    blocks.append({"type": "section", "block_id": "card.fields", "fields": fields})
    if card.description:
        blocks.append(
            {
                "type": "section",
                "block_id": "card.description",
                "text": _text(plain(escape(card.description), 2900)),
            }
        )
    if card.summary:
        blocks.append(
            {
                "type": "section",
                "block_id": "card.summary",
                "text": _text(plain(f"*Resolution:* {escape(card.summary)}", 2900)),
            }
        )
    if card.alerts:
        blocks.append(
            {
                "type": "section",
                "block_id": "card.alerts",
                "text": _text(plain(_alerts_text(card), 2900)),
            }
        )
    if card.pages:
        blocks.append(
            {
                "type": "context",
                "block_id": "card.pages",
                "elements": [_text(plain(_pages_text(card), 2900))],
            }
        )
    stamps = [f"*{m.label}:* {when(card.milestones[m].at)}" for m in ORDER if m in card.milestones]
    blocks.append(
        {
            "type": "context",
            "block_id": "card.milestones",
            "elements": [_text(plain(" · ".join(stamps), 2900))],
        }
    )
    if card.status.phase is not Phase.CLOSED:
        blocks.append(
            {"type": "actions", "block_id": "card.actions", "elements": _card_buttons(card)}
        )
    footer = [
        "🔒 Private incident" if card.private else None,
        link(card.review_url, "Review page") if card.review_url else None,
        f"📝 Post-mortem {link(card.postmortem_url, card.postmortem_key or 'in Jira')}"
        if card.postmortem_url
        else None,
    ]
    if any(footer):
        blocks.append(
            {
                "type": "context",
                "block_id": "card.footer",
                "elements": [_text(" · ".join(f for f in footer if f))],
            }
        )
    return blocks


_LINK_LABELS = (
    ("generator", "source"),
    ("runbook", "runbook"),
    ("dashboard", "dashboard"),
    ("panel", "panel"),
    ("silence", "silence"),
)
MAX_ALERTS_SHOWN = 6


def _alerts_text(card: CardView) -> str:
    firing = sum(a.firing for a in card.alerts)
    head = f"*Alerts* — {firing} firing, {len(card.alerts) - firing} resolved"
    lines = []
    for alert in sorted(card.alerts, key=lambda a: not a.firing)[:MAX_ALERTS_SHOWN]:
        links = " · ".join(
            link(alert.links[key], label) for key, label in _LINK_LABELS if alert.links.get(key)
        )
        icon = "🔥" if alert.firing else "✅"
        lines.append(
            f"{icon} *{escape(alert.name)}* {escape(alert.summary) if alert.summary != alert.name else ''} {links}".rstrip()
        )
    more = len(card.alerts) - MAX_ALERTS_SHOWN
    if more > 0:
        lines.append(f"… and {more} more on the review page")
    return "\n".join([head, *lines])


def _pages_text(card: CardView) -> str:
    parts = []
    for page in card.pages:
        parts.append(f"📟 {link(page.html_url, page.service or 'PagerDuty')} {escape(page.status)}")
    return " · ".join(parts)


def _card_buttons(card: CardView) -> list[Block]:
    value = str(card.id)
    buttons = []
    if Milestone.ACKNOWLEDGED not in card.milestones:
        buttons.append(_button("Acknowledge", ACK, value, "primary"))
    buttons.append(_button("Change status", CHANGE_STATUS, value))
    buttons.append(_button("Change severity", CHANGE_SEVERITY, value))
    buttons.append(_button("Claim commander", CLAIM_COMMANDER, value))
    if card.status.phase is Phase.RESOLVED:
        buttons.append(_button("Close", CLOSE, value, "danger"))
    else:
        buttons.append(
            _button(
                "Resolve",
                RESOLVE,
                value,
                "primary" if Milestone.ACKNOWLEDGED in card.milestones else None,
            )
        )
    return buttons


def card_fallback(card: CardView) -> str:
    """The message's `text`: Slack parses it as mrkdwn (notifications, screen readers)."""
    return escape(f"{headline(card)} — {card.status.name}")


def announcement_blocks(card: CardView) -> list[Block]:
    where = f"<#{card.conversation_id}>" if card.conversation_id else "(channel pending)"
    commander = card.holder(COMMANDER)
    lines = [
        f"{card.severity.emoji} *{card.severity.id}* — *{escape(card.title)}*",
        f"{card.status.emoji} {card.status.name} · Commander: {mention(commander)} · Join {where}",
    ]
    declared = card.milestones.get(Milestone.DECLARED)
    context = [
        f"Declared {when(declared.at)}" if declared else "",
        link(card.review_url, "Review page") if card.review_url else "",
    ]
    blocks: list[Block] = [
        {"type": "section", "block_id": "feed.summary", "text": _text("\n".join(lines))}
    ]
    if any(context):
        blocks.append(
            {
                "type": "context",
                "block_id": "feed.context",
                "elements": [_text(" · ".join(c for c in context if c))],
            }
        )
    return blocks


def line_text(line: Line, card: CardView) -> str:
    icon = _LINE_ICONS.get(line.kind, "•")
    by = f" — {mention(line.actor, '')}" if line.actor else ""
    # in the feed a line names its incident (the channel may be missing or gone)
    channel = f" (#{escape(card.conversation_name)})" if card.conversation_name else ""
    where = (
        f"*{card.severity.id} · {escape(card.title)}*{channel}: " if line.data.get("feed") else ""
    )
    if line.kind == "note":
        return f"{icon} Note{by}:\n{escape(line.text)}"
    if line.kind == "reminder":
        to = line.data.get("to")
        return f"⏰ {mention(str(to)) if to else 'Commander (nobody yet)'}: {escape(line.text)}"
    if line.kind == "playbook":  # a playbook's `post` step: the author's mrkdwn, kept as written
        return f"📋 {where}{plain(line.text, 3000)}"
    if line.kind == "postmortem" and line.data.get("issue_url"):  # the key, linked
        key, url = str(line.data.get("issue_key")), str(line.data["issue_url"])
        head, found, rest = line.text.partition(key)
        if found:
            return f"📝 *{escape(head)}{link(url, key)}*{escape(rest)}"
    if line.kind == "role":
        user = line.data.get("user")
        name = next(
            (r.name for r, _holder in card.roles if r.id == line.data.get("role")),
            str(line.data.get("role")),
        )
        return f"{icon} {mention(str(user) if user else None)} is now *{escape(name)}*{by}"
    # a step's line names the people its action reached (`bot.core.people` references)
    text = said(line.text) if line.kind == "step" else escape(line.text)
    return f"{icon} {where}*{text}*{by}"


def drill_banner(card: CardView) -> str:
    """Every message of a drill says so, so nobody mistakes practice for an outage."""
    return "🧪 *[DRILL]* " if card.drill else ""


def direct_text(line: Line) -> str:
    """A reminder (or a failure report) in someone's direct messages, pointing at the channel."""
    channel = line.data.get("channel_id")
    where = f" (<#{channel}>)" if channel else ""
    icon = "⚠️" if line.kind == "error" else "⏰"
    return f"{icon} {escape(line.text)}{where}"


def topic(card: CardView) -> str:
    commander = card.holder(COMMANDER)
    parts = [
        f"{card.severity.emoji} {card.severity.id}",
        card.status.name,
        f"IC: {mention(commander, 'none')}",
        escape(card.title),  # Slack reads a topic's markup like a message's: `<!channel>`, links
    ]
    return plain(" | ".join(parts), 250)  # cutting inside `&lt;` leaves inert text


def mitigation_proposal(card: CardView, at: datetime) -> tuple[str, list[Block]]:
    """Every alert has resolved: offer the alerts' end as the mitigation time (not forced)."""
    text = f"✅ Every alert of this incident has resolved (the last at {when(at, '{time}')}). Was the impact mitigated then?"
    button = _button(
        f"Mark mitigated at {at:%H:%M} UTC",
        ACCEPT_MITIGATION,
        f"{card.id}|{at.isoformat()}",
        "primary",
    )
    return text, [
        {"type": "section", "block_id": "mitigation.text", "text": _text(text)},
        {"type": "actions", "block_id": "mitigation.actions", "elements": [button]},
    ]


def snooze_blocks(text: str, incident_id: int) -> list[Block]:
    """The status-update reminder, with buttons that push the next one back."""
    buttons = [
        _button(f"Snooze {m} min", f"{SNOOZE}.{m}", f"{incident_id}|{m}") for m in SNOOZE_MINUTES
    ]
    return [
        {"type": "section", "block_id": "reminder.text", "text": _text(plain(text, 2900))},
        {"type": "actions", "block_id": "reminder.snooze", "elements": buttons},
    ]
