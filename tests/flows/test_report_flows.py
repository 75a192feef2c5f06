"""What the live flows do to the figures (what the import format cannot express): a reopened
incident counts its last resolution, an edited milestone counts its edited value and keeps the
original on the timeline. And the import flow: all or nothing, idempotent, nothing set off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.core.imports import ImportRow, parse_document, validate_rows
from bot.core.metrics import Metric, Summary, report
from bot.core.milestones import Milestone
from bot.flows import chat_effects as fx
from bot.flows.imports import ImportFlows
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.store import incidents as q, reports
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow, TimelineRow, TimerRow
from tests.flows.fakes import FakeChat, StepClock

ALICE, BOB = "U0ALICE", "U0BOB"
GOLD = Path(__file__).resolve().parents[1] / "fixtures" / "gold_incidents.json"


@dataclass
class World:
    db: Database
    clock: StepClock
    flows: IncidentFlows


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(
        db, chat, catalog, clock, feed_channel="CFEED", public_url="https://bot.example.com"
    )
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    yield World(db, clock, IncidentFlows(db, catalog, clock, runner))


def act(w: World, command: lc.Command, key: str, incident_id: int, actor: str = ALICE) -> None:
    outcome = w.flows.act(command=command, actor=actor, request_key=key, incident_id=incident_id)
    assert outcome.ok, outcome.message


def figures(db: Database) -> dict[Metric, Summary]:
    with db.read() as session:
        return reports.mttx_report(session=session)


def test_a_reopened_incident_counts_its_last_resolution(world: World) -> None:
    outcome = world.flows.declare(
        title="Checkout API returns 500s", severity="SEV2", actor=ALICE, request_key="d"
    )
    assert outcome.ok and outcome.incident_id is not None
    incident_id = outcome.incident_id
    world.clock.advance(minutes=5)
    act(world, lc.Acknowledge(), "ack", incident_id, actor=BOB)
    world.clock.advance(minutes=15)
    act(world, lc.ChangeStatus("monitoring"), "m", incident_id)  # mitigated at +20 min
    world.clock.advance(minutes=10)
    act(world, lc.ChangeStatus("resolved"), "r1", incident_id)  # first resolution: +30 min
    world.clock.advance(minutes=10)
    act(world, lc.ChangeStatus("monitoring"), "reopen", incident_id)  # reopened at +40 min
    world.clock.advance(minutes=50)
    act(world, lc.ChangeStatus("resolved"), "r2", incident_id)  # last resolution: +90 min

    got = figures(world.db)
    assert got[Metric.MTTR] == Summary(1, 5400.0, 5400.0, 5400.0, 0)  # not 1800
    assert got[Metric.MTTM] == Summary(1, 1200.0, 1200.0, 1200.0, 0)  # kept through the reopen
    assert got[Metric.MTTA] == Summary(1, 300.0, 300.0, 300.0, 0)
    assert got[Metric.MTTD] == Summary(1, 0.0, 0.0, 0.0, 0)  # declared at once
    with world.db.read() as s:
        stamps = q.milestones(session=s, incident_id=incident_id)
        assert report([{m: st.at for m, st in stamps.items()}]) == got  # the pure definition
        kinds = [r.kind for r in q.timeline(session=s, incident_id=incident_id)]
    assert kinds.count("resolved") == 2 and "reopened" in kinds  # both resolutions on record


def test_an_edited_milestone_counts_and_the_original_stays_on_the_timeline(
    world: World,
) -> None:
    outcome = world.flows.declare(
        title="Payments slow", severity="SEV3", actor=ALICE, request_key="d"
    )
    assert outcome.ok and outcome.incident_id is not None
    incident_id = outcome.incident_id
    declared = world.clock.now()
    world.clock.advance(minutes=45)
    act(world, lc.ChangeStatus("resolved"), "r", incident_id)
    assert figures(world.db)[Metric.MTTR].mean_s == 2700.0
    world.clock.advance(hours=2)
    earlier = declared - timedelta(minutes=25)  # the graphs show the impact began before
    act(world, lc.EditMilestones({Milestone.IMPACT_STARTED: earlier}), "edit", incident_id)

    got = figures(world.db)
    assert got[Metric.MTTR].mean_s == 2700.0 + 1500.0
    assert got[Metric.MTTD].mean_s == 1500.0
    with world.db.read() as s:
        stamps = q.milestones(session=s, incident_id=incident_id)
        assert stamps[Milestone.IMPACT_STARTED].at == earlier
        [entry] = [
            r for r in q.timeline(session=s, incident_id=incident_id) if r.kind == "milestone"
        ]
    assert entry.data["from"] == declared.isoformat()  # the original is kept
    assert entry.data["to"] == earlier.isoformat()


# -- the import flow -----------------------------------------------------------------------------
def importer(db: Database) -> ImportFlows:
    return ImportFlows(db, default_catalog(), StepClock())


def test_importing_twice_changes_nothing_and_sets_nothing_off(db: Database) -> None:
    text = GOLD.read_text(encoding="utf-8")
    first = importer(db).import_text(text, origin="file gold_incidents.json")
    assert (first.ok, first.imported, first.skipped) == (True, 34, 0)
    with db.read() as s:
        before = (len(s.exec(select(Incident)).all()), len(s.exec(select(TimelineRow)).all()))
    second = importer(db).import_text(text, origin="file gold_incidents.json")
    assert (second.ok, second.imported, second.skipped) == (True, 0, 34)
    with db.read() as s:
        after = (len(s.exec(select(Incident)).all()), len(s.exec(select(TimelineRow)).all()))
        assert s.exec(select(OutboxRow)).all() == [] and s.exec(select(TimerRow)).all() == []
    assert before == after == (34, 34)


def test_concurrent_imports_of_the_same_file_store_it_once(db: Database) -> None:
    rows = json.loads(GOLD.read_text(encoding="utf-8"))
    outcomes = []

    def run() -> None:
        outcomes.append(importer(db).import_rows(rows, origin="file gold_incidents.json"))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o.ok for o in outcomes)
    assert sum(o.imported for o in outcomes) == 34
    with db.read() as s:
        assert len(s.exec(select(Incident)).all()) == 34


def test_one_bad_row_rejects_the_file_with_every_reason(db: Database) -> None:
    rows = json.loads(GOLD.read_text(encoding="utf-8"))
    rows[0]["drill"] = "yes"
    rows[1]["mitigated_at"] = rows[1]["detected_at"].replace("02:10", "01:59")  # before detection
    rows[2]["status"] = "investigating"  # yet resolved and closed
    rows[4]["colour"] = "red"
    rows[6] = ["not", "an", "object"]
    outcome = importer(db).import_rows(rows, origin="test")
    assert not outcome.ok and outcome.imported == 0
    assert [(e.index, e.reason) for e in outcome.errors] == [
        (0, "drill: Input should be a valid boolean"),
        (
            1,
            "detected_at (2026-10-25 01:10:00 UTC) is after mitigated_at (2026-10-25 00:59:00 UTC)",
        ),
        (
            2,
            "status: investigating cannot have mitigated_at, resolved_at, closed_at "
            "(the status says it has not got that far)",
        ),
        (4, "colour: unknown field (known: " + ", ".join(ImportRow.model_fields) + ")"),
        (6, "expected a JSON object"),
    ]
    with db.read() as s:
        assert s.exec(select(Incident)).all() == []


def test_rows_are_checked_against_the_catalog_and_the_status() -> None:
    catalog = default_catalog()
    base = {"external_id": "A-1", "title": "Slow search", "severity": "sev2", "status": "Resolved"}
    ok, errors = validate_rows(
        [
            {**base, "impact_started_at": "2026-03-29T01:30:00+01:00"},
            {**base, "external_id": "A-2", "status": "declined", "service": "search"},
        ],
        catalog,
    )
    assert errors == []
    assert (ok[0].severity, ok[0].status, ok[0].disposition) == ("SEV2", "resolved", None)
    assert ok[0].milestones[Milestone.IMPACT_STARTED].isoformat() == "2026-03-29T00:30:00+00:00"
    assert (ok[1].status, ok[1].disposition, ok[1].created_at) == ("closed", "declined", None)
    _, errors = validate_rows(
        [
            {**base, "status": "monitoring", "resolved_at": "2026-03-29T01:30:00Z"},
            {**base, "external_id": "A-3", "detected_at": 1774747800},
            {**base, "external_id": "A-4", "detected_at": "29/03/2026 01:30"},
            {**base, "external_id": "", "title": " "},
        ],
        catalog,
    )
    assert [(e.index, e.reason) for e in errors] == [
        (0, "status: monitoring cannot have resolved_at (the status says it has not got that far)"),
        (1, "detected_at: expected ISO-8601 text with a UTC offset, got int"),
        (
            2,
            "detected_at: '29/03/2026 01:30' is not ISO-8601 (e.g. 2026-03-29T01:30:00+01:00 or …Z)",
        ),
        (3, "external_id: String should have at least 1 character"),
        (3, "title: String should have at least 1 character"),
    ]


def test_json_lines_errors_name_the_line() -> None:
    rows, errors = parse_document('{"a": 1}\n\n{"b": \n[1]\n')
    assert len(rows) == 3
    assert [(e.index, e.reason) for e in errors] == [
        (1, "line 3 is not valid JSON: Expecting value")
    ]
    assert parse_document("[1, 2")[1][0].reason.startswith("not valid JSON")
