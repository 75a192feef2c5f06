"""MTTx reports over the store, equal to `bot.core.metrics.report` (the pure definition).

Each incident's durations are computed in SQL, from its milestone rows, in whole microseconds:
- PostgreSQL does everything in one statement: the milestone rows of the incidents that count
  hashed per incident (`MAX(at) FILTER …`), the durations `EXTRACT(EPOCH FROM b - a)` (exact
  numeric), then per group and metric COUNT, SUM and `percentile_cont(ARRAY[0.5, 0.9])`, which
  is the inclusive linear interpolation of `statistics.quantiles(n=10, method="inclusive")`.
- SQLite has no percentile function, and its window functions sort several times slower than
  Python does (bench/report.py): SQL joins each milestone through the unique (incident_id, kind)
  index and computes the durations (seconds from whole microseconds); the columns are fetched, and
  `summary_of` sorts each and
  picks the median and p90 with the arithmetic of `summarize` (bit for bit) and the exact sum.

Incidents that count: not drills, no disposition (declined / merged). The instant that places an
incident in a period (`since` inclusive, `until` exclusive) and in a week or a month: its
`declared_at` milestone, else its `created_at` (imported history has no declaration; its
`created_at` is its detection). Weeks are ISO weeks ("2026-W13"), months "2026-03", in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from math import fsum
from typing import Any, Literal

from sqlalchemy import BindParameter, TextClause, bindparam, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.core.metrics import DEFINITIONS, Metric, Summary
from bot.core.milestones import Milestone
from bot.store.report_filters import (
    FilterError as FilterError,
    ReportFilters as ReportFilters,
    parse_filters as parse_filters,
    parse_instant as parse_instant,
)

Group = Literal["severity", "service", "week", "month"]
GROUPS: tuple[Group, ...] = ("severity", "service", "week", "month")
NO_SERVICE = "(none)"  # the group of incidents without a service


# The milestones a report reads, each joined once (through the unique (incident_id, kind) index).
_JOINED: dict[str, Milestone] = {
    "declared": Milestone.DECLARED,  # only to place the incident in a period
    "impact": Milestone.IMPACT_STARTED,
    "detected": Milestone.DETECTED,
    "acknowledged": Milestone.ACKNOWLEDGED,
    "mitigated": Milestone.MITIGATED,
    "resolved": Milestone.RESOLVED,
}
_NAME = {milestone: name for name, milestone in _JOINED.items()}
# Each metric as (start, end) milestone, from the one definition in bot.core.metrics.
_METRICS: dict[Metric, tuple[str, str]] = {
    metric: (_NAME[start], _NAME[end]) for metric, (start, end, _text) in DEFINITIONS.items()
}
_EPOCHS = tuple(dict.fromkeys(name for pair in _METRICS.values() for name in pair))


def metrics_json(report: Mapping[Metric, Summary]) -> dict[str, dict[str, float | int | None]]:
    """`{"mttd": {"count": N, "mean_s": …, "median_s": …, "p90_s": …}, "mtta": …}`."""
    return {metric.value: report[metric].as_json() for metric in Metric}


# -- queries -------------------------------------------------------------------------------------
def mttx_report(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    severity: str | None = None,
    service: str | None = None,
) -> dict[Metric, Summary]:
    """count, mean, median and p90 of each metric over the incidents that count."""
    rows = _aggregate(session, None, ReportFilters(since, until, severity, service))
    return rows[0][1] if rows else _empty()


def mttx_by(
    *,
    session: Session,
    group: Group,
    since: datetime | None = None,
    until: datetime | None = None,
    severity: str | None = None,
    service: str | None = None,
) -> list[tuple[str, dict[Metric, Summary]]]:
    """The report per severity, service (`(none)` for none), ISO week or month; groups without
    incidents are left out; ordered by their label (chronological for weeks and months)."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, not {group!r}")
    return _aggregate(session, group, ReportFilters(since, until, severity, service))


