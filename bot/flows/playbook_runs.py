"""A playbook's run on one incident: attached when the incident opens (every matching playbook,
the most specific first) or by hand, its steps stored in order. Session functions with no unit of
work, so the unit that declares an incident can attach playbooks in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.core.milestones import Source
from bot.core.playbooks import Playbook, matching
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_kinds as fx, step_actions, timers
from bot.store import incidents as q, outbox, playbook_runs as store, timers as timer_store
from bot.store.playbook_runs import Run
from bot.store.session import Session


class Matched(Protocol):
    """What matching playbooks reads of a new incident."""

    @property
    def id(self) -> int | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def service(self) -> str | None: ...


def attach(
    session: Session,
    incident_id: int,
    playbook: Playbook,
    now: datetime,
    actor: str | None,
    auto: step_actions.Automation,
) -> Run | None:
    """None when the playbook is already on the incident. Automated steps without a due time
    start now (after the checklist is queued, so it is posted before what they say)."""
    if store.is_attached(session=session, incident_id=incident_id, playbook=playbook.name):
        return None
    run, steps = store.record_attached(
        session=session, incident_id=incident_id, playbook=playbook, attached_by=actor, now=now
    )
    for step in steps:
        if step.due_at is not None:
            timer_store.arm(
                session=session,
                incident_id=incident_id,
                kind=timers.step_kind(step.id),
                due_at=step.due_at,
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
    q.add_entries(session=session, incident_id=incident_id, entries=[entry], now=now)
    outbox.enqueue(
        session=session,
        lane=fx.lane(incident_id),
        kind=fx.CHECKLIST,
        now=now,
        incident_id=incident_id,
        payload={"run_id": run.id},
    )
    for step in steps:  # as stored: nothing has started them yet
        if step.action and step.due_at is None:
            step_actions.start(session, auto, incident_id, run, step, now)
    return run


def auto_attach(
    session: Session,
    incident: Matched,
    playbooks: Sequence[Playbook],
    auto: step_actions.Automation,
    now: datetime,
    labels: Mapping[str, str],
) -> None:
    assert incident.id is not None
    for playbook in matching(
        playbooks,
        severity=incident.severity,
        service=incident.service,
        labels=labels,
        catalog=auto.catalog,
    ):
        attach(session, incident.id, playbook, now, None, auto)
