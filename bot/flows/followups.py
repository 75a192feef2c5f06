"""Follow-up actions: recorded during (or after) an incident, listed with owners and state,
reminded to their owner the day before they are due and the day after they were due, and
exported to the tracker with the post-mortem. They outlive the incident: closing it keeps their timers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows.chat_kinds import announce_entry
from bot.flows.pins import not_an_incident
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import followups as store, incident_reads, timers as timer_store
from bot.store.read_models import FollowupItem, IncidentSummary
from bot.store.session import Session

DUE_SOON = "followup_due"  # kind "followup_due:<id>": the day before it is due
OVERDUE = "followup_overdue"  # kind "followup_overdue:<id>": the day after it was due
KINDS = (DUE_SOON, OVERDUE)
REMIND_AT = time(9, 0, tzinfo=UTC)  # reminders go out at 09:00 UTC


def reminder_times(due_on: date) -> dict[str, datetime]:
    return {
        DUE_SOON: datetime.combine(due_on - timedelta(days=1), REMIND_AT),
        OVERDUE: datetime.combine(due_on + timedelta(days=1), REMIND_AT),
    }


def add(
    session: Session,
    incident_id: int,
    *,
    text: str,
    owner: str | None,
    due_on: date | None,
    actor: str | None,
    source: str,
    now: datetime,
    permalink: str | None = None,
) -> FollowupItem:
    """Record a follow-up (its line in the channel, its reminders armed), in the caller's transaction."""
    if due_on is not None and due_on < now.astimezone(UTC).date():
        why = f"{due_on.isoformat()} is in the past."
        raise Refused(Refusal("add a follow-up", why, fix="Give a due date from today on."))
    row = store.record_followup(
        session=session,
        incident_id=incident_id,
        text=text.strip(),
        owner=owner,
        due_on=due_on,
        created_by=actor,
        now=now,
        source=source,
        permalink=permalink,
    )
    for kind, at in (reminder_times(due_on) if due_on else {}).items():
        if at > now:
            timer_store.arm(
                session=session,
                incident_id=incident_id,
                kind=f"{kind}:{row.id}",
                due_at=at,
                now=now,
            )
    entry = Entry(
        EntryKind.FOLLOWUP,
        now,
        f"Follow-up: {row.text}",
        actor,
        Source.CHAT if actor else Source.SYSTEM,
        {
            "followup": row.id,
            "owner": owner,
            "due_on": due_on.isoformat() if due_on else None,
        },
    )
    announce_entry(session, incident_id, entry, now)
    return row


class FollowupFlows(UnitOfWork):
    def add_followup(
        self,
        *,
        channel_id: str,
        text: str,
        owner: str | None,
        due_on: date | None,
        actor: str,
        request_key: str | None,
        source: str = "chat",
        permalink: str | None = None,
    ) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident = incident_reads.locked_by_channel(session=session, channel_id=channel_id)
            if incident is None:
                raise not_an_incident("add a follow-up")
            row = add(
                session,
                incident.id,
                text=text,
                owner=owner,
                due_on=due_on,
                actor=actor,
                source=source,
                now=now,
                permalink=permalink,
            )
            return Outcome(True, f"Follow-up #{row.id} recorded.", incident.id)

        return self.run(request_key, work)

    def followups(self, channel_id: str) -> tuple[IncidentSummary, list[FollowupItem]]:
        """The incident of a channel and its follow-ups, oldest first (Refused elsewhere)."""
        with self.db.read() as session:
            incident = incident_reads.summary_by_conversation(
                session=session, conversation_id=channel_id
            )
            if incident is None:
                raise not_an_incident("list the follow-ups")
            return incident, store.followups_of(session=session, incident_id=incident.id)

    def set_followup_state(
        self, *, followup_id: int, done: bool, actor: str, request_key: str | None
    ) -> Outcome:
        what = "mark a follow-up done" if done else "reopen a follow-up"

        def work(session: Session, now: datetime) -> Outcome:
            found = store.followup(session=session, followup_id=followup_id)
            if found is None:
                raise Refused(Refusal(what, "That follow-up no longer exists."))
            incident_id, row = found
            state = "done" if done else "open"
            if row.state == state:
                raise Refused(Refusal(what, f"Follow-up #{row.id} is already {state}."))
            store.record_followup_state(session=session, followup_id=row.id, state=state, now=now)
            if done:
                timer_store.cancel(
                    session=session,
                    incident_id=incident_id,
                    now=now,
                    kinds=[f"{kind}:{row.id}" for kind in KINDS],
                )
            verb = "done" if done else "reopened"
            entry = Entry(
                EntryKind.FOLLOWUP,
                now,
                f"Follow-up {verb}: {row.text}",
                actor,
                Source.CHAT,
                {"followup": row.id, "state": state},
            )
            announce_entry(session, incident_id, entry, now)
            return Outcome(True, f"Follow-up #{row.id} {verb}.", incident_id)

        return self.run(request_key, work)
