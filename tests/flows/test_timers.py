"""Durable timers: armed with the change that needs them, fired once, stopped with the incident."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.timer_flows import TimerFlows
from bot.flows.timers import COMMANDER_NUDGE, STALE_OPEN, STALE_RESOLVED, STATUS_UPDATE
from bot.scheduler import Leadership
from bot.store import timers as store
from bot.store.db import Database
from bot.store.models import OutboxRow
from tests.flows.fakes import FakeChat, StepClock, World


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(db, chat, catalog, clock, feed_channel=None, public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers)
    yield World(db, chat, clock, IncidentFlows(db, catalog, clock, runner), runner)


def pending(world: World, incident_id: int) -> dict[str, object]:
    with world.db.read() as s:
        return {t.kind: t.due_at for t in store.pending(session=s, incident_id=incident_id)}


def reminders(world: World) -> list[str]:
    with world.db.read() as s:
        return [
            r.payload["text"]
            for r in s.exec(select(OutboxRow)).all()
            if r.payload.get("kind") == "reminder"
        ]


def test_reminders_fire_once_rearm_and_stop_with_the_incident(world: World) -> None:
    timers = TimerFlows(world.db, world.flows.catalog, world.clock)
    outcome = world.flows.declare(
        title="Checkout down", severity="SEV2", actor="U0ALICE", request_key="d"
    )
    incident_id = outcome.incident_id
    assert incident_id is not None
    start = world.clock.now()
    assert pending(world, incident_id) == {
        STATUS_UPDATE: start + timedelta(minutes=30),
        STALE_OPEN: start + timedelta(days=7),
    }
    world.clock.advance(minutes=29)
    assert timers.fire_due() == 0
    world.clock.advance(minutes=1)
    assert timers.fire_due() == 1
    assert timers.fire_due() == 0  # fired once
    (text,) = reminders(world)
    assert text.startswith("time for a status update") and "every 30 min at SEV2" in text
    world.clock.advance(minutes=10)
    world.flows.act(
        command=lc.ChangeSeverity("SEV1"), actor="U0ALICE", request_key="s", incident_id=incident_id
    )
    assert pending(world, incident_id)[STATUS_UPDATE] == world.clock.now() + timedelta(minutes=15)
    world.flows.act(
        command=lc.ChangeStatus("resolved"),
        actor="U0ALICE",
        request_key="r",
        incident_id=incident_id,
    )
    resolved_at = world.clock.now()
    assert pending(world, incident_id) == {STALE_RESOLVED: resolved_at + timedelta(hours=24)}
    world.clock.advance(hours=5)
    assert timers.fire_due() == 0
    world.flows.act(
        command=lc.ChangeStatus("investigating"),
        actor="U0ALICE",
        request_key="o",
        incident_id=incident_id,
    )
    assert set(pending(world, incident_id)) == {
        STATUS_UPDATE,
        STALE_OPEN,
    }  # reopened: reminders resume
    world.flows.act(
        command=lc.ChangeStatus("resolved"),
        actor="U0ALICE",
        request_key="r2",
        incident_id=incident_id,
    )
    world.clock.advance(hours=24)
    assert timers.fire_due() == 1
    assert reminders(world)[-1].startswith("resolved a day ago and still not closed")


def test_nobody_in_command_is_nudged_until_someone_claims_it(world: World) -> None:
    timers = TimerFlows(world.db, world.flows.catalog, world.clock)
    outcome = world.flows.declare(title="Disk full", severity="SEV4", actor=None, request_key="d")
    incident_id = outcome.incident_id
    assert incident_id is not None
    assert set(pending(world, incident_id)) == {
        COMMANDER_NUDGE,
        STALE_OPEN,
    }  # SEV4: no status cadence
    world.flows.act(
        command=lc.AssignRole("commander", "U0BOB"),
        actor="U0BOB",
        request_key="c",
        incident_id=incident_id,
    )
    assert set(pending(world, incident_id)) == {STALE_OPEN}
    world.clock.advance(minutes=10)
    assert timers.fire_due() == 0 and reminders(world) == []


def test_two_schedulers_fire_each_timer_exactly_once(world: World) -> None:
    for n in range(60):
        world.flows.declare(
            title=f"Incident {n}", severity="SEV3", actor="U0ALICE", request_key=f"d{n}"
        )
    world.clock.advance(minutes=61)
    schedulers = [TimerFlows(world.db, world.flows.catalog, world.clock) for _ in range(3)]
    counts: list[int] = []
    barrier = threading.Barrier(len(schedulers))

    def run(t: TimerFlows) -> None:
        barrier.wait()
        counts.append(t.fire_due(batch=7))

    threads = [threading.Thread(target=run, args=(t,)) for t in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 60
    assert len(reminders(world)) == 60


def test_one_leader_at_a_time(db: Database) -> None:
    first, second = Leadership(db), Leadership(db)
    assert first.try_acquire() and first.held()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_a_step_past_due_reminds_its_owner_once_and_done_steps_stay_quiet(world: World) -> None:
    from pathlib import Path

    from bot.playbook_files import load_directory
    from bot.store.models import PlaybookStep

    shipped = load_directory(Path(__file__).resolve().parents[2] / "playbooks", world.flows.catalog)
    world.flows.playbooks = {p.name: p for p in shipped.playbooks}
    timers = TimerFlows(world.db, world.flows.catalog, world.clock)
    outcome = world.flows.declare(
        title="Checkout 5xx", severity="SEV3", actor="U0ALICE", request_key="d"
    )
    world.chat.channels["C0001"] = "x"
    assert world.flows.attach_by_name(
        channel_id="C0001", name="high-error-rate", actor="U0ALICE", request_key="p"
    ).ok
    with world.db.read() as s:
        steps = {r.step: r for r in s.exec(select(PlaybookStep)).all()}
    assert world.flows.mark_step(
        run_id=steps["quantify-impact"].run_id,
        step="quantify-impact",
        actor="U0ALICE",
        request_key="m",
        done=True,
    ).ok
    world.clock.advance(
        minutes=16
    )  # quantify-impact (10m, done) and what-changed (15m, open) are due
    timers.fire_due()
    texts = reminders(world)
    assert texts == [  # and the playbook's own 15-minute reminder, its condition unmet
        "playbook step past due: Find what changed in the last two hours (Incident Commander)",
        "Is the 5m burn rate below 1×? If so, set the status to monitoring. (every 15m until mitigated)",
    ]
    assert outcome.incident_id is not None
    assert STATUS_UPDATE in pending(world, outcome.incident_id)


def test_a_step_that_sets_the_cadence_and_the_status_update_due_in_one_batch(
    world: World,
) -> None:
    """high-error-rate's customer-update step (status_update_due) comes due just before the
    incident's status-update reminder, and both are claimed in one batch: the step re-arms the
    reminder first, then the reminder re-arms itself. Both fire, one reminder stays pending, and
    the batch's other timers are not rolled back with them."""
    from pathlib import Path

    from bot.playbook_files import load_directory

    shipped = load_directory(Path(__file__).resolve().parents[2] / "playbooks", world.flows.catalog)
    world.flows.playbooks = {p.name: p for p in shipped.playbooks}
    timers = TimerFlows(world.db, world.flows.catalog, world.clock)
    outcome = world.flows.declare(
        title="Checkout 5xx", severity="SEV2", actor="U0ALICE", request_key="d"
    )
    incident_id = outcome.incident_id
    assert incident_id is not None
    other = world.flows.declare(title="Disk full", severity="SEV2", actor=None, request_key="d2")
    world.chat.channels["C0001"] = "x"
    assert world.flows.attach_by_name(
        channel_id="C0001", name="high-error-rate", actor="U0ALICE", request_key="p"
    ).ok  # customer-update: due in 30 min, sets the status-update cadence to 30 min
    world.clock.advance(minutes=1)
    world.flows.act(  # an update: the status-update reminder moves to 31 min
        command=lc.ChangeStatus("identified"),
        actor="U0ALICE",
        request_key="s",
        incident_id=incident_id,
    )
    world.clock.advance(minutes=30)
    timers.fire_due()
    texts = reminders(world)
    assert sum(t.startswith("time for a status update") for t in texts) == 2  # both incidents
    assert pending(world, incident_id)[STATUS_UPDATE] == world.clock.now() + timedelta(minutes=30)
    assert other.incident_id is not None
    assert STATUS_UPDATE in pending(world, other.incident_id)