def incident_counts_by_week(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    severity: str | None = None,
    service: str | None = None,
) -> list[tuple[str, dict[str, int]]]:
    """Incidents that count, per ISO week and severity: `[("2026-W13", {"SEV2": 3}), …]`, every
    week from the first to the last (or the period's bounds when given), empty weeks included."""
    filters = ReportFilters(since, until, severity, service)
    dialect = _dialect(session)
    clauses, params, binds = _filter(filters)
    sql = f"""
        SELECT {_utc_date(dialect, _PERIOD)} AS day, i.severity AS severity, COUNT(*) AS n
        FROM incident AS i {_join("declared")}
        WHERE {" AND ".join(clauses)}
        GROUP BY 1, 2
    """
    counts: dict[str, dict[str, int]] = {}
    for day, sev, n in session.execute(text(sql).bindparams(*binds), params):
        week = counts.setdefault(_label("week", day), {})
        week[str(sev)] = week.get(str(sev), 0) + int(n)
    bounds = [_iso_week(d) for d in (since, until - timedelta(microseconds=1) if until else None)]
    weeks = sorted({*counts, *(b for b in bounds if b)})
    if not weeks:
        return []
    return [(week, counts.get(week, {})) for week in _week_range(weeks[0], weeks[-1])]


# -- the query -----------------------------------------------------------------------------------
def _aggregate(
    session: Session, group: Group | None, filters: ReportFilters
) -> list[tuple[str, dict[Metric, Summary]]]:
    if _dialect(session) == "postgresql":
        return _aggregate_in_postgres(session, group, filters)
    return _aggregate_sqlite(session, group, filters)


def _aggregate_in_postgres(
    session: Session, group: Group | None, filters: ReportFilters
) -> list[tuple[str, dict[Metric, Summary]]]:
    """PostgreSQL does it all: one scan of the milestone rows hashed per incident, the exact
    numeric durations, SUM, and `percentile_cont` — the inclusive linear interpolation of
    `statistics.quantiles` (the same values up to the last bits of the float arithmetic)."""
    needs_period = _needs_period(group, filters)
    clauses, params, binds = _filter(filters)
    kinds = ", ".join(f"'{_JOINED[name].value}'" for name in _EPOCHS)
    instants = ",\n".join(
        f"MAX(m.at) FILTER (WHERE m.kind = '{_JOINED[name].value}') AS t_{name}" for name in _EPOCHS
    )
    durations = ",\n".join(
        f"EXTRACT(EPOCH FROM p.t_{end} - p.t_{start}) AS {metric.value}"
        for metric, (start, end) in _METRICS.items()
    )
    figures = ",\n".join(
        f"COUNT({m}) AS n_{m}, SUM({m}) AS s_{m}, "
        f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {m}::float8) AS q_{m}"
        for m in Metric
    )
    sql = f"""
        WITH p AS (
            SELECT {_group_expression("postgresql", group)} AS grp,
                   {instants}
            FROM incident AS i
            {_join("declared") if needs_period else ""}
            LEFT JOIN milestone AS m ON m.incident_id = i.id AND m.kind IN ({kinds})
            WHERE {" AND ".join(clauses)}
            GROUP BY i.id{", m_declared.at" if needs_period else ""}
        ),
        d AS (
            SELECT p.grp, {durations}
            FROM p
        )
        SELECT grp, COUNT(*) AS total,
               {figures}
        FROM d
        GROUP BY grp
        ORDER BY grp
    """
    result = []
    for row in session.execute(text(sql).bindparams(*binds), params).mappings():
        summaries = {}
        for m in Metric:
            n, total = int(row[f"n_{m}"]), int(row["total"])
            if n == 0:
                summaries[m] = Summary(0, None, None, None, total)
                continue
            median, p90 = (float(q) for q in row[f"q_{m}"])
            mean = float(Decimal(row[f"s_{m}"]) / n)
            summaries[m] = Summary(n, mean, median, p90, total - n)
        result.append((str(row["grp"]), summaries))
    return result


