"""REST API v2: request context, routing, classic pagination and the read-only endpoints.

The incident endpoints are in ``rest_incidents.py`` (registered through :func:`route`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import shapes
from .records import JSON, User
from .state import Account, ApiError, invalid, not_found

ITERATION_LIMIT = 10000  # "offset + limit" may not exceed it (classic pagination)
Handler = Callable[["Ctx"], tuple[int, JSON]]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, pattern)] = handler
        return handler

    return register


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(``"PUT /incidents/{id}"``, {"id": …}) for a request, literal segments winning."""
    parts = path.rstrip("/").split("/")
    best: tuple[int, str, dict[str, str]] | None = None
    for verb, pattern in ROUTES:
        if verb != method:
            continue
        pieces = pattern.split("/")
        if len(pieces) != len(parts):
            continue
        params: dict[str, str] = {}
        literal = 0
        for want, got in zip(pieces, parts, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want == got:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, pattern, params)
    return None if best is None else (f"{method} {best[1]}", best[2])


@dataclass
class Ctx:
    acct: Account
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def many(self, name: str) -> list[str]:
        """A set filter: ``name[]=a&name[]=b`` (``name=a`` accepted too)."""
        return self.query.get(f"{name}[]", []) + self.query.get(name, [])

    def flag(self, name: str) -> bool:
        return (self.one(name) or "").lower() == "true"

    def from_user(self) -> User:
        """The acting user of a write made with an account-level token: the ``From`` header."""
        email = self.headers.get("from", "").strip()
        if not email:
            raise ApiError(
                400,
                'You must specify a user\'s email address in the "From" header to perform'
                " this action",
                2016,
            )
        user = self.acct.user_by_email(email)
        if user is None:
            raise ApiError(400, "Requester User Not Found", 1008)
        return user

    def wrapped(self, name: str) -> JSON:
        """The wrapped entity of the request body (``{"incident": {...}}``)."""
        value = self.body.get(name) if isinstance(self.body, dict) else None
        if not isinstance(value, dict):
            raise invalid(f"{name} must be present and an object")
        return value


