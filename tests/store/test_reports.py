"""The SQL reports agree with the pure definition (`bot.core.metrics.report`) on random
incidents — random milestones (some missing), offsets down to the microsecond, drills,
dispositions, services, periods — stored through the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from bot.core.catalog import default_catalog
from bot.core.metrics import Metric, Summary, counts_in_metrics, report
from bot.core.milestones import EARLIEST, LATEST, Milestone, Source
from bot.store import reports
from bot.store.db import Database
from bot.store.models import Incident, MilestoneRow
from bot.store.reports import NO_SERVICE, FilterError, parse_filters

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SERVICES = (None, "checkout-api", "payments")
CHAIN = (  # the usual order; each step may be left out
    Milestone.IMPACT_STARTED,
    Milestone.DETECTED,
    Milestone.DECLARED,
    Milestone.ACKNOWLEDGED,
    Milestone.MITIGATED,
    Milestone.RESOLVED,
    Milestone.CLOSED,
)
START = datetime(2025, 12, 20, tzinfo=UTC)  # across a year end and 2026's 53rd ISO week
SPAN_US = 400 * 86_400 * 1_000_000

PROFILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Case:
    severity: str
    service: str | None
    drill: bool
    disposition: str | None
    created_at: datetime
    milestones: dict[Milestone, datetime]

    @property
    def counts(self) -> bool:
        return counts_in_metrics(drill=self.drill, disposition=self.disposition)

    @property
    def period(self) -> datetime:
        return self.milestones.get(Milestone.DECLARED, self.created_at)


# Microseconds: anything, and the fractions SQLite's millisecond rounding carries into the next
# second (≥ .9995 s), which the SQL must read exactly.
micros = st.integers(0, 999_999) | st.sampled_from(
    [0, 499, 500, 999_499, 999_500, 999_501, 999_999]
)
steps = st.one_of(
    st.integers(0, 120).map(lambda s: s * 1_000_000),  # seconds apart, often equal
    st.integers(0, 3 * 86_400 * 1_000_000),  # anything up to three days
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    at = START + timedelta(microseconds=draw(st.integers(0, SPAN_US)))
    at = at.replace(microsecond=draw(micros))
    stamps: dict[Milestone, datetime] = {}
    for milestone in CHAIN:
        at += timedelta(microseconds=draw(steps))
        if draw(st.integers(0, 9)) < 8:  # most milestones are there
            stamps[milestone] = at.replace(microsecond=draw(micros)) if draw(st.booleans()) else at
    # Replacing the microseconds may break the chain by under a second: keep it ordered, as the
    # product does (the metrics do not need it, but realistic data is ordered).
    ordered: dict[Milestone, datetime] = {}
    last = None
    for milestone, instant in stamps.items():
        last = instant if last is None or instant >= last else last
        ordered[milestone] = last
    first = min(ordered.values(), default=at)
    return Case(
        severity=draw(st.sampled_from(SEVERITIES)),
        service=draw(st.sampled_from(SERVICES)),
        drill=draw(st.integers(0, 7)) == 0,
        disposition=draw(st.sampled_from([None] * 6 + ["declined", "merged"])),
        created_at=first + timedelta(microseconds=draw(st.integers(0, 10**9))),
        milestones=ordered,
    )


def store(db: Database, incidents: Sequence[Case]) -> None:
    with db.engine.begin() as conn:
        for table in ("timeline_entry", "milestone", "incident"):
            conn.execute(text(f"DELETE FROM {table}"))
    with db.transaction() as session:
        for k, case in enumerate(incidents):
            incident = Incident(
                title=f"Random {k}",
                severity=case.severity,
                status="resolved",
                source=Source.CHAT.value,
                service=case.service,
                drill=case.drill,
                disposition=case.disposition,
                created_at=case.created_at,
                updated_at=case.created_at,
            )
            session.add(incident)
            session.flush()
            assert incident.id is not None
            for milestone, instant in case.milestones.items():
                session.add(
                    MilestoneRow(
                        incident_id=incident.id,
                        kind=milestone.value,
                        at=instant,
                        source=Source.CHAT.value,
                        updated_at=instant,
                    )
                )


def reference(incidents: Sequence[Case]) -> dict[Metric, Summary]:
    return report(c.milestones for c in incidents if c.counts)


def assert_same(got: dict[Metric, Summary], want: dict[Metric, Summary]) -> None:
    for metric in Metric:
        g, w = got[metric], want[metric]
        assert (g.count, g.missing) == (w.count, w.missing), metric
        for field in ("mean_s", "median_s", "p90_s"):
            a, b = getattr(g, field), getattr(w, field)
            if b is None:
                assert a is None, (metric, field)
            else:
                assert a == pytest.approx(b, abs=1e-6, rel=0), (metric, field, a, b)


def iso_week(at: datetime) -> str:
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture
def fresh(db: Database) -> Iterator[Database]:
    yield db


@PROFILE
@given(incidents=st.lists(cases(), max_size=14))
def test_the_report_equals_the_pure_definition(fresh: Database, incidents: list[Case]) -> None:
    store(fresh, incidents)
    with fresh.read() as session:
        assert_same(reports.mttx_report(session=session), reference(incidents))


@PROFILE
@given(
    incidents=st.lists(cases(), max_size=14),
    since=st.none() | st.integers(0, SPAN_US),
    length=st.none() | st.integers(0, SPAN_US),
    severity=st.none() | st.sampled_from(SEVERITIES),
    service=st.none() | st.sampled_from([s for s in SERVICES if s]),
)
def test_filters_pick_the_same_incidents(
    fresh: Database,
    incidents: list[Case],
    since: int | None,
    length: int | None,
    severity: str | None,
    service: str | None,
) -> None:
    """The period is the declaration (else the creation): `since` inclusive, `until` exclusive."""
    start = START + timedelta(microseconds=since) if since is not None else None
    stop = (start or START) + timedelta(microseconds=length) if length is not None else None
    store(fresh, incidents)
    kept = [
        c
        for c in incidents
        if (start is None or c.period >= start)
        and (stop is None or c.period < stop)
        and (severity is None or c.severity == severity)
        and (service is None or c.service == service)
    ]
    with fresh.read() as session:
        got = reports.mttx_report(
            session=session, since=start, until=stop, severity=severity, service=service
        )
    assert_same(got, reference(kept))


@PROFILE
@given(
    incidents=st.lists(cases(), max_size=14),
    group=st.sampled_from(reports.GROUPS),
)
def test_breakdowns_equal_the_definition_per_group(
    fresh: Database, incidents: list[Case], group: reports.Group
) -> None:
    def label(c: Case) -> str:
        if group == "severity":
            return c.severity
        if group == "service":
            return c.service or NO_SERVICE
        if group == "week":
            return iso_week(c.period)
        return f"{c.period.year}-{c.period.month:02d}"

    store(fresh, incidents)
    counted = [c for c in incidents if c.counts]
    labels = sorted({label(c) for c in counted})
    with fresh.read() as session:
        got = reports.mttx_by(session=session, group=group)
    assert [g for g, _ in got] == labels
    for name, summaries in got:
        assert_same(summaries, reference([c for c in counted if label(c) == name]))


@PROFILE
@given(incidents=st.lists(cases(), max_size=14), severity=st.none() | st.sampled_from(SEVERITIES))
def test_weekly_counts_per_severity(
    fresh: Database, incidents: list[Case], severity: str | None
) -> None:
    store(fresh, incidents)
    want: dict[str, dict[str, int]] = {}
    for c in incidents:
        if c.counts and (severity is None or c.severity == severity):
            week = want.setdefault(iso_week(c.period), {})
            week[c.severity] = week.get(c.severity, 0) + 1
    with fresh.read() as session:
        got = reports.incident_counts_by_week(session=session, severity=severity)
    assert {w: n for w, n in got if n} == want
    weeks = [w for w, _ in got]
    assert weeks == sorted(weeks) and len(set(weeks)) == len(weeks)
    if want:  # every week from the first to the last, none skipped
        assert (weeks[0], weeks[-1]) == (min(want), max(want))
        mondays = [date.fromisocalendar(int(w[:4]), int(w[6:]), 1) for w in weeks]
        assert all(b - a == timedelta(weeks=1) for a, b in itertools.pairwise(mondays))


# -- examples a reader can check by eye ------------------------------------------------------------
def test_a_drill_a_declined_and_a_merged_incident_never_count(db: Database) -> None:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    chain = {Milestone.IMPACT_STARTED: t0, Milestone.DETECTED: t0 + timedelta(minutes=10)}
    incidents = [
        Case("SEV2", None, False, None, t0, chain),
        Case("SEV2", None, True, None, t0, {**chain, Milestone.DETECTED: t0 + timedelta(hours=5)}),
        Case("SEV2", None, False, "declined", t0, chain),
        Case("SEV2", None, False, "merged", t0, chain),
    ]
    store(db, incidents)
    with db.read() as session:
        got = reports.mttx_report(session=session)
    assert got[Metric.MTTD] == Summary(1, 600.0, 600.0, 600.0, 0)
    assert got[Metric.MTTA] == Summary(0, None, None, None, 1)  # counted as missing


def test_an_empty_database_reports_nothing(db: Database) -> None:
    with db.read() as session:
        assert reports.mttx_report(session=session) == {
            m: Summary(0, None, None, None, 0) for m in Metric
        }
        assert reports.mttx_by(session=session, group="week") == []
        assert reports.incident_counts_by_week(session=session) == []
        since = datetime(2026, 3, 30, tzinfo=UTC)  # a Monday; two weeks, both empty
        assert reports.incident_counts_by_week(
            session=session, since=since, until=since + timedelta(days=14)
        ) == [("2026-W14", {}), ("2026-W15", {})]


def test_naive_bounds_are_refused(db: Database) -> None:
    with db.read() as session, pytest.raises(ValueError, match="naive"):
        reports.mttx_report(session=session, since=datetime(2026, 3, 1))


# -- filters as users type them ------------------------------------------------------------------
def test_filters_parse_dates_offsets_and_severities() -> None:
    catalog = default_catalog()
    f = parse_filters(catalog, since="2026-03-01", until="2026-03-31", severity="sev2")
    assert f.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert f.until == datetime(2026, 4, 1, tzinfo=UTC)  # the whole last day is included
    assert f.severity == "SEV2"
    g = parse_filters(catalog, since="2026-03-29T01:30:00+01:00", until="2026-03-29T03:00Z")
    assert g.since == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert g.until == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)


def test_filters_far_outside_the_milestone_years_mean_from_the_start_or_to_the_end(
    db: Database,
) -> None:
    """Year 1 with a positive offset, or year 9999's last day, cannot even be converted to UTC:
    they are brought into the years a milestone may have, and the report answers."""
    catalog = default_catalog()
    f = parse_filters(catalog, since="0001-01-01T00:00:00+01:00", until="9999-12-31")
    assert (f.since, f.until) == (EARLIEST, LATEST)
    assert parse_filters(catalog, since="1900-01-01").since == EARLIEST
    with db.read() as session:
        reports.mttx_report(session=session, since=f.since, until=f.until)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "yesterday"}, "since: 'yesterday' is neither YYYY-MM-DD nor ISO-8601"),
        ({"since": "2026-02-30"}, "since: '2026-02-30' is not a date"),
        ({"until": "2026-03-29T01:30:00"}, "until: '2026-03-29T01:30:00' has no UTC offset"),
        ({"since": "2026-04-01", "until": "2026-03-01"}, "must be before until"),
        ({"severity": "SEV9"}, "unknown severity 'SEV9' (known: SEV1, SEV2, SEV3, SEV4)"),
    ],
)
def test_bad_filters_say_what_is_wrong(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filters(default_catalog(), **kwargs)
    assert message in str(caught.value)
