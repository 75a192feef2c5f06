"""📌 reactions: a pinned message goes on the timeline (its text fetched as an effect); it comes
off when the last person who pinned it removes their reaction."""

from __future__ import annotations

from datetime import datetime

from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_kinds as fx
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incident_reads, outbox, pins as store
from bot.store.pins import PinnedEntry
from bot.store.session import Session

NOT_AN_INCIDENT_WHY = "This channel is not an incident channel."
NOT_AN_INCIDENT_FIX = (
    "Run this in the incident's channel, see open incidents with `/incident list`, "
    "or declare one with `/incident declare`."
)
NOT_AN_INCIDENT = f"{NOT_AN_INCIDENT_WHY} {NOT_AN_INCIDENT_FIX}"


def not_an_incident(what: str) -> Refused:
    """`what` was asked where there is no incident (a channel of no incident, a gone one)."""
    return Refused(Refusal(what, NOT_AN_INCIDENT_WHY, fix=NOT_AN_INCIDENT_FIX))


class PinFlows(UnitOfWork):
    def pin(self, *, channel_id: str, ts: str, actor: str, request_key: str | None) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident_id, existing = _pinned(session, channel_id, ts, "pin a message")
            if existing is not None:  # pinned by one more person
                if actor not in existing.pinned_by:
                    store.record_pinners(
                        session=session,
                        entry_id=existing.id,
                        pinned_by=[*existing.pinned_by, actor],
                    )
                return Outcome(True, "Already on the timeline.", incident_id)
            said_at = _ts_instant(ts, fallback=now).isoformat()
            data = {"channel": channel_id, "ts": ts, "said_at": said_at, "pinned_by": [actor]}
            entry = Entry(EntryKind.PIN, now, "(pinned message)", actor, Source.CHAT, data)
            entry_id = store.record_pin(
                session=session,
                incident_id=incident_id,
                entry=entry,
                key=_key(channel_id, ts),
                now=now,
            )
            payload = {"entry_id": entry_id, "channel": channel_id, "ts": ts}
            outbox.enqueue(
                session=session,
                lane=fx.lane(incident_id),
                kind=fx.FILL_PIN,
                now=now,
                incident_id=incident_id,
                payload=payload,
            )
            return Outcome(True, "Pinned to the timeline.", incident_id)

        return self.run(request_key, work)

    def unpin(self, *, channel_id: str, ts: str, actor: str, request_key: str | None) -> Outcome:
        def work(session: Session, _now: datetime) -> Outcome:
            incident_id, existing = _pinned(session, channel_id, ts, "unpin a message")
            if existing is None:
                return Outcome(True, "Not on the timeline.", incident_id)
            remaining = [u for u in existing.pinned_by if u != actor]
            if remaining:
                store.record_pinners(session=session, entry_id=existing.id, pinned_by=remaining)
                return Outcome(True, "Still pinned by others.", incident_id)
            store.remove_pin(session=session, entry_id=existing.id)
            return Outcome(True, "Removed from the timeline.", incident_id)

        return self.run(request_key, work)


def _key(channel_id: str, ts: str) -> str:
    return f"pin:{channel_id}:{ts}"


def _pinned(
    session: Session, channel_id: str, ts: str, what: str
) -> tuple[int, PinnedEntry | None]:
    incident = incident_reads.locked_by_channel(session=session, channel_id=channel_id)
    if incident is None:
        raise not_an_incident(what)
    return incident.id, store.pinned_entry(
        session=session, incident_id=incident.id, key=_key(channel_id, ts)
    )


def _ts_instant(ts: str, *, fallback: datetime) -> datetime:
    """A message's ts (the chat's id for it) is its Unix time: when the pinned message was said."""
    try:
        return datetime.fromtimestamp(float(ts), tz=fallback.tzinfo)
    except (ValueError, OverflowError, OSError):
        return fallback
