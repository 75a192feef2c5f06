"""Backfill: past incidents from another tool, as rows to validate before anything is stored.

A file is a JSON array of objects, or JSON lines (one object per line). Each row:

    external_id   the incident's id where it came from (importing it again changes nothing)
    title         text
    severity      a catalog severity (e.g. "SEV2"; "sev2" and the severity's name work too)
    service       optional
    status        a catalog status id, or "declined" / "merged" (stored as the closed status
                  with that disposition: left out of every metric)
    drill         true / false (optional, false)
    impact_started_at, detected_at, acknowledged_at, mitigated_at, resolved_at, closed_at
                  ISO-8601 with a UTC offset ("2026-03-29T01:30:00+01:00", "…Z"), or null / absent

The order impact ≤ detected ≤ acknowledged and detected ≤ mitigated ≤ resolved ≤ closed must hold
between the milestones given, and no milestone may be later than the status allows (an incident
still `investigating` has not been mitigated). Every problem of every row is reported, with the
row's index (0-based: the array position, or the n-th object of the JSON lines).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from bot.core.catalog import Catalog, Phase
from bot.core.milestones import Milestone, instant_problem
from bot.core.text import no_nul

DISPOSITIONS = ("declined", "merged")
MILESTONES: tuple[Milestone, ...] = (
    Milestone.IMPACT_STARTED,
    Milestone.DETECTED,
    Milestone.ACKNOWLEDGED,
    Milestone.MITIGATED,
    Milestone.RESOLVED,
    Milestone.CLOSED,
)
# Each chain must be in order between the milestones a row gives (missing ones are skipped).
CHAINS: tuple[tuple[Milestone, ...], ...] = (
    (Milestone.IMPACT_STARTED, Milestone.DETECTED, Milestone.ACKNOWLEDGED),
    (
        Milestone.IMPACT_STARTED,
        Milestone.DETECTED,
        Milestone.MITIGATED,
        Milestone.RESOLVED,
        Milestone.CLOSED,
    ),
)
# The milestones a status may already have: none past its phase.
_ALLOWED_BY_PHASE = {
    Phase.ACTIVE: {Milestone.IMPACT_STARTED, Milestone.DETECTED, Milestone.ACKNOWLEDGED},
    Phase.MITIGATED: {
        Milestone.IMPACT_STARTED,
        Milestone.DETECTED,
        Milestone.ACKNOWLEDGED,
        Milestone.MITIGATED,
    },
    Phase.RESOLVED: set(MILESTONES) - {Milestone.CLOSED},
    Phase.CLOSED: set(MILESTONES),
}


def _instant(value: object) -> object:
    """ISO-8601 text with an offset; a naive time is refused (we would have to guess its zone)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected ISO-8601 text with a UTC offset, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not ISO-8601 (e.g. 2026-03-29T01:30:00+01:00 or …Z)"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset; add one, e.g. +01:00 or Z")
    problem = instant_problem(parsed)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return parsed


Instant = Annotated[AwareDatetime | None, BeforeValidator(_instant)]
Text = Annotated[str, Field(min_length=1)]


class ImportRow(BaseModel):
    """One row of an import file, as written (catalog checks come after, in `validate_rows`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """NULs become what the database stores them as, so that ids compare as stored."""
        return {k: no_nul(v) for k, v in data.items()} if isinstance(data, dict) else data

    external_id: Annotated[str, Field(min_length=1, max_length=200)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Annotated[str, Field(min_length=1, max_length=16)]
    service: Annotated[str | None, Field(max_length=64)] = None
    status: Annotated[str, Field(min_length=1, max_length=32)]
    drill: StrictBool = False
    impact_started_at: Instant = None
    detected_at: Instant = None
    acknowledged_at: Instant = None
    mitigated_at: Instant = None
    resolved_at: Instant = None
    closed_at: Instant = None

    def milestones(self) -> dict[Milestone, datetime]:
        """The milestones given, in UTC."""
        found = {m: getattr(self, m.value) for m in MILESTONES}
        return {m: at.astimezone(UTC) for m, at in found.items() if at is not None}

    @model_validator(mode="after")
    def _in_order(self) -> ImportRow:
        problems = order_problems(self.milestones())
        if problems:
            raise ValueError("; ".join(problems))
        return self


def order_problems(instants: dict[Milestone, datetime]) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[Milestone, Milestone]] = set()
    for chain in CHAINS:
        given = [m for m in chain if m in instants]
        for k, earlier in enumerate(given):
            for later in given[k + 1 :]:
                if (earlier, later) in seen:
                    continue
                seen.add((earlier, later))
                if instants[earlier] > instants[later]:
                    problems.append(
                        f"{earlier.value} ({_utc(instants[earlier])}) is after "
                        f"{later.value} ({_utc(instants[later])})"
                    )
    return problems


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class RowError:
    index: int
    reason: str

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "reason": self.reason}


@dataclass(frozen=True)
class ImportedIncident:
    """A row that passed every check, in the catalog's terms and in UTC."""

    index: int
    external_id: str
    title: str
    severity: str
    service: str | None
    status: str
    disposition: str | None
    drill: bool
    milestones: dict[Milestone, datetime] = field(default_factory=dict)

    @property
    def created_at(self) -> datetime | None:
        """When the incident began to exist here: its detection, else its impact start, else its
        earliest milestone (None when it has none). The reports place it in a period by this."""
        for milestone in (Milestone.DETECTED, Milestone.IMPACT_STARTED):
            if milestone in self.milestones:
                return self.milestones[milestone]
        return min(self.milestones.values(), default=None)


