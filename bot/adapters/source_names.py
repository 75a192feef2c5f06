"""The products behind the domain's neutral sources, as people know them.

The core stores where a milestone or a timeline entry came from as `chat`, `pager`, `alert` …
(`bot.core.milestones.Source`); what people read names the product this deployment uses for
each: today its one chat surface is Slack and its default pager PagerDuty. A pager's own name
comes with its kind (`pager:opsgenie` → Opsgenie) where the caller knows which pager it was."""

from __future__ import annotations

from bot.core.milestones import Source

PRODUCTS: dict[str, str] = {Source.CHAT.value: "Slack", Source.PAGER.value: "PagerDuty"}
PAGERS: dict[str, str] = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}


def pager_name(kind: str) -> str:
    """`opsgenie` → `Opsgenie`; a kind this list does not know, as stored."""
    return PAGERS.get(kind, kind)


def source_name(source: str | None) -> str:
    """`chat` → `Slack`, `pager` → `PagerDuty`, `pager:opsgenie` → `Opsgenie`; any other source
    (alert, manual …) as stored."""
    if not source:
        return "—"
    if source.startswith(Source.PAGER.value + ":"):
        return pager_name(source.partition(":")[2])
    return PRODUCTS.get(source, source)