def _aggregate_sqlite(
    session: Session, group: Group | None, filters: ReportFilters
) -> list[tuple[str, dict[Metric, Summary]]]:
    """SQLite computes each incident's durations; their order statistics are picked here, over
    the fetched columns (Python sorts them several times faster than SQLite's window
    functions do: bench/report.py)."""
    sql, params = durations_sql("sqlite", group, filters)
    rows = session.execute(sql, params).all()
    groups: dict[str, list[Any]] = {"": list(rows)} if group is None and rows else {}
    if group is not None:
        for row in rows:
            groups.setdefault(_label(group, row[0]), []).append(row)
    result = []
    for key, members in sorted(groups.items()):
        columns = list(zip(*members, strict=True))[1:]
        result.append(
            (
                key,
                {
                    metric: summary_of(sorted(v for v in columns[k] if v is not None), len(members))
                    for k, metric in enumerate(Metric)
                },
            )
        )
    return result


def durations_sql(
    dialect: str, group: Group | None, filters: ReportFilters
) -> tuple[TextClause, dict[str, object]]:
    """One row per incident that counts: its group label and its four durations in seconds
    (computed from whole microseconds; NULL where a milestone is missing). Each milestone is joined through the
    unique (incident_id, kind) index, so filters that keep few incidents read few rows."""
    joins = [_join(name) for name in _JOINED if name != "declared" or _needs_period(group, filters)]
    clauses, params, binds = _filter(filters)
    instants = ",\n".join(f"{_us(dialect, f'm_{name}.at')} AS t_{name}" for name in _EPOCHS)
    # Seconds as a float: the µs difference divided once, as `timedelta.total_seconds` does
    # (and Python sorts floats twice as fast as multi-digit ints).
    to_float = "" if dialect == "sqlite" else "::float8"
    durations = ",\n".join(
        f"(p.t_{end} - p.t_{start}){to_float} / 1000000.0 AS {metric.value}"
        for metric, (start, end) in _METRICS.items()
    )
    # OFFSET 0 keeps the inner query a subquery (SQLite does not flatten it), so each instant is
    # parsed once, not once per metric that uses it.
    offset = "LIMIT -1 OFFSET 0" if dialect == "sqlite" else "OFFSET 0"
    sql = f"""
        SELECT p.grp, {durations}
        FROM (
            SELECT {_group_expression(dialect, group)} AS grp,
                   {instants}
            FROM incident AS i
            {" ".join(joins)}
            WHERE {" AND ".join(clauses)}
            {offset}
        ) AS p
    """
    return text(sql).bindparams(*binds), params


def summary_of(seconds: Sequence[float], total: int) -> Summary:
    """`summarize` over sorted durations, with its very arithmetic (the mean of `fmean`, the
    median of `statistics.median`, the p90 of `statistics.quantiles(n=10, method="inclusive")`),
    so the figures are bit for bit the reference's. `total` counts the incidents considered:
    missing = total − count."""
    n = len(seconds)
    if n == 0:
        return Summary(0, None, None, None, total)
    half = (n - 1) // 2
    median = seconds[half] if n % 2 == 1 else (seconds[half] + seconds[half + 1]) / 2
    if n == 1:
        p90 = seconds[0]
    else:
        j, delta = divmod(9 * (n - 1), 10)
        p90 = (seconds[j] * (10 - delta) + seconds[j + 1] * delta) / 10
    return Summary(n, fsum(seconds) / n, median, p90, total - n)


def _needs_period(group: Group | None, filters: ReportFilters) -> bool:
    return group in ("week", "month") or filters.since is not None or filters.until is not None


