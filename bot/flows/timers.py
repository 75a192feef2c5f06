"""Which durable timers an incident has, and arming them as its state changes (in the caller's
transaction). Firing them is timer_flows.TimerFlows, in the scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.catalog import COMMANDER, Catalog
from bot.core.playbooks import ACTIONS, RemindAction
from bot.store import incidents as q, playbook_runs as run_store, timers as store
from bot.store.session import Session

STATUS_UPDATE = "status_update"
COMMANDER_NUDGE = "commander_nudge"
STALE_RESOLVED = "stale_resolved"  # resolved but not closed after a day
STALE_OPEN = "stale_open"  # still open a week after it opened
STALE_RESOLVED_AFTER = timedelta(hours=24)
STALE_OPEN_AFTER = timedelta(days=7)
FOLLOWUP = "followup_"  # follow-up reminders (followups.DUE_SOON / OVERDUE) outlive the incident
STEP_DUE = "step"  # kind "step:<playbook_step.id>": one timer per step with a due time


class TimedIncident(Protocol):
    """What the timers read of an incident (a read model, or a new incident as `unit.Opened`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def status_update_minutes(self) -> int | None: ...


def step_kind(step_id: int) -> str:
    return f"{STEP_DUE}:{step_id}"


def arm_for(
    session: Session,
    catalog: Catalog,
    incident: TimedIncident,
    now: datetime,
    *,
    status_update: bool = True,
) -> None:
    """(Re-)arm what an open incident needs: the status-update reminder at its severity's
    cadence (a status or severity change counts as an update), and the commander nudge while
    nobody is in command."""
    assert incident.id is not None
    minutes = status_update_minutes(catalog, incident)
    if not status_update:
        pass
    elif minutes:
        store.arm(
            session=session,
            incident_id=incident.id,
            kind=STATUS_UPDATE,
            due_at=now + timedelta(minutes=minutes),
            now=now,
        )
    else:
        store.cancel(session=session, incident_id=incident.id, now=now, kinds=[STATUS_UPDATE])
    if COMMANDER in q.roles(session=session, incident_id=incident.id):
        store.cancel(session=session, incident_id=incident.id, now=now, kinds=[COMMANDER_NUDGE])
    else:
        store.arm(
            session=session,
            incident_id=incident.id,
            kind=COMMANDER_NUDGE,
            due_at=now + timedelta(minutes=catalog.reminders.commander_nudge),
            now=now,
        )


def first_timers(
    catalog: Catalog, incident: TimedIncident, now: datetime, roles: Mapping[str, str]
) -> list[tuple[str, datetime]]:
    """The timers a new incident starts with (`roles`: who holds which): what `arm_for` and
    `watch_open` would arm, known without reading anything back."""
    minutes = status_update_minutes(catalog, incident)
    timers = [(STATUS_UPDATE, now + timedelta(minutes=minutes))] if minutes else []
    if COMMANDER not in roles:
        nudge = now + timedelta(minutes=catalog.reminders.commander_nudge)
        timers.append((COMMANDER_NUDGE, nudge))
    timers.append((STALE_OPEN, now + STALE_OPEN_AFTER))
    return timers


def status_update_minutes(catalog: Catalog, incident: TimedIncident) -> int | None:
    """The incident's status-update cadence: a playbook's override, else its severity's."""
    return incident.status_update_minutes or catalog.reminders.status_update.get(incident.severity)


def stop_for(session: Session, incident_id: int, now: datetime, *, resolved: bool = False) -> None:
    """Everything stops with the incident but its follow-ups' reminders; a resolved one is
    watched for not being closed."""
    store.cancel(session=session, incident_id=incident_id, now=now, keep_prefixes=[FOLLOWUP])
    if resolved:
        store.arm(
            session=session,
            incident_id=incident_id,
            kind=STALE_RESOLVED,
            due_at=now + STALE_RESOLVED_AFTER,
            now=now,
        )


def watch_open(session: Session, incident_id: int, now: datetime) -> None:
    store.arm(
        session=session,
        incident_id=incident_id,
        kind=STALE_OPEN,
        due_at=now + STALE_OPEN_AFTER,
        now=now,
    )


REMIND = "remind"  # kind "remind:<playbook_step.id>": a playbook step's repeating reminder


def remind_kind(step_id: int) -> str:
    return f"{REMIND}:{step_id}"


def resume_steps(session: Session, incident_id: int, now: datetime) -> None:
    """On reopen: open playbook steps get their due timers back (those already past due fire at
    once), and step reminders start again (each checks its condition when it fires)."""
    for step in run_store.steps_of_incident(session=session, incident_id=incident_id):
        if step.state == "open" and step.due_at is not None:
            store.arm(
                session=session,
                incident_id=incident_id,
                kind=step_kind(step.id),
                due_at=max(step.due_at, now),
                now=now,
            )
        action = ACTIONS.validate_python(step.action) if step.action else None
        if isinstance(action, RemindAction) and step.state == "done":
            store.arm(
                session=session,
                incident_id=incident_id,
                kind=remind_kind(step.id),
                due_at=now + action.every,
                now=now,
            )
