"""Slack text helpers: escaping user text, local-time dates, mentions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.core.people import render_people

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,20})&gt;")


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<@U…>` typed by anyone stays inert."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_URL_UNSAFE = frozenset(' "<>|')


def safe_url(url: str) -> str | None:
    """A URL from outside (alert links, PagerDuty, Jira) as it may stand in `<url|label>`: only
    http(s) and mailto; characters that would end the link or its label percent-encoded, and
    `&` escaped. None for anything else (`javascript:`, relative, empty)."""
    url = url.strip()
    if not url.lower().startswith(_SAFE_SCHEMES) or url.lower() in _SAFE_SCHEMES:
        return None
    encoded = "".join(
        f"%{ord(c):02X}" if c in _URL_UNSAFE or ord(c) < 0x20 or ord(c) == 0x7F else c for c in url
    )
    return encoded.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped; only the escaped label when the URL is not safe."""
    safe = safe_url(url or "")
    return f"<{safe}|{escape(label)}>" if safe else escape(label)


def escape_but_mentions(text: str) -> str:
    """Escape like `escape`, but let user mentions (`<@U…>`) through: for the bot's own text
    that names people (never `<!channel>` or links)."""
    return _ESCAPED_MENTION.sub(r"<@\1>", escape(text))


def when(at: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """`<!date^…>` shows each reader their own local time; the fallback is UTC."""
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{style}|{fallback}>"


def mentioned(word: str) -> str | None:
    """The user a word of a slash command mentions: Slack sends `<@U123|name>` (escaped)."""
    found = _MENTION.match(word)
    return found.group(1) if found else None


def said(text: str, *, stored_mentions: bool = False) -> str:
    """The domain's sentences (refusals, outcomes, step results) as a Slack message shows them.
    The domain writes plain text, what someone typed in it included: it is escaped here, and each
    neutral person reference (`bot.core.people`) becomes the user's mention, `<@U…>`.
    `stored_mentions`: for text the bot stored itself, where an older version wrote `<@U…>`."""
    escaped = escape_but_mentions(text) if stored_mentions else escape(text)
    return render_people(escaped, lambda user: f"<@{user}>")


def said_plain(text: str) -> str:
    """A domain sentence where Slack shows plain text (a form's field error): people as `@id`."""
    return render_people(text, lambda user: f"@{user}")


def mention(user: str | None, default: str = "_unassigned_") -> str:
    return f"<@{user}>" if user else default


def plain(text: str, limit: int) -> str:
    """Trim plain text to Slack's limit for the field it goes in."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
