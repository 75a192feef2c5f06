"""MTTx definitions (docs/ARCHITECTURE.md §6): each metric is a pair of milestones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import fmean, median, quantiles

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


# -- aggregates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """One metric over many incidents, in seconds (None when no incident has both milestones).
    `missing` counts the incidents left out of this metric for lack of a milestone."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None
    missing: int = 0

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "count": self.count,
            "mean_s": self.mean_s,
            "median_s": self.median_s,
            "p90_s": self.p90_s,
        }


def summarize(seconds: Sequence[float], missing: int = 0) -> Summary:
    """count, mean, median and p90 (linear interpolation between closest ranks, i.e.
    statistics.quantiles(n=10, method="inclusive")[8]; the value itself when there is one)."""
    if not seconds:
        return Summary(0, None, None, None, missing)
    values = sorted(seconds)
    p90 = values[0] if len(values) == 1 else quantiles(values, n=10, method="inclusive")[8]
    return Summary(len(values), fmean(values), median(values), p90, missing)


def counts_in_metrics(*, drill: bool, disposition: str | None) -> bool:
    """Drills and declined or merged incidents never count."""
    return not drill and disposition is None


def report(incidents: Iterable[Mapping[Milestone, datetime]]) -> dict[Metric, Summary]:
    """The pure definition of a report over incidents that count (see counts_in_metrics)."""
    values: dict[Metric, list[float]] = {m: [] for m in Metric}
    missing = dict.fromkeys(Metric, 0)
    for instants in incidents:
        for metric, delta in durations(instants).items():
            if delta is None:
                missing[metric] += 1
            else:
                values[metric].append(delta.total_seconds())
    return {m: summarize(values[m], missing[m]) for m in Metric}
