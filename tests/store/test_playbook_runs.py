"""The playbook runs repository: a playbook attached with its steps in order, each step stamped
as it runs, is done, skipped or failed — as plain values, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.core.playbooks import PageAction, Playbook, Step
from bot.store import playbook_runs as runs
from bot.store.db import Database
from bot.store.playbook_runs import Run
from tests.store.conftest import T0

FAILOVER = Playbook(
    name="db-failover",
    description="Primary database down. Fail over.",
    roles=("comms",),
    steps=(
        Step(id="page-dba", title="Page the DBA", action=PageAction(type="page", service="db")),
        Step(id="confirm", title="Confirm", owner_role="comms", due_after=timedelta(minutes=30)),
    ),
)


def attach(db: Database, incident_id: int) -> tuple[Run, list[runs.Step]]:
    with db.transaction() as session:
        return runs.record_attached(
            session=session, incident_id=incident_id, playbook=FAILOVER, attached_by=None, now=T0
        )


def test_a_playbook_attaches_with_its_steps_in_order(db: Database, incident_id: int) -> None:
    run, steps = attach(db, incident_id)
    assert (run.incident_id, run.playbook) == (incident_id, "db-failover")
    assert [(s.step, s.position, s.state, s.owner_role) for s in steps] == [
        ("page-dba", 0, "open", "commander"),
        ("confirm", 1, "open", "comms"),
    ]
    assert steps[0].action == {"type": "page", "service": "db"} and steps[0].due_at is None
    assert steps[1].action is None and steps[1].due_at == T0 + timedelta(minutes=30)
    with db.read() as session:
        assert runs.attached_playbooks(session=session, incident_id=incident_id) == {"db-failover"}
        assert runs.is_attached(session=session, incident_id=incident_id, playbook="db-failover")
        assert not runs.is_attached(session=session, incident_id=incident_id, playbook="other")
        assert runs.run(session=session, run_id=run.id) == run
        assert runs.step(session=session, step_id=steps[1].id) == (run, steps[1])
        assert runs.step_alone(session=session, step_id=steps[0].id) == steps[0]
        assert runs.step_named(session=session, run_id=run.id, name="confirm") == steps[1]
        assert runs.step_named(session=session, run_id=run.id, name="nope") is None
        assert runs.step(session=session, step_id=steps[1].id + 100) is None


def test_a_step_runs_then_is_stamped_with_who_when_and_what_came_of_it(
    db: Database, incident_id: int
) -> None:
    _run, (page, confirm) = attach(db, incident_id)
    with db.transaction() as session:
        runs.record_step_running(session=session, step_id=page.id, result="paging db…")
    with db.read() as session:
        running = runs.step_alone(session=session, step_id=page.id)
    assert running is not None and (running.state, running.result) == ("running", "paging db…")
    later = T0 + timedelta(minutes=2)
    with db.transaction() as session:
        done = runs.record_step_state(
            session=session, step_id=page.id, state="done", by=None, now=later, result="Paged"
        )
        skipped = runs.record_step_state(
            session=session,
            step_id=confirm.id,
            state="skipped",
            by="U1",
            now=later,
            skip_reason="r" * 1200,
        )
    assert (done.state, done.by, done.at, done.result) == ("done", None, later, "Paged")
    assert (skipped.state, skipped.by, len(skipped.skip_reason or "")) == ("skipped", "U1", 1000)
    assert skipped.result is None  # a result stays as it was
    with db.read() as session:
        assert runs.step_alone(session=session, step_id=confirm.id) == skipped
