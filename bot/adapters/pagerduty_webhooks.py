"""PagerDuty Webhooks v3 in: signature check and parsing into a plain event."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.milestones import instant_problem
from bot.flows.ports import PagerDutyEvent


class WebhookPayloadError(ValueError):
    pass


# PagerDuty's object ids are short and alphanumeric ("PABC123"); ours go into API paths and
# database columns, so anything else is refused (an incident) or ignored (an agent).
_PD_ID = re.compile(r"[A-Za-z0-9]{1,32}")
MAX_EVENT_ID = 128  # PagerDuty's are 26-character ULIDs


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


def parse_event(payload: Any) -> PagerDutyEvent:
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
    return PagerDutyEvent(
        id=str(event["id"]),
        event_type=str(event["event_type"]),
        incident_id=str(data["id"]),
        incident_key=_str(data.get("incident_key")),
        html_url=_str(data.get("html_url")),
        status=_str(data.get("status")),
        agent_id=_pd_id(agent.get("id"))
        if agent.get("type", "user_reference") == "user_reference"
        else None,
        agent_name=_str(agent.get("summary")),
        title=_str(data.get("title")),
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
