"""REST API v2 incident endpoints: create, list, get, update (one or many), responder
requests, notes, log entries. Writes act as the user named by the ``From`` header."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import incidents, shapes
from .incidents import API
from .records import JSON, Agent, Incident
from .rest import Ctx, paginate, route
from .state import ApiError, invalid

STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")


def _ref_id(value: Any, what: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise invalid(f"{what} must be a reference with an id")
    return str(value["id"])


def _assignees(ctx: Ctx, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid("Assignments must be a non-empty array")
    users = []
    for item in value:
        uid = _ref_id(item.get("assignee") if isinstance(item, dict) else None, "Assignee")
        if uid not in ctx.acct.users:
            raise ApiError(400, "Assigned To User Not Found", 1007)
        users.append(uid)
    return users


def _priority(ctx: Ctx, value: Any) -> str | None:
    if value is None:
        return None
    pid = _ref_id(value, "Priority")
    if pid not in ctx.acct.priorities:
        raise ApiError(400, "Invalid Priority", 1020)
    return pid


def _policy(ctx: Ctx, value: Any) -> str:
    pid = _ref_id(value, "Escalation policy")
    if pid not in ctx.acct.policies:
        raise ApiError(400, "Escalation Policy Not Found", 1014)
    return pid


@route("POST", "/incidents")
def create_incident(ctx: Ctx) -> tuple[int, JSON]:
    user = ctx.from_user()
    body = ctx.wrapped("incident")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Title cannot be empty")
    service_id = _ref_id(body.get("service"), "Service")
    if service_id not in ctx.acct.services:
        raise invalid("Service not found")
    urgency = body.get("urgency", "high")
    if urgency not in URGENCIES:
        raise invalid("Urgency must be one of high, low")
    if body.get("escalation_policy") is not None and body.get("assignments") is not None:
        raise invalid("Only one of escalation_policy or assignments may be provided")
    policy = _policy(ctx, body["escalation_policy"]) if body.get("escalation_policy") else None
    assignees = _assignees(ctx, body["assignments"]) if body.get("assignments") else None
    priority = _priority(ctx, body.get("priority"))
    key = body.get("incident_key")
    if key is not None and not isinstance(key, str):
        raise invalid("Incident key must be a string")
    if key and ctx.acct.open_incident_with_key(service_id, key) is not None:
        raise ApiError(
            400,
            "Arguments Caused Error",
            2002,
            ["Open incident with matching dedup key already exists on this service"],
        )
    details = body.get("body")
    text = details.get("details") if isinstance(details, dict) else None
    inc = incidents.create(
        ctx.acct,
        service_id=service_id,
        title=title,
        agent=("user", user.id),
        channel=API,
        urgency=str(urgency),
        incident_key=key or None,
        details=text if isinstance(text, str) else None,
        policy_id=policy,
        assignees=assignees,
        priority_id=priority,
    )
    return 201, {"incident": shapes.incident_json(ctx.acct, inc)}


def _listed(ctx: Ctx) -> list[Incident]:
    statuses = ctx.many("statuses")
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise invalid(f"Statuses {', '.join(bad)} is not valid")
    services, users, urgencies = (
        ctx.many("service_ids"),
        ctx.many("user_ids"),
        ctx.many("urgencies"),
    )
    key = ctx.one("incident_key")
    since, until = _when(ctx, "since"), _when(ctx, "until")
    out = []
    for inc in ctx.acct.incidents.values():
        if statuses and inc.status not in statuses:
            continue
        if services and inc.service_id not in services:
            continue
        if urgencies and inc.urgency not in urgencies:
            continue
        if users and not any(uid in users for uid, _ in inc.assignments):
            continue
        if key is not None and inc.incident_key != key:
            continue
        if (since is not None and inc.created_at < since) or (
            until is not None and inc.created_at >= until
        ):
            continue
        out.append(inc)
    field, _, order = (ctx.one("sort_by") or "created_at:asc").partition(":")
    keys = {
        "created_at": lambda i: (i.created_at, i.number),
        "incident_number": lambda i: (i.number, 0.0),
        "resolved_at": lambda i: (i.resolved_at or 0.0, i.number),
        "urgency": lambda i: (URGENCIES.index(i.urgency), i.number),
    }
    if field not in keys:
        raise invalid("Sort by is not valid")
    out.sort(key=keys[field], reverse=order == "desc")
    return out


def _when(ctx: Ctx, name: str) -> float | None:
    raw = ctx.one(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ApiError(
            400, "Invalid time values in 'since' and/or 'until' parameters", 2004
        ) from None


@route("GET", "/incidents")
def list_incidents(ctx: Ctx) -> tuple[int, JSON]:
    return paginate(ctx, "incidents", [shapes.incident_json(ctx.acct, i) for i in _listed(ctx)])


@route("GET", "/incidents/{id}")
def get_incident(ctx: Ctx) -> tuple[int, JSON]:
    inc = ctx.acct.incident(ctx.params["id"])
    return 200, {"incident": shapes.incident_json(ctx.acct, inc)}


def _update(ctx: Ctx, inc: Incident, body: JSON, agent: Agent) -> None:
    """One incident update, validated first: fields, then (re)assignment, then the status."""
    status = body.get("status")
    if status is not None and status not in ("acknowledged", "resolved"):
        raise ApiError(400, "Invalid Status Provided", 1003)
    if inc.status == "resolved" and any(
        k in body for k in ("status", "escalation_level", "assignments", "escalation_policy")
    ):
        raise ApiError(400, "Incident Already Resolved", 1001)
    if "urgency" in body and body["urgency"] not in URGENCIES:
        raise invalid("Urgency must be one of high, low")
    level = body.get("escalation_level")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
        raise invalid("Escalation level must be an integer")
    priority = _priority(ctx, body["priority"]) if "priority" in body else inc.priority_id
    policy = _policy(ctx, body["escalation_policy"]) if body.get("escalation_policy") else None
    users = _assignees(ctx, body["assignments"]) if body.get("assignments") is not None else None
    acct = ctx.acct
    if isinstance(body.get("title"), str) and body["title"].strip():
        inc.title = body["title"]
    if "urgency" in body:
        incidents.set_urgency(acct, inc, str(body["urgency"]), agent)
    incidents.set_priority(acct, inc, priority, agent, None)
    if policy is not None:
        incidents.delegate(acct, inc, policy, agent, API)
    if users is not None:
        incidents.reassign(acct, inc, users, agent, API)
    if level is not None:
        incidents.escalate(acct, inc, level, agent, API)
    if status == "acknowledged":
        incidents.acknowledge(acct, inc, agent, API)
    elif status == "resolved":
        resolution = body.get("resolution")
        note = resolution if isinstance(resolution, str) else None
        incidents.resolve(acct, inc, agent, API, resolution=note)


@route("PUT", "/incidents/{id}")
def update_incident(ctx: Ctx) -> tuple[int, JSON]:
    user = ctx.from_user()
    inc = ctx.acct.incident(ctx.params["id"])
    _update(ctx, inc, ctx.wrapped("incident"), ("user", user.id))
    return 200, {"incident": shapes.incident_json(ctx.acct, inc)}


@route("PUT", "/incidents")
def update_incidents(ctx: Ctx) -> tuple[int, JSON]:
    """Manage several incidents at once (``{"incidents": [{"id", "type", "status"}, …]}``)."""
    user = ctx.from_user()
    items = ctx.body.get("incidents") if isinstance(ctx.body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid("Incidents must be a non-empty array")
    targets = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise invalid("Each incident must have an id")
        targets.append((ctx.acct.incident(item["id"]), item))
    for inc, item in targets:
        _update(ctx, inc, item, ("user", user.id))
    return 200, {"incidents": [shapes.incident_json(ctx.acct, inc) for inc, _ in targets]}


@route("POST", "/incidents/{id}/responder_requests")
def responder_request(ctx: Ctx) -> tuple[int, JSON]:
    ctx.from_user()
    inc = ctx.acct.incident(ctx.params["id"])
    body = ctx.body if isinstance(ctx.body, dict) else {}
    requester = body.get("requester_id")
    if not isinstance(requester, str) or requester not in ctx.acct.users:
        raise ApiError(400, "Requester User Not Found", 1008)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise invalid("Message cannot be empty")
    raw = body.get("responder_request_targets")
    if not isinstance(raw, list) or not raw:
        raise invalid("Responder request targets must be a non-empty array")
    targets: list[tuple[str, str]] = []
    for item in raw:
        target = item.get("responder_request_target") if isinstance(item, dict) else None
        tid = _ref_id(target, "Responder request target")
        kind = str(target.get("type", "")).removesuffix("_reference") if target else ""
        known = ctx.acct.users if kind == "user" else ctx.acct.policies
        if kind not in ("user", "escalation_policy") or tid not in known:
            raise invalid(f"Responder request target {tid} is not a user or escalation policy")
        targets.append((kind, tid))
    if inc.status == "resolved":
        raise ApiError(400, "Incident Already Resolved", 1001)
    request = incidents.add_responders(ctx.acct, inc, requester, message, targets)
    return 200, {"responder_request": shapes.responder_request_json(ctx.acct, inc, request)}


@route("GET", "/incidents/{id}/log_entries")
def log_entries(ctx: Ctx) -> tuple[int, JSON]:
    inc = ctx.acct.incident(ctx.params["id"])
    entries = [shapes.log_entry_json(ctx.acct, inc, e) for e in reversed(inc.log)]
    return paginate(ctx, "log_entries", entries)


@route("GET", "/incidents/{id}/notes")
def list_notes(ctx: Ctx) -> tuple[int, JSON]:
    inc = ctx.acct.incident(ctx.params["id"])
    return 200, {"notes": [shapes.note_json(ctx.acct, n) for n in inc.notes]}


@route("POST", "/incidents/{id}/notes")
def create_note(ctx: Ctx) -> tuple[int, JSON]:
    user = ctx.from_user()
    inc = ctx.acct.incident(ctx.params["id"])
    content = ctx.wrapped("note").get("content")
    if not isinstance(content, str) or not content.strip():
        raise invalid("Content cannot be empty")
    note = incidents.add_note(ctx.acct, inc, user.id, content)
    return 201, {"note": shapes.note_json(ctx.acct, note)}