def parse_document(text: str) -> tuple[list[object], list[RowError]]:
    """A JSON array (when the text starts with `[`), else JSON lines."""
    stripped = text.lstrip("\ufeff \t\r\n")
    return parse_array(stripped) if stripped.startswith("[") else parse_lines(stripped)


def parse_array(text: str) -> tuple[list[object], list[RowError]]:
    """A JSON array of objects; a text that is not one is a single error at index 0."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also numbers over 4300 digits
        return [], [RowError(0, f"not valid JSON: {exc}")]
    if not isinstance(data, list):
        return [], [RowError(0, "expected a JSON array of objects")]
    return list(data), []


def parse_lines(text: str) -> tuple[list[object], list[RowError]]:
    """JSON lines: one object per line, blank lines skipped. A line that does not parse is an
    error at its row's index (and the line number is in the reason)."""
    rows: list[object] = []
    errors: list[RowError] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError) as exc:  # ValueError: numbers over 4300 digits
            reason = (
                exc.msg
                if isinstance(exc, json.JSONDecodeError)
                else "nested too deeply"
                if isinstance(exc, RecursionError)
                else str(exc)
            )
            errors.append(RowError(len(rows), f"line {number} is not valid JSON: {reason}"))
            rows.append(None)
    return rows, errors


def validate_rows(
    rows: Sequence[object], catalog: Catalog
) -> tuple[list[ImportedIncident], list[RowError]]:
    """Every row checked against the schema, the milestone order and the catalog. The incidents
    are returned only when there is no error at all (a file is taken whole or not at all)."""
    incidents: list[ImportedIncident] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    closed = catalog.status_with_phase(Phase.CLOSED)
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            errors.append(RowError(index, "expected a JSON object"))
            continue
        try:
            row = ImportRow.model_validate(raw)
        except ValidationError as exc:
            errors.extend(RowError(index, _reason(err)) for err in exc.errors())
            continue
        problems = []
        severity = catalog.find_severity(row.severity)
        if severity is None:
            known = ", ".join(s.id for s in catalog.severities)
            problems.append(f"severity: unknown severity {row.severity!r} (known: {known})")
        disposition = row.status.lower() if row.status.lower() in DISPOSITIONS else None
        status = closed if disposition else catalog.find_status(row.status)
        if status is None:
            known = ", ".join([*(s.id for s in catalog.statuses), *DISPOSITIONS])
            problems.append(f"status: unknown status {row.status!r} (known: {known})")
        milestones = row.milestones()
        if status is not None:
            beyond = [m.value for m in MILESTONES if m in milestones]
            beyond = [m for m in beyond if Milestone(m) not in _ALLOWED_BY_PHASE[status.phase]]
            if beyond:
                problems.append(
                    f"status: {row.status} cannot have {', '.join(beyond)} "
                    f"(the status says it has not got that far)"
                )
        if row.external_id in seen:
            problems.append(f"external_id: {row.external_id!r} is also row {seen[row.external_id]}")
        else:
            seen[row.external_id] = index
        if problems:
            errors.extend(RowError(index, p) for p in problems)
            continue
        assert severity is not None and status is not None
        incidents.append(
            ImportedIncident(
                index=index,
                external_id=row.external_id,
                title=" ".join(row.title.split()),
                severity=severity.id,
                service=row.service or None,
                status=status.id,
                disposition=disposition,
                drill=row.drill,
                milestones=milestones,
            )
        )
    return ([] if errors else incidents), errors


def _reason(err: Any) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        message = f"unknown field (known: {', '.join(ImportRow.model_fields)})"
    return f"{where}: {message}" if where else message
