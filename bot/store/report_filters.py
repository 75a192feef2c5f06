"""Report filters as people type them (CLI options, API query parameters): dates, instants with
their UTC offset, a severity, a service. Used by bot/store/reports.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.core.catalog import Catalog
from bot.core.milestones import EARLIEST, LATEST


@dataclass(frozen=True)
class ReportFilters:
    """Which incidents a report covers. `since` inclusive, `until` exclusive (aware instants)."""

    since: datetime | None = None
    until: datetime | None = None
    severity: str | None = None  # a catalog severity id
    service: str | None = None  # exact match

    def describe(self) -> str:
        parts = []
        if self.since:
            parts.append(f"since {self.since.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        if self.until:
            parts.append(f"until {self.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC (exclusive)")
        if self.severity:
            parts.append(f"severity {self.severity}")
        if self.service:
            parts.append(f"service {self.service}")
        return ", ".join(parts) or "all incidents"


class FilterError(ValueError):
    """A report filter that cannot be understood; the text says which and why."""


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(value: str, *, name: str, end: bool = False) -> datetime:
    """`YYYY-MM-DD` (a whole UTC day: its start, or with `end` the next day's start, so that an
    exclusive `until` includes the day) or ISO-8601 with a UTC offset. Instants outside the
    years milestones may have (EARLIEST–LATEST) are brought to that range: `since=1900-01-01`
    means from the start."""
    instant = _parse_instant(value.strip(), name=name, end=end)
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00
        return EARLIEST if instant.year < EARLIEST.year else LATEST
    return min(max(utc, EARLIEST), LATEST)


def _parse_instant(value: str, *, name: str, end: bool) -> datetime:
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise FilterError(f"{name}: {value!r} is not a date ({exc})") from exc
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end and day < date.max else start
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(
            f"{name}: {value!r} is neither YYYY-MM-DD nor ISO-8601 (e.g. 2026-03-29T01:30:00+01:00)"
        ) from exc
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise FilterError(
            f"{name}: {value!r} has no UTC offset; add one (e.g. +01:00 or Z) or give a date"
        )
    return instant


def parse_filters(
    catalog: Catalog,
    *,
    since: str | None = None,
    until: str | None = None,
    severity: str | None = None,
    service: str | None = None,
) -> ReportFilters:
    """The report filters as typed by a user (CLI options, API query parameters)."""
    start = parse_instant(since, name="since") if since else None
    stop = parse_instant(until, name="until", end=True) if until else None
    if start is not None and stop is not None and start >= stop:
        raise FilterError(f"since ({since}) must be before until ({until})")
    severity_id = None
    if severity:
        found = catalog.find_severity(severity)
        if found is None:
            known = ", ".join(s.id for s in catalog.severities)
            raise FilterError(f"severity: unknown severity {severity!r} (known: {known})")
        severity_id = found.id
    return ReportFilters(start, stop, severity_id, service.strip() if service else None)
