"""The products behind the domain's neutral sources, as people know them.

The core stores where a milestone or a timeline entry came from as `chat`, `pager`, `alert` …
(`bot.core.milestones.Source`); what people read names the product this deployment uses for
each: today its one chat surface is Slack and its pager PagerDuty."""

from __future__ import annotations

from bot.core.milestones import Source

PRODUCTS: dict[str, str] = {Source.CHAT.value: "Slack", Source.PAGER.value: "PagerDuty"}


def source_name(source: str | None) -> str:
    """`chat` → `Slack`, `pager` → `PagerDuty`; any other source (alert, manual …) as stored."""
    if not source:
        return "—"
    return PRODUCTS.get(source, source)
