"""Opsgenie's outgoing Webhook integration in: its payloads ("Alert action data") parsed into
the port's `PagerEvent`.

``{"action": "Acknowledge", "alert": {"alertId", "alias", "username", "userId", "updatedAt",
"createdAt", "note"…}, "source": {"name", "type"}, "integrationId", "integrationName"}``.
``alert.updatedAt`` is the action's time in epoch nanoseconds (``createdAt`` is the alert's,
in milliseconds); ``Escalate`` has its own shape and no time. Opsgenie gives a delivery no id:
ours is the action, the alert and that time, so a redelivery of the same action is the same
event (without a time, a digest of the payload).

The integration also tells of what the bot itself did through the API (its acknowledgements,
closes, responders and notes, made as the user ``incidentbot``): those echoes are ignored, as
the bot already knows; only its ``Create`` is kept (it carries the alert's id)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.core.milestones import instant_problem
from bot.flows.ports import PagerEvent

from .pager import ACTOR

PAGER = "Opsgenie"
MAX_ID = 100  # Opsgenie's alert ids are UUIDs (sometimes with a "-<epoch ms>" suffix)
MAX_ALIAS = 512
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

# Opsgenie's action → the port's action ("note" ones say what the timeline shows)
ACTIONS = {
    "Create": "triggered",
    "Acknowledge": "acknowledged",
    "UnAcknowledge": "reopened",
    "Close": "resolved",
    "AddNote": "note",
    "Escalate": "note",
    "AssignOwnership": "note",
    "TakeOwnership": "note",
    "AddResponder": "note",
    "AddTeam": "note",
}


class WebhookPayloadError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_event(payload: Any) -> PagerEvent | None:
    """The event, or None for an action the bot does not follow or that the bot itself made
    (answered 200, ignored)."""
    if not isinstance(payload, dict):
        raise WebhookPayloadError(["expected an Opsgenie webhook: a JSON object with an action"])
    action = payload.get("action")
    alert = payload.get("alert")
    problems = []
    if not isinstance(action, str) or not action:
        problems.append("action is missing")
    if not isinstance(alert, dict):
        problems.append("alert is missing")
    elif not isinstance(alert.get("alertId"), str) or not _ID.fullmatch(alert["alertId"]):
        problems.append("alert.alertId is missing or not an Opsgenie id")
    elif alert.get("alias") is not None and not (
        isinstance(alert["alias"], str) and len(alert["alias"]) <= MAX_ALIAS
    ):
        problems.append(f"alert.alias must be a string of at most {MAX_ALIAS} characters")
    if problems:
        raise WebhookPayloadError(problems)
    assert isinstance(action, str) and isinstance(alert, dict)
    ours = ACTIONS.get(action)
    username = _text(alert.get("username"))
    if ours is None or (username == ACTOR and action != "Create"):
        return None  # not followed, or the bot's own action told back
    updated = alert.get("updatedAt")
    return PagerEvent(
        pager=PAGER,
        id=_event_id(action, alert["alertId"], updated, payload),
        action=ours,
        page_id=alert["alertId"],
        page_key=_text(alert.get("alias")),
        url=None,
        agent_id=_agent_id(alert.get("userId")),
        agent_email=username if username and "@" in username else None,
        agent_name=username,
        note=_note(action, alert, payload),
        occurred_at=_instant(updated),
    )


def _event_id(action: str, alert_id: str, updated: Any, payload: dict[str, Any]) -> str:
    if isinstance(updated, int) and not isinstance(updated, bool):
        return f"{action}:{alert_id}:{updated}"
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
    return f"{action}:{alert_id}:{digest}"


def _instant(value: Any) -> datetime | None:
    """``updatedAt``: epoch nanoseconds (milliseconds or seconds are read too, by size); None
    when absent, unreadable or out of the sane range (the event is then stamped at receipt)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    for scale in (1e9, 1e6, 1e3, 1.0):  # ns, µs, ms, s: the first that lands after 2001
        if value / scale >= 1e9:
            try:
                at = datetime.fromtimestamp(value / scale, UTC)
            except (OverflowError, OSError, ValueError):
                return None
            return at if instant_problem(at) is None else None
    return None


def _note(action: str, alert: dict[str, Any], payload: dict[str, Any]) -> str | None:
    match action:
        case "AddNote":
            return f"note: {_text(alert.get('note')) or ''}".strip()[:1000]
        case "Escalate":
            name = _text(payload.get("escalationName"))
            notify = payload.get("escalationNotify")
            who = _text(notify.get("name")) if isinstance(notify, dict) else None
            return "escalated" + (f" ({name})" if name else "") + (f" to {who}" if who else "")
        case "AssignOwnership":
            owner = _text(alert.get("owner"))
            return f"assigned to {owner}" if owner else "ownership assigned"
        case "TakeOwnership":
            return "ownership taken"
        case "AddResponder" | "AddTeam":
            return "responder added"
    return None


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


def _agent_id(value: Any) -> str | None:
    text = _text(value)
    return text if text is not None and _ID.fullmatch(text) else None
