"""Where an incident stands on the chat surface: its conversation, its card's message and the
topic set there, its announcement in the feed. Read by the chat's effects as a `ChatIncident`
and recorded as they land, each record one UPDATE (its effect is done once it is stored).
Keyword-only `session=`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlmodel import Session

from bot.store import incidents as q
from bot.store.incident_reads import summary_of
from bot.store.models import Incident
from bot.store.read_models import IncidentSummary


@dataclass(frozen=True)
class ChatIncident(IncidentSummary):
    """An incident with what the chat shows of it beyond its conversation (None: not yet)."""

    topic: str | None = None  # the conversation's topic as last set
    card_message_id: str | None = None  # the card, in the conversation
    announce_conversation_id: str | None = None  # the feed the announcement went to
    announce_message_id: str | None = None


def chat_incident(*, session: Session, incident_id: int) -> ChatIncident | None:
    row = q.get_incident(session=session, incident_id=incident_id)
    return None if row is None else _chat_incident(row)


def record_conversation(
    *,
    session: Session,
    incident_id: int,
    conversation_id: str,
    conversation_name: str,
    chat_surface: str,
) -> ChatIncident | None:
    """The conversation opened for the incident on the chat surface `chat_surface` (its kind);
    the incident as it is now, from the same statement (None: there is no such incident)."""
    row = q.set_and_read(
        session=session,
        incident_id=incident_id,
        conversation_id=conversation_id,
        conversation_name=conversation_name,
        chat_surface=chat_surface,
    )
    return None if row is None else _chat_incident(row)


def record_in_conversation(
    *,
    session: Session,
    incident_id: int,
    topic: str | None = None,
    card_message_id: str | None = None,
) -> None:
    """The topic set in the incident's conversation and the card posted there (None: as
    recorded)."""
    values: dict[str, Any] = {}
    if topic is not None:
        values["topic"] = topic
    if card_message_id is not None:
        values["card_message_id"] = card_message_id
    if values:
        q.set_fields(session=session, incident_id=incident_id, **values)


def record_announced(
    *,
    session: Session,
    incident_id: int,
    conversation_id: str,
    message_id: str,
    chat_surface: str,
) -> None:
    """The incident announced: the feed's conversation (as the surface `chat_surface` names it)
    and the message."""
    q.set_fields(
        session=session,
        incident_id=incident_id,
        announce_conversation_id=conversation_id,
        announce_message_id=message_id,
        chat_surface=chat_surface,
    )


def _chat_incident(row: Incident) -> ChatIncident:
    summary = summary_of(row)
    return ChatIncident(
        **{f.name: getattr(summary, f.name) for f in fields(summary)},
        topic=row.topic,
        card_message_id=row.card_message_id,
        announce_conversation_id=row.announce_conversation_id,
        announce_message_id=row.announce_message_id,
    )
