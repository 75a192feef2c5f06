"""Playbooks on incidents: attached when an incident opens (every matching playbook, the most
specific first) or by hand, shown as a checklist in the channel, each step stamped with who
did or skipped it and when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.catalog import Phase
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.playbooks import Playbook, matching
from bot.core.timeline import Entry, EntryKind
from bot.flows import slack_effects as fx
from bot.flows import step_actions, timers
from bot.flows.pins import NOT_AN_INCIDENT
from bot.flows.unit import Outcome, UnitOfWork
from bot.markup import escape_mrkdwn
from bot.store import incidents as q
from bot.store import outbox
from bot.store import timers as timer_store
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
        Source.SLACK if actor else Source.SYSTEM,
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


class PlaybookFlows(UnitOfWork):
    @property
    def automation(self) -> step_actions.Automation:
        return step_actions.Automation(self.catalog, self.paging)

    def attach_by_name(
        self, *, channel_id: str, name: str, actor: str, request_key: str | None
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = self._open_incident(session, channel_id)
            playbook = self.playbooks.get(name)
            if playbook is None:
                known = (
                    ", ".join(f"`{n}`" for n in sorted(self.playbooks))
                    or "none (add YAML files to playbooks/)"
                )
                raise Refused(f"No playbook `{escape_mrkdwn(name)}`. Playbooks: {known}.")
            if attach(session, incident, playbook, now, actor, self.automation) is None:
                raise Refused(f"`{escape_mrkdwn(name)}` is already on this incident.")
            return Outcome(True, f"Attached {name}.", incident.id)

        return self.run(request_key, work)

    def candidates(self, channel_id: str) -> tuple[list[Playbook], set[str]]:
        """The playbooks that match this incident (most specific first), and those attached."""
        with self.db.read() as session:
            incident = self._open_incident(session, channel_id)
            attached = set(
                session.exec(
                    select(PlaybookRun.playbook).where(PlaybookRun.incident_id == incident.id)
                ).all()
            )
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
            run = session.get(PlaybookRun, run_id)
            # The incident's lock first, then the step: a concurrent click sees the first's mark.
            if (
                run is None
                or q.get_incident(session=session, incident_id=run.incident_id, for_update=True)
                is None
            ):
                raise Refused("That step is not on any playbook here.")
            row = session.exec(
                select(PlaybookStep).where(PlaybookStep.run_id == run_id, PlaybookStep.step == step)
            ).first()
            if row is None:
                raise Refused("That step is not on any playbook here.")
            if row.state not in step_actions.OPEN_STATES:
                by = f"<@{row.by}>" if row.by else "the bot"
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

    def _open_incident(self, session: Session, channel_id: str) -> Incident:
        incident = q.incident_by_channel(session=session, channel_id=channel_id)
        if incident is None or incident.id is None:
            raise Refused(NOT_AN_INCIDENT)
        if self.catalog.status(incident.status).phase is Phase.CLOSED:
            raise Refused("This incident is closed.")
        return incident
