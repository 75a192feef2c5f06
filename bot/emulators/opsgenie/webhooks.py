"""The outgoing Webhook integration: Opsgenie → the bot.

Payloads as Opsgenie documents them ("Alert action data"): ``{"source": {"name", "type"},
"alert": {...}, "action": "Acknowledge", "integrationId", "integrationName"}`` where
``alert.createdAt`` is epoch milliseconds and ``alert.updatedAt`` epoch *nanoseconds* (the time
of the action), ``alert.username`` the user who acted (an email) and ``alert.userId`` theirs;
``AddNote`` carries ``alert.note``, ``AssignOwnership`` ``alert.owner``; ``Escalate`` is its own
shape (``escalationId``, ``escalationName``, ``escalationNotify``, ``alert: {alertId}``). The
integration's custom headers (``Authorization: Bearer …``) go with every post.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .state import JSON, Action

TIMEOUT_S = 5.0


@dataclass
class Integration:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    actions: frozenset[str] | None = None  # None: every action
    add_description: bool = True  # "Add Alert Description to Payload"
    add_details: bool = True  # "Add Alert Details to Payload"
    id: str = "a3b9e1f4-2c1d-4e5f-9a7b-0c1d2e3f4a5b"
    name: str = "incidentbot webhook"


@dataclass
class Delivery:
    url: str
    action: str
    body: bytes
    headers: dict[str, str]
    status: int  # 0: no HTTP answer (``error`` says why)
    response: str
    error: str | None

    @property
    def payload(self) -> JSON:
        data: JSON = json.loads(self.body)
        return data


def payload(action: Action, integration: Integration) -> JSON:
    alert = action.alert
    if action.action == "Escalate":
        return {
            "action": "Escalate",
            "alert": {"alertId": alert.id},
            "escalationId": action.extra.get("escalationId", ""),
            "escalationName": action.extra.get("escalationName", ""),
            "escalationNotify": action.extra.get("escalationNotify", {}),
            "escalationTime": action.extra.get("escalationTime", 0),
            "repeatCount": action.extra.get("repeatCount", 0),
            "integrationId": integration.id,
            "integrationName": integration.name,
        }
    data: JSON = {
        "updatedAt": round(action.at * 1_000_000) * 1000,  # nanoseconds
        "tags": list(alert.tags),
        "message": alert.message,
        "username": action.username,
        "alertId": alert.id,
        "source": alert.source,
        "alias": alert.alias,
        "tinyId": alert.tiny_id,
        "createdAt": round(alert.created_at * 1000),  # milliseconds
        "userId": action.user_id,
        "entity": alert.entity,
        "priority": alert.priority,
    }
    if action.action == "Create":
        data["teams"] = [r.get("id", "") for r in alert.responders if r.get("type") == "team"]
        data["recipients"] = [r.get("id") or r.get("name", "") for r in alert.responders]
    if action.note is not None:
        data["note"] = action.note
    if action.owner is not None:
        data["owner"] = action.owner
    if integration.add_description:
        data["description"] = alert.description
    if integration.add_details:
        data["details"] = dict(alert.details)
    return {
        "source": {"name": action.source_name, "type": action.source_type},
        "alert": data,
        "action": action.action,
        "integrationId": integration.id,
        "integrationName": integration.name,
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def deliver(action: Action, integration: Integration) -> Delivery | None:
    """Posts one action to the integration's URL (None: the integration skips this action)."""
    if integration.actions is not None and action.action not in integration.actions:
        return None
    body = json.dumps(payload(action, integration)).encode()
    headers = {"Content-Type": "application/json", **integration.headers}
    request = urllib.request.Request(integration.url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            status, text, error = response.status, response.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as exc:
        status, text, error = exc.code, exc.read().decode("utf-8", "replace"), None
    except (urllib.error.URLError, OSError) as exc:
        status, text, error = 0, "", str(exc)
    return Delivery(integration.url, action.action, body, headers, status, text, error)
