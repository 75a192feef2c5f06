"""Slack text helpers: escaping user text, local-time dates, mentions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,20})&gt;")


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<@U…>` typed by anyone stays inert."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_but_mentions(text: str) -> str:
    """Escape like `escape`, but let user mentions (`<@U…>`) through: for the bot's own text
    that names people (never `<!channel>` or links)."""
    return _ESCAPED_MENTION.sub(r"<@\1>", escape(text))


def when(at: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """`<!date^…>` shows each reader their own local time; the fallback is UTC."""
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{style}|{fallback}>"


def mention(user: str | None, default: str = "_unassigned_") -> str:
    return f"<@{user}>" if user else default


def plain(text: str, limit: int) -> str:
    """Trim plain text to Slack's limit for the field it goes in."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
