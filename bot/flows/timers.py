"""The scheduler's timers: status-update reminders to the commander and a nudge when nobody has
taken command. A timer fires inside the transaction that claims it and only writes the database
(the reminder itself is an outbox effect), so a crash before commit leaves it pending and a
commit makes it fired: never lost, never doubled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.catalog import COMMANDER, Catalog, Phase
from bot.core.milestones import Milestone, Source
from bot.core.timeline import Entry, EntryKind
from bot.flows.paging import REPAGE_TIMER, REQUEST_RESPONDERS, PagingDefaults, add_page, target_for
from bot.flows.ports import Clock
from bot.flows.slack_effects import POST_LINE, lane, line_payload
from bot.store import incidents as q
from bot.store import outbox
from bot.store import timers as store
from bot.store.db import Database
from bot.store.models import Incident, PageRow, PlaybookStep, TimerRow

STATUS_UPDATE = "status_update"
COMMANDER_NUDGE = "commander_nudge"
STALE_RESOLVED = "stale_resolved"  # resolved but not closed after a day
STALE_OPEN = "stale_open"  # still open a week after it opened
STALE_RESOLVED_AFTER = timedelta(hours=24)
STALE_OPEN_AFTER = timedelta(days=7)
STEP_DUE = "step"  # kind "step:<playbook_step.id>": one timer per step with a due time


def step_kind(step_id: int) -> str:
    return f"{STEP_DUE}:{step_id}"


def arm_for(
    session: Session,
    catalog: Catalog,
    incident: Incident,
    now: datetime,
    *,
    status_update: bool = True,
) -> None:
    """(Re-)arm what an open incident needs: the status-update reminder at its severity's
    cadence (a status or severity change counts as an update), and the commander nudge while
    nobody is in command."""
    assert incident.id is not None
    minutes = catalog.reminders.status_update.get(incident.severity)
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


def stop_for(session: Session, incident_id: int, now: datetime, *, resolved: bool = False) -> None:
    """Everything stops with the incident; a resolved one is watched for not being closed."""
    store.cancel(session=session, incident_id=incident_id, now=now)
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


@dataclass(frozen=True)
class Due:
    """A claimed timer with what its handler needs, loaded for the whole batch at once."""

    row: TimerRow
    incident: Incident
    roles: dict[str, str]


Handler = Callable[[Session, Due, datetime], str]


class TimerFlows:
    def __init__(
        self, db: Database, catalog: Catalog, clock: Clock, paging: PagingDefaults | None = None
    ) -> None:
        self.paging = paging or PagingDefaults()
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.handlers: dict[str, Handler] = {
            STATUS_UPDATE: self._status_update,
            COMMANDER_NUDGE: self._commander_nudge,
            STEP_DUE: self._step_due,
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

    def _fire(self, session: Session, rows: Sequence[TimerRow], now: datetime) -> None:
        if not rows:
            return
        # Fired first (one UPDATE), so that handlers can arm the next timer of the same kind.
        store.mark_fired(
            session=session, timer_ids=[r.id for r in rows if r.id is not None], now=now
        )
        incident_ids = sorted({r.incident_id for r in rows})
        incidents = q.incidents_by_id(session=session, incident_ids=incident_ids)
        roles = q.roles_by_incident(session=session, incident_ids=incident_ids)
        outcomes: dict[str, list[int]] = {}
        for row in rows:
            incident, handler = (
                incidents.get(row.incident_id),
                self.handlers.get(row.kind.split(":")[0]),
            )
            outcome = (
                "skipped"
                if incident is None or handler is None
                else handler(session, Due(row, incident, roles.get(row.incident_id, {})), now)
            )
            outcomes.setdefault(outcome, []).append(int(row.id or 0))
        for outcome, ids in outcomes.items():
            store.set_outcome(session=session, timer_ids=ids, outcome=outcome)

    def _open(self, incident: Incident) -> bool:
        return self.catalog.status(incident.status).phase in (Phase.ACTIVE, Phase.MITIGATED)

    def _say(
        self,
        session: Session,
        incident: Incident,
        text: str,
        now: datetime,
        kind: str,
        to: str | None = None,
    ) -> None:
        """A reminder line; `to` is the Slack user it is for (rendered as a mention)."""
        assert incident.id is not None
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
        minutes = self.catalog.reminders.status_update.get(incident.severity)
        self._say(
            session,
            incident,
            f"time for a status update — what changed, what's next, when the next update is. (every {minutes} min at {incident.severity})",
            now,
            STATUS_UPDATE,
            to=commander,
        )
        if minutes:
            store.add(
                session=session,
                incident_id=due.row.incident_id,
                kind=STATUS_UPDATE,
                due_at=now + timedelta(minutes=minutes),
                now=now,
            )
        return "fired"

    def _step_due(self, session: Session, due: Due, now: datetime) -> str:
        step = session.get(PlaybookStep, int(due.row.kind.split(":")[1]))
        if step is None or step.state != "open" or not self._open(due.incident):
            return "skipped"
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
        """Still not acknowledged when the page's deadline passes: ask PagerDuty for the
        escalation policy's responders, and say so in the channel."""
        incident = due.incident
        acknowledged = Milestone.ACKNOWLEDGED in q.milestones(
            session=session, incident_id=due.row.incident_id
        )
        page = session.get(PageRow, due.row.payload.get("page_id"))
        if acknowledged or not self._open(incident) or page is None:
            return "skipped"
        minutes = self.catalog.paging.ack_timeout_minutes
        policy = target_for(self.catalog, self.paging, page.service).escalation_policy_id
        if policy:
            add_page(
                session=session,
                incident=incident,
                kind="responders",
                key=f"{page.key}-repage-{due.row.id}",
                target=policy,
                now=now,
                effect=REQUEST_RESPONDERS,
                service=page.service,
            )
        text = (
            f"not acknowledged {minutes} min after the page: paging {page.service or 'the on-call'} again"
            if policy
            else f"not acknowledged {minutes} min after the page, and no escalation policy to page again: page by hand with /incident page <service>"
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
