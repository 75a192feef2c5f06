"""Playbook runs and their steps: a playbook attached to an incident, its steps stored in order,
each stamped as it is started, done, skipped or failed. Keyword-only `session=`; answers are the
plain `Run` and `Step` values, writes are named for what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.playbooks import Playbook
from bot.store.models import PlaybookRun, PlaybookStep


@dataclass(frozen=True)
class Run:
    id: int
    incident_id: int
    playbook: str


@dataclass(frozen=True)
class Step:
    id: int
    run_id: int
    step: str  # its id in the playbook
    position: int
    title: str
    owner_role: str
    due_at: datetime | None
    state: str  # open | running | done | skipped | failed
    by: str | None  # None on a done step: the bot did it
    at: datetime | None
    skip_reason: str | None
    result: str | None
    action: dict[str, Any] | None  # what the bot does itself (bot.core.playbooks.ACTIONS)
    runbook_url: str | None = None


@dataclass(frozen=True)
class Checklist:
    """A run as the chat shows it: its checklist, and the message that holds it (None: not
    posted yet)."""

    id: int  # the run's
    playbook: str
    title: str
    message_id: str | None


def _run(row: PlaybookRun) -> Run:
    assert row.id is not None
    return Run(row.id, row.incident_id, row.playbook)


def _step(row: PlaybookStep) -> Step:
    assert row.id is not None
    return Step(
        id=row.id,
        run_id=row.run_id,
        step=row.step,
        position=row.position,
        title=row.title,
        owner_role=row.owner_role,
        due_at=row.due_at,
        state=row.state,
        by=row.by,
        at=row.at,
        skip_reason=row.skip_reason,
        result=row.result,
        action=row.action,
        runbook_url=row.runbook_url,
    )


def attached_playbooks(*, session: Session, incident_id: int) -> set[str]:
    """The names of the playbooks on the incident."""
    return set(
        session.exec(select(PlaybookRun.playbook).where(PlaybookRun.incident_id == incident_id))
    )


def is_attached(*, session: Session, incident_id: int, playbook: str) -> bool:
    return (
        session.exec(
            select(PlaybookRun.id).where(
                PlaybookRun.incident_id == incident_id, PlaybookRun.playbook == playbook
            )
        ).first()
        is not None
    )


def record_attached(
    *,
    session: Session,
    incident_id: int,
    playbook: Playbook,
    attached_by: str | None,
    now: datetime,
) -> tuple[Run, list[Step]]:
    """The playbook's run on the incident and its steps, in order (steps with a `due_after`
    due from now)."""
    run = PlaybookRun(
        incident_id=incident_id,
        playbook=playbook.name,
        title=playbook.description.split(".")[0][:200] or playbook.name,
        attached_by=attached_by,
        attached_at=now,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    rows = [
        PlaybookStep(
            run_id=run.id,
            step=step.id,
            position=position,
            title=step.title,
            owner_role=step.owner_role,
            runbook_url=step.runbook_url,
            due_at=now + step.due_after if step.due_after else None,
            action=step.action.model_dump(mode="json") if step.action else None,
        )
        for position, step in enumerate(playbook.steps)
    ]
    session.add_all(rows)
    session.flush()
    return _run(run), [_step(row) for row in rows]


def run(*, session: Session, run_id: int) -> Run | None:
    row = session.get(PlaybookRun, run_id)
    return None if row is None else _run(row)


def step(*, session: Session, step_id: int) -> tuple[Run, Step] | None:
    """A step with its run; None when either is gone."""
    row = session.get(PlaybookStep, step_id)
    run_row = session.get(PlaybookRun, row.run_id) if row is not None else None
    if row is None or run_row is None:
        return None
    return _run(run_row), _step(row)


def step_alone(*, session: Session, step_id: int) -> Step | None:
    """A step without its run."""
    row = session.get(PlaybookStep, step_id)
    return None if row is None else _step(row)


def steps_of_run(*, session: Session, run_id: int) -> list[Step]:
    """A run's steps in the playbook's order."""
    rows = session.exec(
        select(PlaybookStep)
        .where(PlaybookStep.run_id == run_id)
        .order_by(col(PlaybookStep.position))
    ).all()
    return [_step(row) for row in rows]


def steps_of_incident(*, session: Session, incident_id: int) -> list[Step]:
    """The steps of every playbook on the incident (in no promised order)."""
    rows = session.exec(
        select(PlaybookStep)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .where(PlaybookRun.incident_id == incident_id)
    ).all()
    return [_step(row) for row in rows]


def step_named(*, session: Session, run_id: int, name: str) -> Step | None:
    """The step of a run by its id in the playbook."""
    row = session.exec(
        select(PlaybookStep).where(PlaybookStep.run_id == run_id, PlaybookStep.step == name)
    ).first()
    return None if row is None else _step(row)


def record_step_state(
    *,
    session: Session,
    step_id: int,
    state: str,
    by: str | None,
    now: datetime,
    skip_reason: str | None = None,
    result: str | None = None,
) -> Step:
    """Done, skipped or failed, by `by` (None: the bot) at `now`, with why it was skipped and
    what came of it (a result stays as it was when None)."""
    row = session.get(PlaybookStep, step_id)
    assert row is not None
    row.state, row.by, row.at = state, by, now
    row.skip_reason = skip_reason[:1000] if skip_reason else None
    if result is not None:
        row.result = result[:1000]
    session.add(row)
    return _step(row)


def record_step_running(*, session: Session, step_id: int, result: str) -> None:
    """The bot started the step's action; `result` says what it is doing."""
    row = session.get(PlaybookStep, step_id)
    assert row is not None
    row.state, row.result = "running", result
    session.add(row)


def checklists(*, session: Session, incident_id: int) -> list[Checklist]:
    """The checklists of the playbooks on the incident, in the order they were attached."""
    rows = session.exec(
        select(PlaybookRun)
        .where(PlaybookRun.incident_id == incident_id)
        .order_by(col(PlaybookRun.id))
    ).all()
    return [
        Checklist(int(row.id or 0), row.playbook, row.title, row.checklist_message_id)
        for row in rows
    ]


_RUN = PlaybookRun.__table__  # type: ignore[attr-defined]


def record_checklist_posted(*, session: Session, run_id: int, message_id: str) -> None:
    """The run's checklist was posted as this message (one UPDATE; a run gone is left alone)."""
    session.execute(update(_RUN).where(_RUN.c.id == run_id).values(checklist_message_id=message_id))
