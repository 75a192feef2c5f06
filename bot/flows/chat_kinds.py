"""What the chat's effects are called and where they queue: their kinds, an incident's lanes,
and putting a timeline entry in the channel from any flow's transaction (`announce_entry`). The
handlers that deliver them are `chat_effects.ChatEffects`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.timeline import Entry
from bot.flows.conversation_opening import OPEN_CHANNEL
from bot.store import incidents as q, outbox
from bot.store.session import Session

ANNOUNCE = "chat.announce"
REFRESH = "chat.refresh"
POST_LINE = "chat.post_line"
FILL_PIN = "chat.fill_pin"
NOTICE = "chat.notice"
INVITE = "chat.invite"
PROPOSE_MITIGATION = "chat.propose_mitigation"
CHECKLIST = "chat.checklist"
ARCHIVE = "chat.archive"  # the incident channel, once the post-mortem is exported
DIRECT = "chat.direct"  # a direct message to one person (follow-up reminders)
STEP_ACTION = "chat.step_action"  # a playbook step inviting or posting (step_effects)

NO_CHANNEL = "no_channel"  # the channel could not be created (already reported): nothing to post to


# what each effect does, as a notice of a given-up one says it
DESCRIPTIONS = {
    OPEN_CHANNEL: "create the incident channel",
    ANNOUNCE: "announce the incident",
    REFRESH: "update the incident card",
    POST_LINE: "post an update",
    INVITE: "invite someone to the channel",
    PROPOSE_MITIGATION: "propose the mitigation time",
    CHECKLIST: "post the playbook checklist",
    STEP_ACTION: "do an automated playbook step",
    DIRECT: "send a direct message",
    ARCHIVE: "archive the incident channel",
    FILL_PIN: "fetch a pinned message",
}


def lane(incident_id: int | str) -> str:
    """The lane of an incident's chat effects: they land in the order they were made."""
    return f"chat:{incident_id}"


def notice_lane(incident_id: int) -> str:
    """Reports of given-up effects: a lane of their own, so a held chat lane cannot hold them."""
    return f"chat-notice:{incident_id}"


def line_payload(entry: Entry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "text": entry.text,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
        "data": entry.data,
    }


def announce_entry(session: Session, incident_id: int, entry: Entry, now: datetime) -> None:
    """Put an entry on the timeline and its line in the channel (card refreshed), in the caller's transaction."""
    q.add_entries(session=session, incident_id=incident_id, entries=[entry], now=now)
    outbox.enqueue(
        session=session,
        lane=lane(incident_id),
        kind=POST_LINE,
        now=now,
        incident_id=incident_id,
        payload=line_payload(entry),
    )
    outbox.enqueue(
        session=session,
        lane=lane(incident_id),
        kind=REFRESH,
        now=now,
        incident_id=incident_id,
        coalesce=True,
    )
