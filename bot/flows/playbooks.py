"""Playbooks on incidents: attached when an incident opens (every matching playbook, the most
specific first) or by hand, shown as a checklist in the channel, each step stamped with who
did or skipped it and when."""

from __future__ import annotations

from datetime import datetime

from bot.core.catalog import Phase
from bot.core.lifecycle import Refusal, Refused
from bot.core.people import person, typed
from bot.core.playbooks import Playbook, matching
from bot.flows import step_actions
from bot.flows.pins import not_an_incident
from bot.flows.playbook_runs import attach
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incident_reads, playbook_runs as store
from bot.store.read_models import IncidentSummary
from bot.store.session import Session

NOT_ON_A_PLAYBOOK = "That step is not on any playbook here."


class PlaybookFlows(UnitOfWork):
    @property
    def automation(self) -> step_actions.Automation:
        return step_actions.Automation(self.catalog, self.paging)

    def attach_by_name(
        self, *, channel_id: str, name: str, actor: str, request_key: str | None
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            what = "attach a playbook"
            incident = self._open(
                incident_reads.summary_by_conversation(session=session, conversation_id=channel_id),
                what,
            )
            playbook = self.playbooks.get(name)
            if playbook is None:
                known = (
                    ", ".join(f"`{n}`" for n in sorted(self.playbooks))
                    or "none (add YAML files to playbooks/)"
                )
                why = f"No playbook `{typed(name)}`."
                raise Refused(Refusal(what, why, fix=f"Playbooks: {known}."))
            if attach(session, incident.id, playbook, now, actor, self.automation) is None:
                raise Refused(Refusal(what, f"`{typed(name)}` is already on this incident."))
            return Outcome(True, f"Attached {name}.", incident.id)

        return self.run(request_key, work)

    def candidates(self, channel_id: str) -> tuple[list[Playbook], set[str]]:
        """The playbooks that match this incident (most specific first), and those attached."""
        with self.db.read() as session:
            summary = incident_reads.summary_by_conversation(
                session=session, conversation_id=channel_id
            )
            incident = self._open(summary, "list the playbooks")
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
        what = "mark a step done" if done else "skip a step"

        def work(session: Session, now: datetime) -> Outcome:
            run = store.run(session=session, run_id=run_id)
            # The incident's lock first, then the step: a concurrent click sees the first's mark.
            if (
                run is None
                or incident_reads.locked(session=session, incident_id=run.incident_id) is None
            ):
                raise Refused(Refusal(what, NOT_ON_A_PLAYBOOK))
            row = store.step_named(session=session, run_id=run_id, name=step)
            if row is None:
                raise Refused(Refusal(what, NOT_ON_A_PLAYBOOK))
            if row.state not in step_actions.OPEN_STATES:
                by = person(row.by) if row.by else "the bot"
                who = (row.by,) if row.by else ()
                raise Refused(Refusal(what, f"Already {row.state} by {by}.", who=who))
            if not done and not (reason or "").strip():
                why = "A skipped step needs a reason."
                raise Refused(Refusal(what, why, fix="Say why the step is skipped."))
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

    def _open(self, incident: IncidentSummary | None, what: str) -> IncidentSummary:
        if incident is None:
            raise not_an_incident(what)
        if self.catalog.status(incident.status).phase is Phase.CLOSED:
            raise Refused(Refusal(what, "This incident is closed."))
        return incident
