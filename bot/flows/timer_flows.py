"""The scheduler firing durable timers: status-update reminders to the commander, a nudge when
nobody has taken command, re-pages, playbook steps coming due, step reminders, stale incidents.
A timer fires inside the transaction that claims it and only writes the database (the reminder
itself is an outbox effect), so a crash before commit leaves it pending and a commit makes it
fired: never lost, never doubled."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Catalog, Phase
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone, Source
from bot.core.playbooks import Playbook, RemindAction, format_duration
from bot.core.timeline import Entry, EntryKind
from bot.flows import drill_events, followups, step_actions
from bot.flows.changes import apply_command
from bot.flows.chat_kinds import DIRECT, POST_LINE, lane, line_payload
from bot.flows.pagers import Pagers
from bot.flows.paging import REPAGE_TIMER, RESPONDERS, add_page, target_for
from bot.flows.ports import Clock, PagePlan
from bot.flows.timers import (
    COMMANDER_NUDGE,
    REMIND,
    STALE_OPEN,
    STALE_RESOLVED,
    STATUS_UPDATE,
    STEP_DUE,
    status_update_minutes,
)
from bot.store import (
    followups as followup_store,
    incident_changes,
    incident_reads,
    incidents as q,
    outbox,
    pages as page_store,
    playbook_runs as run_store,
    timers as store,
)
from bot.store.db import Database
from bot.store.read_models import IncidentSummary
from bot.store.session import Session
from bot.store.timers import Timer


@dataclass(frozen=True)
class Due:
    """A claimed timer with what its handler needs, loaded for the whole batch at once."""

    row: Timer
    incident: IncidentSummary  # as the transaction has it when the timer fires
    roles: dict[str, str]


Handler = Callable[[Session, Due, datetime], str]


class TimerFlows:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        paging: Pagers | None = None,
        playbooks: Mapping[str, Playbook] | None = None,
    ) -> None:
        self.playbooks = dict(playbooks or {})
        self.paging = paging or Pagers()
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.handlers: dict[str, Handler] = {
            STATUS_UPDATE: self._status_update,
            COMMANDER_NUDGE: self._commander_nudge,
            STEP_DUE: self._step_due,
            REMIND: self._remind,
            drill_events.ALERT: self._drill_alert,
            drill_events.ACKNOWLEDGE: self._drill_acknowledge,
            drill_events.MITIGATE: self._drill_mitigate,
            followups.DUE_SOON: self._followup,
            followups.OVERDUE: self._followup,
            STALE_RESOLVED: self._stale_resolved,
            STALE_OPEN: self._stale_open,
            REPAGE_TIMER: self._repage,
        }

    def fire_due(self, *, batch: int = 200, limit: int = 10_000) -> int:
        """Fire every due timer, `batch` per transaction. Returns how many were claimed."""
        fired = 0
        while fired < limit:
            with self.db.transaction() as session:
                now = self.clock.now()
                rows = store.claim_due(session=session, now=now, limit=batch)
                self._fire(session, rows, now)
            fired += len(rows)
            if len(rows) < batch:
                return fired
        return fired

    def _fire(self, session: Session, rows: Sequence[Timer], now: datetime) -> None:
        if not rows:
            return
        # Fired first (one UPDATE), so that handlers can arm the next timer of the same kind.
        store.mark_fired(session=session, timer_ids=[r.id for r in rows], now=now)
        incident_ids = sorted({r.incident_id for r in rows})
        found = incident_reads.summaries_by_id(session=session, incident_ids=incident_ids)
        roles = q.roles_by_incident(session=session, incident_ids=incident_ids)
        outcomes: dict[str, list[int]] = {}
        for row in rows:
            handler = self.handlers.get(row.kind.split(":")[0])
            if row.incident_id not in found or handler is None:
                outcomes.setdefault("skipped", []).append(row.id)
                continue
            # what an earlier timer of the batch changed included (read once, with the batch)
            incident = incident_changes.current(session=session, incident_id=row.incident_id)
            outcome = handler(session, Due(row, incident, roles.get(row.incident_id, {})), now)
            outcomes.setdefault(outcome, []).append(row.id)
        for outcome, ids in outcomes.items():
            store.set_outcome(session=session, timer_ids=ids, outcome=outcome)

    def _open(self, incident: IncidentSummary) -> bool:
        return self.catalog.status(incident.status).phase in (Phase.ACTIVE, Phase.MITIGATED)

    def _say(
        self,
        session: Session,
        incident: IncidentSummary,
        text: str,
        now: datetime,
        kind: str,
        to: str | None = None,
    ) -> None:
        """A reminder line; `to` is the person it is for (rendered as a mention)."""
        entry = Entry(EntryKind.NOTE, now, text, None, Source.SYSTEM, {"reminder": kind, "to": to})
        outbox.enqueue(
            session=session,
            lane=lane(incident.id),
            kind=POST_LINE,
            now=now,
            incident_id=incident.id,
            payload={**line_payload(entry), "kind": "reminder"},
        )

    def _status_update(self, session: Session, due: Due, now: datetime) -> str:
        incident = due.incident
        if not self._open(incident):
            return "skipped"
        commander = due.roles.get(COMMANDER)
        minutes = status_update_minutes(self.catalog, incident)
        self._say(
            session,
            incident,
            f"time for a status update — what changed, what's next, when the next update is. (every {minutes} min at {incident.severity})",
            now,
            STATUS_UPDATE,
            to=commander,
        )
        if minutes:
            store.arm(
                session=session,
                incident_id=due.row.incident_id,
                kind=STATUS_UPDATE,
                due_at=now + timedelta(minutes=minutes),
                now=now,
            )
        return "fired"

    def _step_due(self, session: Session, due: Due, now: datetime) -> str:
        """An automated step starts at its due time; a step for people is reminded of."""
        found = run_store.step(session=session, step_id=int(due.row.kind.split(":")[1]))
        if found is None or found[1].state != "open" or not self._open(due.incident):
            return "skipped"
        run, step = found
        if step.action:
            automation = step_actions.Automation(self.catalog, self.paging)
            step_actions.start(session, automation, due.incident.id, run, step, now)
            return "fired"
        role = next(
            (r.name for r in self.catalog.roles if r.id == step.owner_role), step.owner_role
        )
        self._say(
            session,
            due.incident,
            f"playbook step past due: {step.title} ({role})",
            now,
            STEP_DUE,
            to=due.roles.get(step.owner_role) or due.roles.get(COMMANDER),
        )
        return "fired"

    def _remind(self, session: Session, due: Due, now: datetime) -> str:
        """A playbook's `remind` action: say its text every N until its condition holds."""
        step = run_store.step_alone(session=session, step_id=int(due.row.kind.split(":")[1]))
        action = step_actions.action_of(step) if step else None
        if (
            step is None
            or not isinstance(action, RemindAction)
            or not self._open(due.incident)
            or step_actions.remind_met(session, due.incident.id, action.until)
        ):
            return "skipped"
        self._say(
            session,
            due.incident,
            f"{action.text} (every {format_duration(action.every)} until {action.until})",
            now,
            REMIND,
            to=step_actions.remind_target(session, due.row.incident_id, step),
        )
        store.arm(
            session=session,
            incident_id=due.row.incident_id,
            kind=due.row.kind,
            due_at=now + action.every,
            now=now,
        )
        return "fired"

    def _followup(self, session: Session, due: Due, now: datetime) -> str:
        """A follow-up due tomorrow, or due yesterday and still open: tell its owner directly (the
        incident's channel may be archived by now), else the commander, else the channel."""
        kind, _, followup_id = due.row.kind.partition(":")
        found = followup_store.followup(session=session, followup_id=int(followup_id))
        if found is None or found[1].state != "open" or found[1].due_on is None:
            return "skipped"
        incident_id, row = found
        assert row.due_on is not None
        when = "is due tomorrow" if kind == followups.DUE_SOON else "was due yesterday"
        text = (
            f"Follow-up from incident #{incident_id} {when} ({row.due_on.isoformat()}): {row.text}"
        )
        to = row.owner or due.roles.get(row.owner_role or "") or due.roles.get(COMMANDER)
        if to is None:
            self._say(session, due.incident, text, now, kind)
            return "fired"
        entry = Entry(
            EntryKind.FOLLOWUP,
            now,
            text,
            None,
            Source.SYSTEM,
            {"channel_id": due.incident.conversation_id},
        )
        outbox.enqueue(
            session=session,
            lane=lane(due.row.incident_id),
            kind=DIRECT,
            now=now,
            incident_id=due.row.incident_id,
            payload={**line_payload(entry), "user": to},
        )
        return "fired"

    def _drill_alert(self, session: Session, due: Due, now: datetime) -> str:
        if not self._open(due.incident):
            return "skipped"
        return drill_events.simulated_alert(
            session, due.incident, self.playbooks, due.row.kind, due.row.payload, now
        )

    def _drill_acknowledge(self, session: Session, due: Due, now: datetime) -> str:
        """The simulated on-call acknowledges (unless a responder already did)."""
        return self._drill_move(session, due, now, lifecycle.Acknowledge())

    def _drill_mitigate(self, session: Session, due: Due, now: datetime) -> str:
        mitigated = next(s for s in self.catalog.statuses if s.phase is Phase.MITIGATED)
        if self.catalog.status(due.incident.status).phase is not Phase.ACTIVE:
            return "skipped"
        return self._drill_move(session, due, now, lifecycle.ChangeStatus(mitigated.id))

    def _drill_move(
        self, session: Session, due: Due, now: datetime, command: lifecycle.Command
    ) -> str:
        if not due.incident.drill or not self._open(due.incident):
            return "skipped"
        incident = incident_reads.locked(session=session, incident_id=due.row.incident_id)
        assert incident is not None
        try:
            apply_command(
                session,
                self.catalog,
                incident.id,
                command,
                actor=None,
                source=Source.SYSTEM,
                now=now,
            )
        except Refused:
            return "skipped"
        return "fired"

    def _stale_resolved(self, session: Session, due: Due, now: datetime) -> str:
        if self.catalog.status(due.incident.status).phase is not Phase.RESOLVED:
            return "skipped"
        self._say(
            session,
            due.incident,
            "resolved a day ago and still not closed: close it (`/incident close`) or reopen it if it is not over",
            now,
            STALE_RESOLVED,
            to=due.roles.get(COMMANDER),
        )
        return "fired"

    def _stale_open(self, session: Session, due: Due, now: datetime) -> str:
        if not self._open(due.incident):
            return "skipped"
        self._say(
            session,
            due.incident,
            "this incident has been open for a week: resolve it, or lower its severity and track the rest as follow-ups",
            now,
            STALE_OPEN,
            to=due.roles.get(COMMANDER),
        )
        return "fired"

    def _repage(self, session: Session, due: Due, now: datetime) -> str:
        """Still not acknowledged when the page's deadline passes: ask the pager for more
        responders on the open page (an escalation policy's, a team's), and say so in the channel."""
        incident = due.incident
        acknowledged = Milestone.ACKNOWLEDGED in q.milestones(
            session=session, incident_id=due.row.incident_id
        )
        page_id = due.row.payload.get("page_id")
        page = page_store.page(session=session, page_id=page_id) if page_id is not None else None
        if acknowledged or not self._open(incident) or page is None:
            return "skipped"
        minutes = self.catalog.paging.ack_timeout_minutes
        pager = self.paging.get(page.pager)
        target = target_for(self.catalog, self.paging, page.service)
        plan = pager.plan(target, alert_born=False, has_page=True) if pager else None
        again = isinstance(plan, PagePlan) and plan.kind == RESPONDERS
        if pager is not None and isinstance(plan, PagePlan) and again:
            add_page(
                session=session,
                incident=incident,
                pager=pager.kind,
                plan=plan,
                key=f"{page.key}-repage-{due.row.id}",
                now=now,
                service=page.service,
            )
        text = (
            f"not acknowledged {minutes} min after the page: paging {page.service or 'the on-call'} again"
            if again
            else f"not acknowledged {minutes} min after the page, and no one more to page: page by hand with /incident page <service>"
        )
        self._say(session, incident, text, now, REPAGE_TIMER, to=due.roles.get(COMMANDER))
        return "fired"

    def _commander_nudge(self, session: Session, due: Due, now: datetime) -> str:
        if not self._open(due.incident) or COMMANDER in due.roles:
            return "skipped"
        self._say(
            session,
            due.incident,
            "Nobody has taken command yet. Claim it with `/incident commander` or the card's button.",
            now,
            COMMANDER_NUDGE,
        )
        return "fired"
