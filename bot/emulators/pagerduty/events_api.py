"""Events API v2 (``POST /v2/enqueue``): validation with PagerDuty's wording, alert
de-duplication, and the incidents events open, acknowledge and resolve.

PagerDuty processes events asynchronously after answering 202; the emulator processes them
before answering, so the incident exists (and its webhooks went out) when the client returns.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from . import incidents
from .records import JSON, Agent, Integration, iso
from .state import Account

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_MAX = 1024
DEDUP_MAX = 255
_ALNUM = re.compile(r"[A-Za-z0-9]*")


class EventError(Exception):
    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def _invalid(errors: list[str]) -> EventError:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return EventError(400, body)


def parse(raw: bytes) -> JSON:
    """The event object, or the "Unrecognized object" answer for a body that is not one."""
    try:
        data: Any = json.loads(raw or b"")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        body = {
            "status": "Unrecognized object",
            "message": "Event object format is unrecognized",
            "errors": ["JSON parse error"],
        }
        raise EventError(400, body)
    return data


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate(acct: Account, event: JSON) -> Integration:
    """Collects every problem like PagerDuty does (one 400 lists them all)."""
    errors: list[str] = []
    key = event.get("routing_key")
    if _blank(key) or not isinstance(key, str):
        errors.append("'routing_key' is missing or blank")
        key = None
    else:
        if len(key) != 32:
            errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        if not _ALNUM.fullmatch(key):
            errors.append("'routing_key' cannot contain non-alphanumeric characters.")
    action = event.get("event_action")
    if _blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and not isinstance(dedup, str):
        errors.append("'dedup_key' must be a string")
    elif isinstance(dedup, str) and len(dedup) > DEDUP_MAX:
        errors.append(f"'dedup_key' is too long (maximum is {DEDUP_MAX} characters)")
    if action in ("acknowledge", "resolve") and _blank(dedup):
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    integration = acct.integration_for_key(key) if key and not errors else None
    if not errors and integration is None:
        errors.append("Invalid routing key")
    if errors or integration is None:
        raise _invalid(errors)
    return integration


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or blank"]
    errors = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source", "severity")
        if _blank(payload.get(name))
    ]
    severity = payload.get("severity")
    if not _blank(severity) and severity not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of: " + ", ".join(SEVERITIES) + ")"
        )
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > SUMMARY_MAX:
        errors.append(f"'payload.summary' is too long (maximum is {SUMMARY_MAX} characters)")
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict | list | str | int | float | bool):
        errors.append("'payload.custom_details' is invalid")
    return errors


def apply(acct: Account, integration: Integration, event: JSON) -> JSON:
    """Runs a valid event; returns the 202 answer."""
    action = str(event["event_action"])
    dedup = event.get("dedup_key") or uuid.uuid4().hex
    service_id = integration.service_id
    agent: Agent = ("service", service_id)
    client_name = event.get("client")
    client: JSON | None = {"name": client_name} if isinstance(client_name, str) else None
    raw_payload = event.get("payload")
    payload: JSON = raw_payload if isinstance(raw_payload, dict) else {}
    channel: JSON = {
        "type": "api",
        "summary": payload.get("summary"),
        "details": payload.get("custom_details"),
        "client": client_name,
        "client_url": event.get("client_url"),
    }
    inc = acct.open_incident_with_key(service_id, dedup)
    if action == "trigger":
        if inc is None:
            inc = incidents.create(
                acct,
                service_id=service_id,
                title=str(payload["summary"]),
                agent=agent,
                channel=channel,
                incident_key=dedup,
                origin="events",
                client=client,
            )
        else:  # same alert: a new trigger log entry, no new incident or notification
            incidents.log_trigger(acct, inc, agent, channel)
    elif inc is not None and action == "acknowledge":
        if inc.status == "triggered":
            incidents.acknowledge(acct, inc, agent, channel, client)
    elif inc is not None and action == "resolve":
        incidents.resolve(acct, inc, agent, channel, client)
    record = dict(event)
    record.update(
        {
            "dedup_key": dedup,
            "received_at": iso(acct.clock.now()),
            "service_id": service_id,
            "incident_id": inc.id if inc is not None else None,  # None: dropped
        }
    )
    acct.events.append(record)
    return {"status": "success", "message": "Event processed", "dedup_key": dedup}
