"""What happens inside a running drill: its simulated alerts, and the report it ends with.
(Starting one is drills.DrillFlows; the timers fire through timer_flows.)"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.core.catalog import Phase
from bot.core.metrics import humanize
from bot.core.milestones import ORDER, Milestone, Source
from bot.core.playbooks import Playbook
from bot.core.timeline import Entry, EntryKind
from bot.flows.chat_kinds import announce_entry
from bot.store import incidents as q, playbook_runs as run_store
from bot.store.session import Session

ALERT = "drill_alert"  # kind "drill_alert:<index>"
ACKNOWLEDGE = "drill_ack"
MITIGATE = "drill_mitigate"


class DrillIncident(Protocol):
    """What a drill's events read of its incident (a read model)."""

    @property
    def id(self) -> int | None: ...
    @property
    def drill(self) -> bool: ...


def simulated_alert(
    session: Session,
    incident: DrillIncident,
    playbooks: dict[str, Playbook],
    kind: str,
    payload: Mapping[str, str],
    now: datetime,
) -> str:
    """A drill's alert fires: on the timeline and in the channel, marked as simulated."""
    assert incident.id is not None
    playbook = playbooks.get(payload.get("playbook", ""))
    index = int(kind.split(":")[1])
    if playbook is None or index >= len(playbook.drill.alerts):
        return "skipped"
    alert = playbook.drill.alerts[index]
    text = f"Simulated alert firing: {alert.name}" + (
        f" — {alert.summary}" if alert.summary else ""
    )
    announce_entry(
        session,
        incident.id,
        Entry(
            EntryKind.ALERT, now, text, None, Source.SYSTEM, {"simulated": True, "name": alert.name}
        ),
        now,
    )
    return "fired"


def report(session: Session, incident: DrillIncident) -> str:
    """Time from the drill's start to each milestone, and what became of the playbook's steps."""
    assert incident.id is not None
    stamps = q.milestones(session=session, incident_id=incident.id)
    start = stamps.get(Milestone.DECLARED)
    parts = [
        f"{m.label.lower()} after {humanize(stamps[m].at - start.at)}"
        for m in ORDER
        if start is not None
        and m in stamps
        and m not in (Milestone.DECLARED, Milestone.IMPACT_STARTED, Milestone.DETECTED)
    ]
    states = [
        s.state for s in run_store.steps_of_incident(session=session, incident_id=incident.id)
    ]
    steps = ", ".join(
        f"{states.count(state)} {state}"
        for state in ("done", "skipped", "failed", "open", "running")
        if state in states
    )
    return (
        "Drill report: "
        + ("; ".join(parts) or "no milestones reached")
        + (f". Steps: {steps}." if steps else ".")
    )


def wrap_up(session: Session, incident: DrillIncident, phase: Phase, now: datetime) -> None:
    """A drill that resolves says how it went."""
    if incident.drill and phase is Phase.RESOLVED and incident.id is not None:
        announce_entry(
            session,
            incident.id,
            Entry(
                EntryKind.NOTE,
                now,
                report(session, incident),
                None,
                Source.SYSTEM,
                {"drill_report": True},
            ),
            now,
        )
