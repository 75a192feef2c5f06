"""Drills (game days): a practice incident from a playbook. It runs like a real one — its own
`drill-…` channel with a banner on every message, the playbook's checklist, the timers — but
its alerts and the on-call's acknowledgement are simulated on the playbook's `drill` schedule,
it pages nobody unless asked, never announces, never counts in the metrics, never opens a tracker
post-mortem, and ends with a short drill report."""

from __future__ import annotations

from datetime import datetime

from bot.core import lifecycle
from bot.core.milestones import Source
from bot.core.people import typed
from bot.core.playbooks import Playbook
from bot.core.refusals import Refusal
from bot.flows import paging
from bot.flows.drill_events import ACKNOWLEDGE, ALERT, MITIGATE
from bot.flows.playbook_runs import attach
from bot.flows.step_actions import Automation
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incident_changes, timers as timer_store
from bot.store.session import Session


class DrillFlows(UnitOfWork):
    def start_drill(
        self, *, name: str, actor: str | None, request_key: str | None, page: bool = False
    ) -> Outcome:
        playbook = self.playbooks.get(name)
        if playbook is None:
            known = ", ".join(f"`{n}`" for n in sorted(self.playbooks)) or "none"
            why = f"No playbook `{typed(name)}` to drill."
            return Outcome.refused(Refusal("start a drill", why, fix=f"Playbooks: {known}."))

        def work(session: Session, now: datetime) -> Outcome:
            severity = playbook.drill.severity or _severity_of(playbook) or None
            opening = lifecycle.declare(
                self.catalog,
                title=f"Drill: {playbook.description.split('.')[0]}"[:150],
                severity=severity,
                now=now,
                actor=actor,
                source=Source.CHAT if actor else Source.SYSTEM,
                description=f"A practice run of the {playbook.name} playbook.",
                private=playbook.private,
            )
            incident = incident_changes.open_incident(
                session=session,
                opening=opening,
                now=now,
                source=Source.CHAT if actor else Source.SYSTEM,
                created_by=actor,
                drill=True,
            )
            self.opened(session, incident, now, alert_born=False, roles=opening.snapshot.roles)
            attach(
                session, incident.id, playbook, now, actor, Automation(self.catalog, self.paging)
            )
            if page:
                service = (
                    playbook.match.services[0]
                    if playbook.match and playbook.match.services
                    else paging.DEFAULT_SERVICE
                )
                paging.plan_page(
                    session=session,
                    catalog=self.catalog,
                    pagers=self.paging,
                    incident=incident,
                    service=service,
                    actor=actor,
                    now=now,
                )
            plan = playbook.drill
            for index, alert in enumerate(plan.alerts):
                self._arm(
                    session,
                    incident.id,
                    f"{ALERT}:{index}",
                    now + alert.after,
                    now,
                    {"playbook": playbook.name},
                )
            if plan.acknowledge_after is not None:
                self._arm(session, incident.id, ACKNOWLEDGE, now + plan.acknowledge_after, now)
            if plan.mitigate_after is not None:
                self._arm(session, incident.id, MITIGATE, now + plan.mitigate_after, now)
            return Outcome(
                True, f"Drill of {playbook.name} started (incident #{incident.id}).", incident.id
            )

        return self.run(request_key, work)

    @staticmethod
    def _arm(
        session: Session,
        incident_id: int,
        kind: str,
        at: datetime,
        now: datetime,
        payload: dict[str, str] | None = None,
    ) -> None:
        timer_store.arm(
            session=session,
            incident_id=incident_id,
            kind=kind,
            due_at=at,
            now=now,
            payload=payload or {},
        )


def _severity_of(playbook: Playbook) -> str | None:
    match = playbook.match
    if match is None:
        return None
    return match.severity_at_most or match.severity_at_least
