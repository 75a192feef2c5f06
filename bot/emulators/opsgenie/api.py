"""The routes of the emulated REST API: Alert API v2 (create, request status, get, acknowledge,
close, responders, notes), Who-is-on-call (``/v2/schedules/{identifier}/on-calls``) and users."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .state import (
    JSON,
    MAX_RESPONDERS,
    PRIORITIES,
    RESPONDER_TYPES,
    Account,
    ApiError,
    RequestStatus,
    unprocessable,
)

ACCEPTED = "Request will be processed"
Handler = Callable[["Ctx"], tuple[int, JSON]]


@dataclass
class Ctx:
    acct: Account
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any

    def arg(self, name: str, default: str) -> str:
        values = self.query.get(name)
        return values[0] if values else default


ROUTES: dict[tuple[str, str], Handler] = {}
# GET /v2/alerts/requests/{id} before GET /v2/alerts/{identifier}
_ORDER: list[tuple[str, str, re.Pattern[str]]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$")

    def register(handler: Handler) -> Handler:
        ROUTES[(method, pattern)] = handler
        _ORDER.append((method, pattern, regex))
        return handler

    return register


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for verb, pattern, regex in _ORDER:
        found = regex.match(path)
        if verb == method and found:
            return f"{method} {pattern}", {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def domain(route_name: str) -> str:
    """Opsgenie's rate-limit domain of a route (each has its own bucket)."""
    if "/on-calls" in route_name:
        return "schedule-oncalls"
    if "/v2/alerts" in route_name:
        return "alert"
    return "configuration"


def _object(body: Any) -> JSON:
    if not isinstance(body, dict):
        raise unprocessable({"body": "Request body should be a JSON object."})
    return body


def _identifier_type(ctx: Ctx) -> str:
    kind = ctx.arg("identifierType", "id")
    if kind not in ("id", "alias", "tiny"):
        raise unprocessable({"identifierType": "should be one of [ id, alias, tiny ]"})
    return kind


def _responders(value: Any, field: str = "responders") -> list[JSON]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise unprocessable({field: "should be a list"})
    if len(value) > MAX_RESPONDERS:
        raise unprocessable({field: f"can not contain more than {MAX_RESPONDERS} items"})
    for item in value:
        _responder(item, field)
    return value


def _responder(item: Any, field: str) -> JSON:
    if not isinstance(item, dict) or item.get("type") not in RESPONDER_TYPES:
        raise unprocessable({field: "type should be one of [ team, user, escalation, schedule ]"})
    if not any(isinstance(item.get(k), str) and item[k] for k in ("id", "name", "username")):
        raise unprocessable({field: "Responder should have id, name or username"})
    return item


def _accepted(request_id: str) -> tuple[int, JSON]:
    return 202, {"result": ACCEPTED, "requestId": request_id}


@route("POST", "/v2/alerts")
def create_alert(ctx: Ctx) -> tuple[int, JSON]:
    body = _object(ctx.body)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise unprocessable({"message": "Message can not be empty."})
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise unprocessable({"priority": "should be one of [ P1, P2, P3, P4, P5 ]"})
    _responders(body.get("responders"))
    details = body.get("details")
    if details is not None and not isinstance(details, dict):
        raise unprocessable({"details": "should be a map of strings"})

    def work(request: RequestStatus) -> None:
        ctx.acct.create(body, request)

    return _accepted(ctx.acct.accept("Create", work))


@route("GET", "/v2/alerts/requests/{request_id}")
def request_status(ctx: Ctx) -> tuple[int, JSON]:
    request = ctx.acct.requests.get(ctx.params["request_id"])
    if request is None or request.processed_at is None:
        raise ApiError(404, "Request not found. It might not be processed, yet.")
    return 200, {"data": request.shape()}


@route("GET", "/v2/alerts/{identifier}")
def get_alert(ctx: Ctx) -> tuple[int, JSON]:
    alert = ctx.acct.alert(ctx.params["identifier"], _identifier_type(ctx))
    if alert is None:
        raise ApiError(404, "Alert does not exist")
    return 200, {"data": alert.shape()}


def _action(name: str) -> Handler:
    def handler(ctx: Ctx) -> tuple[int, JSON]:
        body = _object(ctx.body if ctx.body is not None else {})
        kind = _identifier_type(ctx)
        if name == "AddNote" and not (isinstance(body.get("note"), str) and body["note"]):
            raise unprocessable({"note": "Note can not be empty."})
        if name == "AddResponder":
            _responder(body.get("responder"), "responder")
        identifier = ctx.params["identifier"]

        def work(request: RequestStatus) -> None:
            ctx.acct.act(name, identifier, kind, body, request)

        return _accepted(ctx.acct.accept(name, work))

    return handler


route("POST", "/v2/alerts/{identifier}/acknowledge")(_action("Acknowledge"))
route("POST", "/v2/alerts/{identifier}/close")(_action("Close"))
route("POST", "/v2/alerts/{identifier}/notes")(_action("AddNote"))
route("POST", "/v2/alerts/{identifier}/responders")(_action("AddResponder"))


@route("GET", "/v2/schedules/{identifier}/on-calls")
def on_calls(ctx: Ctx) -> tuple[int, JSON]:
    kind = ctx.arg("scheduleIdentifierType", "id")
    if kind not in ("id", "name"):
        raise unprocessable({"scheduleIdentifierType": "should be one of [ id, name ]"})
    schedule = ctx.acct.schedule(ctx.params["identifier"], kind)
    if schedule is None:
        raise ApiError(404, f"Schedule with identifier [{ctx.params['identifier']}] not found.")
    parent = {"id": schedule.id, "name": schedule.name, "enabled": True}
    if ctx.arg("flat", "false").lower() == "true":
        return 200, {"data": {"_parent": parent, "onCallRecipients": list(schedule.on_call)}}
    participants = []
    for username in schedule.on_call:
        user = ctx.acct.user(username)
        participants.append({"id": user.id if user else "", "name": username, "type": "user"})
    return 200, {"data": {"_parent": parent, "onCallParticipants": participants}}


@route("GET", "/v2/users/{identifier}")
def get_user(ctx: Ctx) -> tuple[int, JSON]:
    user = ctx.acct.user(ctx.params["identifier"])
    if user is None:
        raise ApiError(404, "No user exists with username/id")
    return 200, {"data": {"id": user.id, "username": user.username, "fullName": user.full_name}}
