"""Links into Slack for other systems (the post-mortem's link back to the incident's channel)."""

from __future__ import annotations

from urllib.parse import urlencode


def conversation_link(
    channel_id: str, name: str | None, *, team: str | None = None
) -> tuple[str, str]:
    """(label, url) of a channel: `app_redirect` opens it in the reader's Slack client."""
    query = {"channel": channel_id, **({"team": team} if team else {})}
    return (
        f"Slack channel #{name or channel_id}",
        f"https://slack.com/app_redirect?{urlencode(query)}",
    )
