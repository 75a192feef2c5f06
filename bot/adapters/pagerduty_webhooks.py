"""PagerDuty Webhooks v3 in: signature check and parsing into the Pager port's `PagerEvent`."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.milestones import instant_problem
from bot.flows.ports import PagerEvent


class WebhookPayloadError(ValueError):
    pass


# PagerDuty's object ids are short and alphanumeric ("PABC123"); ours go into API paths and
# database columns, so anything else is refused (an incident) or ignored (an agent).
_PD_ID = re.compile(r"[A-Za-z0-9]{1,32}")
MAX_EVENT_ID = 128  # PagerDuty's are 26-character ULIDs

# PagerDuty's event types: those that move the incident, and those the timeline only notes.
ACTIONS = {
    "incident.triggered": "triggered",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
    "incident.reopened": "reopened",
}
NOTES = {
    "incident.unacknowledged": "acknowledgement timed out, the incident is unacknowledged again",
    "incident.escalated": "escalated",
    "incident.reassigned": "reassigned",
    "incident.responder.added": "responder added",
    "incident.responder.replied": "a responder replied",
    "incident.delegated": "delegated to another service",
    "incident.priority_updated": "priority changed",
}


def signature_ok(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """`X-PagerDuty-Signature` holds one `v1=<hex HMAC-SHA256>` per active secret (two while a
    secret rotates); any match with any of our secrets is enough. Constant-time compares."""
    if not header or not secrets:
        return False
    given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    expected = [hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in secrets]
    found = False
    for theirs in given:
        for ours in expected:
            found |= hmac.compare_digest(theirs.encode(), ours.encode())
    return found


def parse_event(payload: Any) -> PagerEvent:
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict):
        raise WebhookPayloadError('expected a PagerDuty v3 webhook: {"event": {...}}')
    data = event.get("data")
    problems = [
        f"event.{key} is missing"
        for key in ("id", "event_type")
        if not isinstance(event.get(key), str)
    ]
    if isinstance(event.get("id"), str) and not 0 < len(event["id"]) <= MAX_EVENT_ID:
        problems.append(f"event.id must be 1 to {MAX_EVENT_ID} characters")
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        problems.append("event.data.id is missing")
    elif not _PD_ID.fullmatch(data["id"]):
        problems.append("event.data.id is not a PagerDuty id")
    if problems:
        raise WebhookPayloadError("; ".join(problems))
    assert isinstance(data, dict)
    agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
    assert isinstance(agent, dict)
    event_type = str(event["event_type"])
    note = NOTES.get(event_type)
    return PagerEvent(
        pager="PagerDuty",
        id=str(event["id"]),
        # an event type the bot does not use passes as is (the flows say it is not used)
        action=ACTIONS.get(event_type) or ("note" if note else event_type),
        page_id=str(data["id"]),
        page_key=_str(data.get("incident_key")),
        url=_str(data.get("html_url")),
        agent_id=_pd_id(agent.get("id"))
        if agent.get("type", "user_reference") == "user_reference"
        else None,
        agent_email=None,  # PagerDuty's agent reference carries no email: the pager is asked
        agent_name=_str(agent.get("summary")),
        note=note,
        occurred_at=_instant(event.get("occurred_at")),
    )


def _instant(value: Any) -> datetime | None:
    """`occurred_at` (ISO 8601, e.g. `2020-10-02T18:45:22.169Z`); anything unreadable, without a
    zone or out of range is None, and the event is then stamped at receipt."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if instant_problem(at) is None else None


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _pd_id(value: Any) -> str | None:
    text = _str(value)
    return text if text is not None and _PD_ID.fullmatch(text) else None
