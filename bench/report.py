"""The MTTx report over 100,000 incidents and 1,000,000 timeline rows — target < 1 s each, on
SQLite (a temp file) and PostgreSQL (its own database, incidentbot_bench).

It times `bot.store.reports.mttx_report` with no filter and with a severity + 90-day filter (and
the weekly breakdown the dashboard draws), each beside the time of a plain
`SELECT count(*) FROM milestone` measured in the same run on the same database, and the ratio.
For the record it also times the way the module does not take on that database — the reason
for the way it does: on PostgreSQL, fetching the durations and sorting them in Python (the
module lets `percentile_cont` do it in the database); on SQLite, picking the order statistics
in SQL with window functions (the module fetches the durations and sorts them in Python, which
is several times faster than SQLite's sorter). Times are the median of --repeat runs after one
warm-up; the machine's load average is printed, since a busy machine inflates them.

    .venv/bin/python bench/report.py [--db sqlite|postgres|both] [--incidents 100000]
        [--timeline 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import col

import bot.store.models  # noqa: F401
from bot.core.metrics import Metric, Summary, report
from bot.core.milestones import Milestone
from bot.store import reports
from bot.store.db import Database
from bot.store.models import Incident, MilestoneRow

PG_URL = os.environ.get(
    "INCIDENTBOT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/incidentbot_bench"
)
SEVERITIES = (("SEV1", 5), ("SEV2", 20), ("SEV3", 45), ("SEV4", 30))
SERVICES = tuple(
    f"{s}-{k}" for s in ("checkout", "payments", "search", "auth", "web", "mobile") for k in "ab"
)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)  # incidents over the last two years: the 90-day filter keeps ~1/8
TARGET = 1.0


def fresh(kind: str, workdir: str) -> Database:
    if kind == "sqlite":
        db = Database(f"sqlite:///{workdir}/report.db")
    else:
        sys.path.insert(0, os.path.dirname(__file__))
        from alert_storm import reset_postgres  # creates the database if missing, drops tables

        reset_postgres(PG_URL)
        db = Database(PG_URL)
    db.upgrade()
    return db


def generate(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Realistic incidents: log-normal phase durations, some milestones missing, 2% drills and
    2% declined or merged."""
    rng = random.Random(seed)
    sev_ids = [s for s, _ in SEVERITIES]
    sev_weights = [w for _, w in SEVERITIES]
    incidents, milestones = [], []

    def later(at: datetime, median_minutes: float) -> datetime:
        seconds = rng.lognormvariate(0, 1) * median_minutes * 60
        return at + timedelta(microseconds=int(seconds * 1_000_000))

    for i in range(1, n + 1):
        impact = NOW - SPAN * rng.random()
        detected = later(impact, 6)
        declared = later(detected, 2)
        stamps = {
            Milestone.IMPACT_STARTED: impact,
            Milestone.DETECTED: detected,
            Milestone.DECLARED: declared,
        }
        if rng.random() < 0.9:
            stamps[Milestone.ACKNOWLEDGED] = later(detected, 4)
        mitigated = later(declared, 35)
        if rng.random() < 0.85:
            stamps[Milestone.MITIGATED] = mitigated
        if rng.random() < 0.95:
            stamps[Milestone.RESOLVED] = resolved = later(mitigated, 60)
            if rng.random() < 0.9:
                stamps[Milestone.CLOSED] = later(resolved, 24 * 60)
        roll = rng.random()
        incidents.append(
            {
                "id": i,
                "title": f"Bench incident {i}",
                "description": "",
                "severity": rng.choices(sev_ids, sev_weights)[0],
                "status": "closed" if Milestone.CLOSED in stamps else "resolved",
                "private": False,
                "drill": roll < 0.02,
                "disposition": ("declined", "merged")[i % 2] if 0.02 <= roll < 0.04 else None,
                "imported": False,
                "source": "slack",
                "service": rng.choice(SERVICES),
                "created_at": declared,
                "updated_at": declared,
            }
        )
        milestones.extend(
            {
                "incident_id": i,
                "kind": m.value,
                "at": at,
                "source": "slack",
                "set_by": None,
                "updated_at": at,
            }
            for m, at in stamps.items()
        )
    return incidents, milestones


