"""Playbooks on incidents: attached when an incident opens (every matching playbook, the most
specific first) or by hand, shown as a checklist in the channel, each step stamped with who
did or skipped it and when."""

from __future__ import annotations

from datetime import datetime

from bot.core.catalog import Phase
from bot.core.lifecycle import Refused
from bot.core.people import person, typed
from bot.core.playbooks import Playbook, matching
from bot.flows import step_actions
from bot.flows.pins import NOT_AN_INCIDENT
from bot.flows.playbook_runs import attach
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incident_reads, playbook_runs as store
from bot.store.read_models import IncidentSummary
from bot.store.session import Session


class PlaybookFlows(UnitOfWork):
    @property
    def automation(self) -> step_actions.Automation:
        return step_actions.Automation(self.catalog, self.paging)

    def attach_by_name(
        self, *, channel_id: str, name: str, actor: str, request_key: str | None
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = self._open(
                incident_reads.summary_by_conversation(session=session, conversation_id=channel_id)
            )
            playbook = self.playbooks.get(name)
            if playbook is None:
                known = (
                    ", ".join(f"`{n}`" for n in sorted(self.playbooks))
                    or "none (add YAML files to playbooks/)"
                )
                raise Refused(f"No playbook `{typed(name)}`. Playbooks: {known}.")
            if attach(session, incident.id, playbook, now, actor, self.automation) is None:
                raise Refused(f"`{typed(name)}` is already on this incident.")
            return Outcome(True, f"Attached {name}.", incident.id)

        return self.run(request_key, work)

    def candidates(self, channel_id: str) -> tuple[list[Playbook], set[str]]:
        """The playbooks that match this incident (most specific first), and those attached."""
        with self.db.read() as session:
            summary = incident_reads.summary_by_conversation(
                session=session, conversation_id=channel_id
            )
            incident = self._open(summary)
            attached = store.attached_playbooks(session=session, incident_id=incident.id)
        found = matching(
            self.playbooks.values(),
            severity=incident.severity,
            service=incident.service,
            labels={},
            catalog=self.catalog,
        )
        return found, attached

    def mark_step(
        self,
        *,
        run_id: int,
        step: str,
        actor: str,
        request_key: str | None,
        done: bool,
        reason: str | None = None,
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            run = store.run(session=session, run_id=run_id)
            # The incident's lock first, then the step: a concurrent click sees the first's mark.
            if (
                run is None
                or incident_reads.locked(session=session, incident_id=run.incident_id) is None
            ):
                raise Refused("That step is not on any playbook here.")
            row = store.step_named(session=session, run_id=run_id, name=step)
            if row is None:
                raise Refused("That step is not on any playbook here.")
            if row.state not in step_actions.OPEN_STATES:
                by = person(row.by) if row.by else "the bot"
                raise Refused(f"Already {row.state} by {by}.")
            if not done and not (reason or "").strip():
                raise Refused("Say why the step is skipped.")
            entry = step_actions.record(
                session,
                run,
                row,
                state="done" if done else "skipped",
                now=now,
                actor=actor,
                reason=None if done else reason,
            )
            return Outcome(True, entry.text, run.incident_id)

        return self.run(request_key, work)

    def _open(self, incident: IncidentSummary | None) -> IncidentSummary:
        if incident is None:
            raise Refused(NOT_AN_INCIDENT)
        if self.catalog.status(incident.status).phase is Phase.CLOSED:
            raise Refused("This incident is closed.")
        return incident
