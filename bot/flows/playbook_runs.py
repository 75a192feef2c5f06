"""A playbook's run on one incident: attached when the incident opens (every matching playbook,
the most specific first) or by hand, its steps stored in order. Session functions with no unit of
work, so the unit that declares an incident can attach playbooks in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.milestones import Source
from bot.core.playbooks import Playbook, matching
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_effects as fx, step_actions, timers
from bot.store import incidents as q, outbox, timers as timer_store
from bot.store.models import Incident, PlaybookRun, PlaybookStep


def attach(
    session: Session,
    incident: Incident,
    playbook: Playbook,
    now: datetime,
    actor: str | None,
    auto: step_actions.Automation,
) -> PlaybookRun | None:
    """None when the playbook is already on the incident. Automated steps without a due time
    start now (after the checklist is queued, so it is posted before what they say)."""
    assert incident.id is not None
    if session.exec(
        select(PlaybookRun).where(
            PlaybookRun.incident_id == incident.id, PlaybookRun.playbook == playbook.name
        )
    ).first():
        return None
    run = PlaybookRun(
        incident_id=incident.id,
        playbook=playbook.name,
        title=playbook.description.split(".")[0][:200] or playbook.name,
        attached_by=actor,
        attached_at=now,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    for position, step in enumerate(playbook.steps):
        row = PlaybookStep(
            run_id=run.id,
            step=step.id,
            position=position,
            title=step.title,
            owner_role=step.owner_role,
            runbook_url=step.runbook_url,
            due_at=now + step.due_after if step.due_after else None,
            action=step.action.model_dump(mode="json") if step.action else None,
        )
        session.add(row)
        session.flush()
        if row.due_at is not None and row.id is not None:
            timer_store.arm(
                session=session,
                incident_id=incident.id,
                kind=timers.step_kind(row.id),
                due_at=row.due_at,
                now=now,
            )
    how = "by hand" if actor else "(it matches this incident)"
    entry = Entry(
        EntryKind.PLAYBOOK,
        now,
        f"Playbook {playbook.name} attached {how}",
        actor,
        Source.CHAT if actor else Source.SYSTEM,
        {"playbook": playbook.name},
    )
    q.add_entries(session=session, incident_id=incident.id, entries=[entry], now=now)
    outbox.enqueue(
        session=session,
        lane=fx.lane(incident.id),
        kind=fx.CHECKLIST,
        now=now,
        incident_id=incident.id,
        payload={"run_id": run.id},
    )
    for row in steps_of(session, run.id):
        if row.action and row.due_at is None:
            step_actions.start(session, auto, incident, run, row, now)
    return run


def auto_attach(
    session: Session,
    incident: Incident,
    playbooks: Sequence[Playbook],
    auto: step_actions.Automation,
    now: datetime,
    labels: Mapping[str, str],
) -> None:
    for playbook in matching(
        playbooks,
        severity=incident.severity,
        service=incident.service,
        labels=labels,
        catalog=auto.catalog,
    ):
        attach(session, incident, playbook, now, None, auto)


def steps_of(session: Session, run_id: int) -> list[PlaybookStep]:
    return list(
        session.exec(
            select(PlaybookStep)
            .where(PlaybookStep.run_id == run_id)
            .order_by(col(PlaybookStep.position))
        ).all()
    )
