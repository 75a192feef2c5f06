"""Opening an incident's conversation (its channel) exactly once, though the chat surface
takes no idempotency key for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.naming import channel_name
from bot.flows.ports import Chat, IntegrationError, NameTaken
from bot.store import incident_reads, outbox
from bot.store.db import Database
from bot.store.read_models import QueuedEffect

OPEN_CHANNEL = "chat.open_channel"
MAX_NAME_ATTEMPTS = 50


class Asked(Protocol):
    """What asking for an incident's channel takes (the incident's row has it)."""

    @property
    def id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def private(self) -> bool: ...
    @property
    def drill(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...


class ChannelEffect(QueuedEffect, Protocol):
    """What opening the channel reads of its effect's row (the runner's), and the name being
    tried, which it notes on it."""

    payload: dict[str, Any]

    @property
    def last_error(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


def first_name(incident: Asked, declared: datetime | None) -> str:
    """The name the channel is tried under first (noted on the effect when it is enqueued)."""
    day = declared or incident.created_at
    return channel_name(incident.title, day, prefix="drill" if incident.drill else "inc")


def create_channel(
    db: Database,
    chat: Chat,
    row: ChannelEffect,
    incident: Asked,
    declared: Callable[[], datetime | None],
) -> tuple[str, str]:
    """Create the channel under the first free name; returns its id and name.

    The name being tried is noted on the effect first (on its first attempt, the name noted
    when it was enqueued is tried at once: nothing is read or written before the surface is
    asked). If an attempt ended without the surface's answer (a timeout, a 5xx after it did the
    work), the retry finds that name taken and adopts the channel when the bot made it and no
    other incident owns or is trying it, instead of opening a second channel `-2`. `declared`:
    when the incident was declared, which dates the names (read only when a name is computed)."""
    assert row.id is not None and incident.id is not None
    prefix = "drill" if incident.drill else "inc"
    noted = row.payload.get("trying")
    unanswered = noted if row.attempts > 1 else None
    day: datetime | None = None
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        if attempt == 1 and row.attempts == 1 and noted:
            name = str(noted)
        else:
            if day is None:
                day = declared() or incident.created_at
            name = channel_name(incident.title, day, prefix=prefix, attempt=attempt)
        if name != row.payload.get("trying"):
            with db.transaction() as session:
                outbox.note(session=session, row_id=row.id, trying=name)
            row.payload = {**row.payload, "trying": name}
        try:
            return chat.create_channel(name, private=incident.private), name
        except NameTaken:
            if name == unanswered:
                found = chat.own_channel(name)
                if found is not None and _nobody_else_has(db, found, name, incident.id):
                    return found, name
    raise IntegrationError(
        "chat", "name_taken", retryable=False, detail=f"{MAX_NAME_ATTEMPTS} names tried"
    )


def _nobody_else_has(db: Database, channel_id: str, name: str, incident_id: int) -> bool:
    with db.read() as session:
        if (
            incident_reads.summary_by_conversation(session=session, conversation_id=channel_id)
            is not None
        ):
            return False
        return not any(
            other.incident_id != incident_id and other.payload.get("trying") == name
            for other in outbox.pending_of_kind(session=session, kind=OPEN_CHANNEL)
        )


def channel_asked(incident: Asked) -> dict[str, Any]:
    """The channel effect's payload: the name it is tried under first, and what asking for it
    takes, so that its first run asks before reading anything (`first_run`)."""
    return {
        "trying": first_name(incident, None),
        "title": incident.title,
        "private": incident.private,
        "drill": incident.drill,
    }


@dataclass(frozen=True)
class _Asked:
    id: int | None
    title: str
    private: bool
    drill: bool
    created_at: datetime


def first_run(row: ChannelEffect) -> Asked | None:
    """What the channel is asked for with, from the effect alone, when this is its first run:
    one attempt and no error means no run before it (a paced run gives its attempt back but
    leaves its error; a run cut off leaves its attempt), so no channel was made yet. None:
    read the incident."""
    payload = row.payload
    if row.attempts != 1 or row.last_error is not None or "private" not in payload:
        return None
    return _Asked(
        id=row.incident_id,
        title=payload["title"],
        private=payload["private"],
        drill=payload["drill"],
        created_at=row.created_at,  # the incident's, in the transaction that enqueued it
    )
