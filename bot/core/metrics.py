"""MTTx definitions (ARCHITECTURE §4): each metric is a pair of milestones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.milestones import Milestone


class Metric(StrEnum):
    MTTD = "mttd"
    MTTA = "mtta"
    MTTM = "mttm"
    MTTR = "mttr"


DEFINITIONS: dict[Metric, tuple[Milestone, Milestone, str]] = {
    Metric.MTTD: (
        Milestone.IMPACT_STARTED,
        Milestone.DETECTED,
        "time to detect = detected − impact start",
    ),
    Metric.MTTA: (
        Milestone.DETECTED,
        Milestone.ACKNOWLEDGED,
        "time to acknowledge = acknowledged − detected",
    ),
    Metric.MTTM: (
        Milestone.IMPACT_STARTED,
        Milestone.MITIGATED,
        "time to mitigate = mitigated − impact start",
    ),
    Metric.MTTR: (
        Milestone.IMPACT_STARTED,
        Milestone.RESOLVED,
        "time to resolve = resolved − impact start",
    ),
}


def durations(instants: Mapping[Milestone, datetime]) -> dict[Metric, timedelta | None]:
    """One incident's durations; None where a milestone is missing (left out of that metric)."""
    result: dict[Metric, timedelta | None] = {}
    for metric, (start, end, _text) in DEFINITIONS.items():
        a, b = instants.get(start), instants.get(end)
        result[metric] = b - a if a is not None and b is not None else None
    return result


def humanize(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = round(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"