def _int(ctx: Ctx, name: str, default: int) -> int:
    raw = ctx.one(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def paginate(ctx: Ctx, key: str, items: list[JSON]) -> tuple[int, JSON]:
    """Classic pagination: ``limit`` (default 25, at most 100), ``offset``, ``more`` and a
    ``total`` that is null unless ``total=true`` was asked for."""
    limit = min(max(_int(ctx, "limit", 25), 1), 100)
    offset = max(_int(ctx, "offset", 0), 0)
    if offset + limit > ITERATION_LIMIT:
        raise invalid(f"Offset plus limit must be less than or equal to {ITERATION_LIMIT}")
    page = items[offset : offset + limit]
    return 200, {
        key: page,
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": len(items) if ctx.flag("total") else None,
    }


def _query_match(query: str | None, *values: str) -> bool:
    return not query or any(query.lower() in v.lower() for v in values)


def _only(ids: Iterable[str], wanted: list[str]) -> bool:
    return not wanted or any(i in wanted for i in ids)


# ------------------------------------------------------------------ users
@route("GET", "/users")
def list_users(ctx: Ctx) -> tuple[int, JSON]:
    query = ctx.one("query")
    users = [
        shapes.user_json(ctx.acct, u)
        for u in ctx.acct.users.values()
        if _query_match(query, u.name, u.email)
    ]
    return paginate(ctx, "users", users)


@route("GET", "/users/me")
def users_me(ctx: Ctx) -> tuple[int, JSON]:
    raise ApiError(
        400,
        "Because this request was made using an account-level access token, we were unable to"
        " determine the user's identity. Please use a user-level token.",
        2100,
    )


@route("GET", "/users/{id}")
def get_user(ctx: Ctx) -> tuple[int, JSON]:
    user = ctx.acct.users.get(ctx.params["id"])
    if user is None:
        raise not_found()
    return 200, {"user": shapes.user_json(ctx.acct, user)}


# --------------------------------------------------------------- services
@route("GET", "/services")
def list_services(ctx: Ctx) -> tuple[int, JSON]:
    query = ctx.one("query")
    full = "integrations" in ctx.many("include")
    services = [
        shapes.service_json(ctx.acct, s, integrations=full)
        for s in ctx.acct.services.values()
        if _query_match(query, s.name)
    ]
    return paginate(ctx, "services", services)


@route("GET", "/services/{id}")
def get_service(ctx: Ctx) -> tuple[int, JSON]:
    service = ctx.acct.services.get(ctx.params["id"])
    if service is None:
        raise not_found()
    full = "integrations" in ctx.many("include")
    return 200, {"service": shapes.service_json(ctx.acct, service, integrations=full)}


@route("GET", "/services/{id}/integrations/{integration_id}")
def get_integration(ctx: Ctx) -> tuple[int, JSON]:
    integ = ctx.acct.integrations.get(ctx.params["integration_id"])
    if integ is None or integ.service_id != ctx.params["id"]:
        raise not_found()
    return 200, {"integration": shapes.integration_json(ctx.acct, integ.id, full=True)}


# ---------------------------------------------------- escalation policies
@route("GET", "/escalation_policies")
def list_policies(ctx: Ctx) -> tuple[int, JSON]:
    query = ctx.one("query")
    user_ids = ctx.many("user_ids")
    policies = []
    for policy in ctx.acct.policies.values():
        users = [o.user_id for o in ctx.acct.oncalls() if o.escalation_policy_id == policy.id]
        if _query_match(query, policy.name) and _only(users, user_ids):
            policies.append(shapes.policy_json(ctx.acct, policy))
    return paginate(ctx, "escalation_policies", policies)


@route("GET", "/escalation_policies/{id}")
def get_policy(ctx: Ctx) -> tuple[int, JSON]:
    policy = ctx.acct.policies.get(ctx.params["id"])
    if policy is None:
        raise not_found()
    return 200, {"escalation_policy": shapes.policy_json(ctx.acct, policy)}


# -------------------------------------------------------------- schedules
@route("GET", "/schedules")
def list_schedules(ctx: Ctx) -> tuple[int, JSON]:
    query = ctx.one("query")
    schedules = [
        shapes.schedule_json(ctx.acct, s)
        for s in ctx.acct.schedules.values()
        if _query_match(query, s.name)
    ]
    return paginate(ctx, "schedules", schedules)


@route("GET", "/schedules/{id}")
def get_schedule(ctx: Ctx) -> tuple[int, JSON]:
    schedule = ctx.acct.schedules.get(ctx.params["id"])
    if schedule is None:
        raise not_found()
    return 200, {"schedule": shapes.schedule_json(ctx.acct, schedule)}


# ---------------------------------------------------------------- oncalls
@route("GET", "/oncalls")
def list_oncalls(ctx: Ctx) -> tuple[int, JSON]:
    """Who is on call now; filters ``escalation_policy_ids[]``, ``schedule_ids[]``,
    ``user_ids[]``; ``earliest=true`` keeps one entry per (policy, level, user)."""
    policies, schedules, users = (
        ctx.many("escalation_policy_ids"),
        ctx.many("schedule_ids"),
        ctx.many("user_ids"),
    )
    seen: set[tuple[str, int, str]] = set()
    out = []
    for entry in ctx.acct.oncalls():
        if policies and entry.escalation_policy_id not in policies:
            continue
        if schedules and entry.schedule_id not in schedules:
            continue
        if users and entry.user_id not in users:
            continue
        key = (entry.escalation_policy_id, entry.level, entry.user_id)
        if ctx.flag("earliest") and key in seen:
            continue
        seen.add(key)
        out.append(shapes.oncall_json(ctx.acct, entry))
    return paginate(ctx, "oncalls", out)


# ------------------------------------------------------------- priorities
@route("GET", "/priorities")
def list_priorities(ctx: Ctx) -> tuple[int, JSON]:
    ordered = sorted(ctx.acct.priorities.values(), key=lambda p: p.order)
    return paginate(ctx, "priorities", [shapes.priority_json(ctx.acct, p.id) for p in ordered])
