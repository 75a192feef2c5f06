"""Milestones: the instants every metric is computed from, with their provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Milestone(StrEnum):
    IMPACT_STARTED = "impact_started_at"
    DETECTED = "detected_at"
    DECLARED = "declared_at"
    ACKNOWLEDGED = "acknowledged_at"
    MITIGATED = "mitigated_at"
    RESOLVED = "resolved_at"
    CLOSED = "closed_at"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Milestone.IMPACT_STARTED: "Impact started",
    Milestone.DETECTED: "Detected",
    Milestone.DECLARED: "Declared",
    Milestone.ACKNOWLEDGED: "Acknowledged",
    Milestone.MITIGATED: "Mitigated",
    Milestone.RESOLVED: "Resolved",
    Milestone.CLOSED: "Closed",
}

# Display order (also the usual chronological order).
ORDER: tuple[Milestone, ...] = tuple(Milestone)

# (earlier, later): each pair must hold whenever both are set.
_CONSTRAINTS: tuple[tuple[Milestone, Milestone], ...] = (
    (Milestone.IMPACT_STARTED, Milestone.DETECTED),
    (Milestone.DETECTED, Milestone.DECLARED),
    (Milestone.DETECTED, Milestone.ACKNOWLEDGED),
    (Milestone.IMPACT_STARTED, Milestone.MITIGATED),
    (Milestone.MITIGATED, Milestone.RESOLVED),
    (Milestone.IMPACT_STARTED, Milestone.RESOLVED),
    (Milestone.DETECTED, Milestone.RESOLVED),
    (Milestone.RESOLVED, Milestone.CLOSED),
    (Milestone.DECLARED, Milestone.CLOSED),
)


class Source(StrEnum):
    """Where a milestone or a timeline entry came from (stored as is; each surface names the
    product behind `chat` and `pager` itself)."""

    CHAT = "chat"  # a person on the chat surface
    ALERT = "alert"
    PAGER = "pager"  # the pager's own events (acknowledged, resolved there)
    MANUAL = "manual"
    IMPLIED = "implied"
    IMPORT = "import"
    SYSTEM = "system"


@dataclass(frozen=True)
class Stamp:
    at: datetime
    source: Source
    by: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.at)


def require_aware(at: datetime) -> None:
    """Every instant in the product is timezone-aware; a naive one is a bug upstream."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} (every instant must be timezone-aware)")


# The instants the product takes from outside (alerts, imports): far enough from datetime's own
# limits that arithmetic on them (durations, chart axes, local times) cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def instant_problem(at: datetime) -> str | None:
    """Why `at` cannot be a milestone (None when it can): naive, or outside EARLIEST–LATEST."""
    if at.tzinfo is None or at.utcoffset() is None:
        return "needs a time zone (RFC 3339, e.g. 2026-11-26T10:00:00Z)"
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        return f"must be between {EARLIEST.year} and {LATEST.year} (UTC)"
    return None


def order_errors(instants: Mapping[Milestone, datetime]) -> list[str]:
    """Human-readable violations of the milestone order (empty when the order holds)."""
    errors = []
    for earlier, later in _CONSTRAINTS:
        a, b = instants.get(earlier), instants.get(later)
        if a is not None and b is not None and a > b:
            errors.append(
                f"{earlier.label} ({_fmt(a)}) must not be after {later.label} ({_fmt(b)})"
            )
    return errors


def preceding(milestone: Milestone) -> tuple[Milestone, ...]:
    """The milestones that must not be after `milestone` (the floors of a sender's time)."""
    return tuple(earlier for earlier, later in _CONSTRAINTS if later is milestone)


def _fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