def seed(db: Database, n: int, timeline: int) -> tuple[int, float]:
    incidents, milestones = generate(n)
    began = time.perf_counter()
    batch = 10_000
    with db.engine.begin() as conn:
        for table, rows in (
            (Incident.__table__, incidents),  # type: ignore[attr-defined]
            (MilestoneRow.__table__, milestones),  # type: ignore[attr-defined]
        ):
            for k in range(0, len(rows), batch):
                conn.execute(insert(table), rows[k : k + batch])
        seed_timeline(conn, db.is_postgres, n, timeline)
        if db.is_postgres:
            conn.execute(text("SELECT setval('incident_id_seq', (SELECT max(id) FROM incident))"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return len(milestones), time.perf_counter() - began


def seed_timeline(conn: Connection, postgres: bool, n: int, rows: int) -> None:
    """`rows` timeline entries spread over the incidents, one bulk INSERT … SELECT."""
    if postgres:
        series = f"SELECT g AS k FROM generate_series(0, {rows - 1}) AS g"
        at = "i.created_at + (s.k % 97) * interval '1 minute'"
        data = "'{}'::json"
    else:
        series = f"WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < {rows - 1}) SELECT k FROM s"
        at = "strftime('%Y-%m-%d %H:%M:%f000', i.created_at, '+' || (s.k % 97) || ' minutes')"
        data = "'{}'"
    conn.execute(
        text(
            f"""
            INSERT INTO timeline_entry (incident_id, at, kind, text, actor, source, data, created_at)
            SELECT i.id, {at}, 'note', 'bench note ' || s.k, NULL, 'slack', {data}, i.created_at
            FROM ({series}) AS s JOIN incident AS i ON i.id = s.k % {n} + 1
            """
        )
    )


# -- the alternatives the module does not use (kept here as the reason why) ----------------------
def fetch_and_summarise(db: Database) -> dict[Metric, Summary]:
    """Each incident's durations computed in SQL, fetched, their order statistics picked in
    Python: what the module does on SQLite, here on either database."""
    dialect = db.engine.dialect.name
    sql, params = reports.durations_sql(dialect, None, reports.ReportFilters())
    with db.read() as session:
        rows = session.execute(sql, params).all()
    columns = list(zip(*rows, strict=True))[1:] if rows else [()] * len(Metric)
    return {
        m: reports.summary_of(sorted(v for v in columns[k] if v is not None), len(rows))
        for k, m in enumerate(Metric)
    }


def order_statistics_in_sql(db: Database) -> list[Any]:
    """Each metric's median and p90 neighbours picked in SQL with ROW_NUMBER() and COUNT() over
    the sorted durations: all in the database, on either."""
    dialect = db.engine.dialect.name
    sql, params = reports.durations_sql(dialect, None, reports.ReportFilters())
    ranks = ",\n".join(
        f"ROW_NUMBER() OVER (ORDER BY {m} NULLS LAST) - 1 AS r_{m}, COUNT({m}) OVER () AS n_{m}"
        for m in Metric
    )
    picks = ",\n".join(
        f"MAX(n_{m}), SUM({m}), "
        f"MAX(CASE WHEN r_{m} = (n_{m} - 1) / 2 THEN {m} END), "
        f"MAX(CASE WHEN r_{m} = (n_{m} - 1) / 2 + 1 THEN {m} END), "
        f"MAX(CASE WHEN r_{m} = 9 * (n_{m} - 1) / 10 THEN {m} END), "
        f"MAX(CASE WHEN r_{m} = 9 * (n_{m} - 1) / 10 + 1 THEN {m} END)"
        for m in Metric
    )
    wrapped = text(
        f"WITH d AS ({sql.text}), r AS (SELECT d.*, {ranks} FROM d) SELECT {picks} FROM r"
    )
    with db.read() as session:
        return list(session.execute(wrapped, params).one())


def reference(db: Database) -> dict[Metric, Summary]:
    """The pure definition over every milestone of the incidents that count."""
    incidents: dict[int, dict[Milestone, datetime]] = {}
    with db.read() as session:
        counted = select(col(Incident.id)).where(
            col(Incident.drill).is_(False), col(Incident.disposition).is_(None)
        )
        for incident_id in session.execute(counted).scalars():
            incidents[int(incident_id)] = {}
        rows = session.execute(
            select(col(MilestoneRow.incident_id), col(MilestoneRow.kind), col(MilestoneRow.at))
        )
        for incident_id, kind, at in rows:
            if incident_id in incidents:
                incidents[incident_id][Milestone(kind)] = at
    return report(incidents.values())


# -- timing --------------------------------------------------------------------------------------
def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the caches: we measure the query, not the first read from disk
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def run(kind: str, args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="incidentbot-report-") as workdir:
        return measure(fresh(kind, workdir), kind, args)


def measure(db: Database, kind: str, args: argparse.Namespace) -> bool:
    milestone_rows, seconds = seed(db, args.incidents, args.timeline)
    with db.engine.connect() as conn:
        counted = conn.execute(text("SELECT count(*) FROM timeline_entry")).scalar_one()
    print(
        f"{kind}: {args.incidents:,} incidents, {milestone_rows:,} milestone rows, "
        f"{counted:,} timeline rows (bulk insert {seconds:.1f} s)"
    )

    def count_milestones() -> object:
        with db.read() as session:
            return session.execute(text("SELECT count(*) FROM milestone")).scalar_one()

    def report_all() -> object:
        with db.read() as session:
            return reports.mttx_report(session=session)

    def report_filtered() -> object:
        with db.read() as session:
            return reports.mttx_report(
                session=session, severity="SEV2", since=NOW - timedelta(days=90)
            )

    def weekly() -> object:
        with db.read() as session:
            return reports.mttx_by(session=session, group="week")

    baseline = timed(count_milestones, args.repeat)
    print(f"  {'SELECT count(*) FROM milestone':44} {baseline * 1000:8.1f} ms   (baseline)")
    ok = True
    other = "fetched, sorted in Python" if db.is_postgres else "percentiles in SQL (windows)"
    alternative = (
        (lambda: fetch_and_summarise(db))
        if db.is_postgres
        else (lambda: order_statistics_in_sql(db))
    )
    cases: list[tuple[str, Callable[[], object], bool]] = [
        ("mttx_report, no filter", report_all, True),
        ("mttx_report, SEV2 + last 90 days", report_filtered, True),
        ("mttx_by week (dashboard trend)", weekly, False),
        (f"[not used] {other}", alternative, False),
    ]
    for label, fn, target in cases:
        elapsed = timed(fn, args.repeat)
        verdict = ""
        if target:
            meets = elapsed < TARGET
            ok = ok and meets
            verdict = "meets < 1 s" if meets else "MISSES < 1 s"
        print(
            f"  {label:44} {elapsed * 1000:8.1f} ms   ×{elapsed / baseline:6.1f} the count   {verdict}"
        )
    began = time.perf_counter()
    check = reference(db)
    reference_seconds = time.perf_counter() - began
    with db.read() as session:
        got = reports.mttx_report(session=session)
    agree = all(
        (got[m].count, got[m].missing) == (check[m].count, check[m].missing)
        and all(
            abs((getattr(got[m], f) or 0) - (getattr(check[m], f) or 0)) < 1e-6
            for f in ("mean_s", "median_s", "p90_s")
        )
        for m in Metric
    )
    print(
        f"  agrees with bot.core.metrics.report over the same rows, to 1e-6 s: {agree} "
        f"(the pure definition took {reference_seconds:.1f} s)"
    )
    db.dispose()
    return ok and agree


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--timeline", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    ok = True
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        ok = run(kind, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