def _group_expression(dialect: str, group: Group | None) -> str:
    """The group's label in SQL; on SQLite, weeks and months are labelled in Python from the UTC
    date (its date functions cost more than the rest of the query)."""
    if group in ("week", "month") and dialect == "sqlite":
        return _utc_date(dialect, _PERIOD)
    return {
        None: "''",
        "severity": "i.severity",
        "service": f"COALESCE(i.service, '{NO_SERVICE}')",
        "week": f"to_char({_PERIOD} AT TIME ZONE 'UTC', 'IYYY-\"W\"IW')",
        "month": f"to_char({_PERIOD} AT TIME ZONE 'UTC', 'YYYY-MM')",
    }[group]


def _utc_date(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"date({column})"  # the stored text is UTC
    return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"


@lru_cache(maxsize=4096)
def _label(group: Group, value: object) -> str:
    """A group label from the SQL value: a UTC date (text on SQLite, a date on PostgreSQL) for
    weeks and months, else the label itself."""
    if group not in ("week", "month"):
        return str(value)
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    if group == "month":
        return f"{day.year}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _empty() -> dict[Metric, Summary]:
    return {m: Summary(0, None, None, None, 0) for m in Metric}


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"reports run on SQLite and PostgreSQL, not {name}")
    return name


# Which instant places an incident in a period: its declaration, else its creation.
_PERIOD = "COALESCE(m_declared.at, i.created_at)"


def _join(name: str) -> str:
    return (
        f"LEFT JOIN milestone AS m_{name} ON m_{name}.incident_id = i.id"
        f" AND m_{name}.kind = '{_JOINED[name].value}'"
    )


def _filter(
    filters: ReportFilters,
) -> tuple[list[str], dict[str, object], list[BindParameter[Any]]]:
    """WHERE clauses over `incident AS i` (and `m_declared` for the period): incidents that count
    (not drills, no disposition), then the filters. Bounds are bound as the columns' own type, so
    SQLite compares its stored UTC text with text of the same format."""
    clauses = ["NOT i.drill", "i.disposition IS NULL"]
    params: dict[str, object] = {}
    binds: list[BindParameter[Any]] = []
    if filters.severity is not None:
        clauses.append("i.severity = :severity")
        params["severity"] = filters.severity
    if filters.service is not None:
        clauses.append("i.service = :service")
        params["service"] = filters.service
    for name, bound, op in (("since", filters.since, ">="), ("until", filters.until, "<")):
        if bound is not None:
            _require_aware(bound)
            clauses.append(f"{_PERIOD} {op} :{name}")
            params[name] = bound
            binds.append(bindparam(name, type_=UTCDateTime()))
    return clauses, params, binds


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} (report bounds must be aware)")


def _us(dialect: str, column: str) -> str:
    """Microseconds since the epoch, as an exact integer. PostgreSQL: EXTRACT is exact numeric.
    SQLite keeps UTC instants as text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format) and its
    date functions keep milliseconds only, rounded: `unixepoch` of the whole text is the whole
    second unless the fraction rounds up into the next one (≥ .9995 s), where the text cut to
    the second is read instead; the microsecond digits are read separately."""
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    micros = f"CAST(substr({column}, 21, 6) AS INTEGER)"
    seconds = (
        f"CASE WHEN {micros} >= 999500 THEN unixepoch(substr({column}, 1, 19))"
        f" ELSE unixepoch({column}) END"
    )
    return f"(({seconds}) * 1000000 + {micros})"


# -- ISO weeks in Python (filling the weeks without incidents) ------------------------------------
def _iso_week(at: datetime | None) -> str | None:
    return None if at is None else _label("week", at.astimezone(UTC).date())


def _week_range(first: str, last: str) -> Sequence[str]:
    start = date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    stop = date.fromisocalendar(int(last[:4]), int(last[6:]), 1)
    weeks = []
    while start <= stop:
        year, week, _ = start.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        start += timedelta(weeks=1)
    return weeks
