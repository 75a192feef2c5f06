"""📌 reactions: a pinned message goes on the timeline (its text fetched as an effect); it comes
off when the last person who pinned it removes their reaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_effects as fx
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import incidents as q, outbox
from bot.store.models import TimelineRow

NOT_AN_INCIDENT = (
    "This channel is not an incident channel. Run this in the incident's channel, "
    "see open incidents with `/incident list`, or declare one with `/incident declare`."
)


class PinFlows(UnitOfWork):
    def pin(self, *, channel_id: str, ts: str, actor: str, request_key: str | None) -> Outcome:
        def work(session: Session, now: datetime) -> Outcome:
            incident_id, existing = _pinned(session, channel_id, ts)
            if existing is not None:  # pinned by one more person
                pinned_by = list(existing.data.get("pinned_by", []))
                if actor not in pinned_by:
                    existing.data = {**existing.data, "pinned_by": [*pinned_by, actor]}
                    session.add(existing)
                return Outcome(True, "Already on the timeline.", incident_id)
            said_at = _ts_instant(ts, fallback=now).isoformat()
            data = {"channel": channel_id, "ts": ts, "said_at": said_at, "pinned_by": [actor]}
            entry = Entry(EntryKind.PIN, now, "(pinned message)", actor, Source.CHAT, data)
            (row,) = q.add_entries(
                session=session,
                incident_id=incident_id,
                entries=[entry],
                now=now,
                dedup_key=_key(channel_id, ts),
            )
            payload = {"entry_id": row.id, "channel": channel_id, "ts": ts}
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
            incident_id, existing = _pinned(session, channel_id, ts)
            if existing is None:
                return Outcome(True, "Not on the timeline.", incident_id)
            remaining = [u for u in existing.data.get("pinned_by", []) if u != actor]
            if remaining:
                existing.data = {**existing.data, "pinned_by": remaining}
                session.add(existing)
                return Outcome(True, "Still pinned by others.", incident_id)
            session.delete(existing)
            return Outcome(True, "Removed from the timeline.", incident_id)

        return self.run(request_key, work)


def _key(channel_id: str, ts: str) -> str:
    return f"pin:{channel_id}:{ts}"


def _pinned(session: Session, channel_id: str, ts: str) -> tuple[int, TimelineRow | None]:
    incident = q.incident_by_channel(session=session, channel_id=channel_id, for_update=True)
    if incident is None or incident.id is None:
        raise Refused(NOT_AN_INCIDENT)
    return incident.id, q.timeline_entry_by_key(
        session=session, incident_id=incident.id, dedup_key=_key(channel_id, ts)
    )


def _ts_instant(ts: str, *, fallback: datetime) -> datetime:
    """A message's ts (the chat's id for it) is its Unix time: when the pinned message was said."""
    try:
        return datetime.fromtimestamp(float(ts), tz=fallback.tzinfo)
    except (ValueError, OverflowError, OSError):
        return fallback
