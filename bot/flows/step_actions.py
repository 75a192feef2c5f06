"""Playbook steps the bot does itself. A step's `action` starts when its playbook attaches, or at
its `due_after` when it has one. What needs no outside call (severity, reminders, cadence,
follow-ups) is done in the starting transaction; paging, inviting and posting are outbox effects
and the step shows "running" until the effect lands (done, with its result) or is given up
(failed, with the reason; a person can still do it by hand and tick it off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Catalog
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone, Source
from bot.core.people import person, typed
from bot.core.playbooks import (
    ACTIONS,
    AnyAction,
    CreateFollowupAction,
    InviteAction,
    PageAction,
    PostAction,
    RemindAction,
    SetSeverityAction,
    StatusUpdateDueAction,
    describe,
)
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_kinds as fx, paging, timers
from bot.flows.changes import apply_command
from bot.flows.pagers import Pagers
from bot.store import (
    followups as followup_store,
    incident_changes,
    incidents as q,
    outbox,
    playbook_runs as store,
    timers as timer_store,
)
from bot.store.playbook_runs import Run, Step
from bot.store.session import Session

STEP_ACTION = fx.STEP_ACTION  # invite / post: done by step_effects.StepEffects
OPEN_STATES = ("open", "running", "failed")  # a person may still tick these off


@dataclass(frozen=True)
class Automation:
    """What starting an action needs to know beyond the incident."""

    catalog: Catalog
    paging: Pagers


def action_of(step: Step) -> AnyAction | None:
    return ACTIONS.validate_python(step.action) if step.action else None


def record(
    session: Session,
    run: Run,
    step: Step,
    *,
    state: str,
    now: datetime,
    actor: str | None = None,
    reason: str | None = None,
    result: str | None = None,
) -> Entry:
    """Stamp a step done / skipped / failed (by `actor`, or by the bot when None), put it on the
    timeline and refresh the checklist; its due timer stops unless it merely failed."""
    step = store.record_step_state(
        session=session,
        step_id=step.id,
        state=state,
        by=actor,
        now=now,
        skip_reason=reason.strip() if reason else None,
        result=result,
    )
    if state != "failed":
        timer_store.cancel(
            session=session,
            incident_id=run.incident_id,
            now=now,
            kinds=[timers.step_kind(step.id)],
        )
    verb = {
        "done": "Done",
        "skipped": f"Skipped ({typed(step.skip_reason or '')})",
        "failed": "Failed",
    }[state]
    text = f"{verb}: {step.title}" + (f" — {step.result}" if actor is None and step.result else "")
    entry = Entry(
        EntryKind.STEP,
        now,
        text,
        actor,
        Source.CHAT if actor else Source.SYSTEM,
        {"playbook": run.playbook, "step": step.step, "state": state, "result": step.result},
    )
    q.add_entries(session=session, incident_id=run.incident_id, entries=[entry], now=now)
    outbox.enqueue(
        session=session,
        lane=fx.lane(run.incident_id),
        kind=fx.CHECKLIST,
        now=now,
        incident_id=run.incident_id,
        payload={"run_id": run.id},
        coalesce=True,
    )
    return entry


def finish(session: Session, step_id: int, *, ok: bool, result: str, now: datetime) -> Step | None:
    """The bot's action on `step_id` came back. A step someone already ticked off stays as is."""
    found = store.step(session=session, step_id=step_id)
    if found is None or found[1].state not in ("open", "running"):
        return None
    run, step = found
    record(session, run, step, state="done" if ok else "failed", now=now, result=result)
    if not ok:  # say it where people look
        fx.announce_entry(
            session,
            run.incident_id,
            Entry(
                EntryKind.STEP,
                now,
                f"The automated step “{step.title}” failed ({describe_step(step)}): {result}. Do it by hand and tick it off.",
                None,
                Source.SYSTEM,
                {"step": step.step},
            ),
            now,
        )
    return step


def describe_step(step: Step) -> str:
    action = action_of(step)
    return describe(action) if action else "by hand"


def start(
    session: Session,
    auto: Automation,
    incident_id: int,
    run: Run,
    step: Step,
    now: datetime,
) -> None:
    """Start the step's action, in the caller's transaction (on the incident as it has it)."""
    action = action_of(step)
    if action is None or step.state != "open":
        return
    incident = incident_changes.current(session=session, incident_id=incident_id)
    match action:
        case PageAction(service=service):
            try:
                paging.plan_page(
                    session=session,
                    catalog=auto.catalog,
                    pagers=auto.paging,
                    incident=incident,
                    service=service,
                    actor=None,
                    now=now,
                    step_id=step.id,
                )
            except Refused as refused:
                finish(session, step.id, ok=False, result=refused.reason, now=now)
                return
            store.record_step_running(session=session, step_id=step.id, result=f"paging {service}…")
        case InviteAction() | PostAction():
            store.record_step_running(
                session=session, step_id=step.id, result=describe(action) + "…"
            )
            outbox.enqueue(
                session=session,
                lane=fx.lane(incident.id),
                kind=STEP_ACTION,
                now=now,
                incident_id=incident.id,
                payload={"step_id": step.id},
            )
        case SetSeverityAction(severity=severity):
            try:
                apply_command(
                    session,
                    auto.catalog,
                    incident.id,
                    lifecycle.ChangeSeverity(severity),
                    actor=None,
                    source=Source.SYSTEM,
                    now=now,
                )
                result = f"severity set to {severity}"
            except Refused as refused:
                if incident.severity != severity:
                    finish(session, step.id, ok=False, result=refused.reason, now=now)
                    return
                result = f"already {severity}"
            record(session, run, step, state="done", now=now, result=result)
        case RemindAction(every=every):
            timer_store.arm(
                session=session,
                incident_id=incident.id,
                kind=timers.remind_kind(step.id),
                due_at=now + every,
                now=now,
            )
            record(
                session,
                run,
                step,
                state="done",
                now=now,
                result=f"reminder set: {describe(action)[8:]}",
            )
        case StatusUpdateDueAction(every=every):
            incident = incident_changes.record_status_cadence(
                session=session,
                incident_id=incident.id,
                minutes=max(1, int(every.total_seconds() // 60)),
            )
            timers.arm_for(session, auto.catalog, incident, now)
            record(
                session,
                run,
                step,
                state="done",
                now=now,
                result=f"status updates due every {incident.status_update_minutes} min",
            )
        case CreateFollowupAction(text=text, owner_role=role):
            owner = q.roles(session=session, incident_id=incident.id).get(role) if role else None
            followup_store.record_followup(
                session=session,
                incident_id=incident.id,
                text=text,
                owner=owner,
                owner_role=None if owner else role,
                now=now,
                source="playbook",
            )
            whose = (  # nobody holds the role yet: whoever does at export time owns it
                f" for {person(owner)}"
                if owner
                else (f" for the {role} (nobody holds it yet)" if role else "")
            )
            record(session, run, step, state="done", now=now, result=f"follow-up recorded{whose}")


def remind_met(session: Session, incident_id: int, until: str) -> bool:
    """Whether a `remind` action's condition holds (then it stops)."""
    wanted = {
        "acknowledged": Milestone.ACKNOWLEDGED,
        "mitigated": Milestone.MITIGATED,
        "resolved": Milestone.RESOLVED,
    }[until]
    return wanted in q.milestones(session=session, incident_id=incident_id)


def remind_target(session: Session, incident_id: int, step: Step) -> str | None:
    roles = q.roles(session=session, incident_id=incident_id)
    return roles.get(step.owner_role) or roles.get(COMMANDER)
