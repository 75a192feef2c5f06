"""REST API v2/v3: request context, routing, and the site-level endpoints (server info, the
current user, projects, link types, fields, users).

Issue types and create metadata are in ``rest_meta.py``, issue endpoints in ``rest_issues.py``, ``rest_links.py`` and ``rest_search.py`` (registered through :func:`route`). Routes are named
relative to ``/rest/api/<version>/`` (``"GET issue/{issueIdOrKey}"``); the few outside it keep
their absolute path (``"GET /rest/applinks/latest/listApplicationlinks"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import shapes
from .records import User
from .state import ApiError, Site, error

Handler = Callable[["Ctx"], tuple[int, Any]]
ROUTES: dict[tuple[str, str], Handler] = {}
ANONYMOUS: set[str] = set()  # route names Jira answers without authentication
API_VERSIONS = ("2", "3", "latest")
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def route(method: str, pattern: str, *, anonymous: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, pattern)] = handler
        if anonymous:
            ANONYMOUS.add(f"{method} {pattern}")
        return handler

    return register


@dataclass(frozen=True)
class Match:
    name: str  # "GET issue/{issueIdOrKey}"
    pattern: str | None  # the ROUTES key's pattern; None when no route matched
    params: dict[str, str]
    version: str | None  # "2", "3", "latest"; None outside /rest/api
    other_methods: bool = False  # the path is known for another method (405)


def _match_pattern(method: str, relative: str) -> tuple[str, dict[str, str]] | None:
    """Patterns with a leading ``/`` are absolute paths, the others relative to the API."""
    absolute = relative.startswith("/")
    parts = relative.strip("/").split("/")
    best: tuple[int, str, dict[str, str]] | None = None
    for verb, pattern in ROUTES:
        if verb != method or pattern.startswith("/") != absolute:
            continue
        pieces = pattern.strip("/").split("/")
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
    return None if best is None else (best[1], best[2])


def match(method: str, path: str, *, cloud: bool) -> Match:
    """The route of a request. Jira Data Center has no REST v3: ``/rest/api/3`` is unknown."""
    version: str | None = None
    relative = path
    if path.startswith("/rest/api/"):
        head, _, rest = path[len("/rest/api/") :].partition("/")
        if head in API_VERSIONS and (head != "3" or cloud):
            version, relative = head, rest
        else:
            return Match(f"{method} {path}", None, {}, None)
    found = _match_pattern(method, relative)
    if found is None:
        others = any(
            _match_pattern(m, relative) for m in ("GET", "POST", "PUT", "DELETE") if m != method
        )
        return Match(f"{method} {relative if version else path}", None, {}, version, others)
    pattern, params = found
    return Match(f"{method} {pattern}", pattern, params, version)


@dataclass
class Ctx:
    site: Site
    user: User | None
    version: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def view(self) -> shapes.View:
        return shapes.view(self.site, self.version)

    @property
    def adf(self) -> bool:
        return self.version == "3"

    @property
    def me(self) -> User:
        if self.user is None:
            raise error(401, NOT_AUTHENTICATED)
        return self.user

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def many(self, name: str) -> list[str]:
        """Every value of a repeated or comma-separated parameter."""
        return [v.strip() for raw in self.query.get(name, []) for v in raw.split(",") if v.strip()]

    def integer(self, name: str, default: int) -> int:
        raw = self.one(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise error(400, f"The value '{raw}' is not a valid number for '{name}'.") from None

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.one(name)
        return default if raw is None else raw.lower() == "true"

    def not_found(self) -> ApiError:
        """What Jira answers for a path it has no resource for."""
        return ApiError(404, body={"message": f"null for uri: {self.url}", "status-code": 404})


# ------------------------------------------------------------ site info
@route("GET", "serverInfo", anonymous=True)
def server_info(ctx: Ctx) -> tuple[int, Any]:
    return 200, shapes.server_info(ctx.view)


@route("GET", "myself")
def myself(ctx: Ctx) -> tuple[int, Any]:
    return 200, shapes.myself_json(ctx.view, ctx.me)


@route("GET", "/rest/auth/1/session")
def session(ctx: Ctx) -> tuple[int, Any]:
    me = ctx.me
    return 200, {
        "self": shapes.user_json(shapes.view(ctx.site, "latest"), me)["self"],
        "name": me.name if not ctx.site.cloud else me.email,
        "loginInfo": {"failedLoginCount": 0, "loginCount": 1},
    }


@route("GET", "/rest/applinks/latest/listApplicationlinks")
def application_links(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018  (authenticated only)
    return 200, {"list": []}


@route("GET", "field")
def list_fields(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    return 200, shapes.fields_json(ctx.site)


@route("GET", "priority")
def list_priorities(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    out = []
    for priority in ctx.site.priorities.values():
        item = shapes.priority_json(ctx.view, priority)
        item.update({"statusColor": priority.color, "description": priority.name})
        out.append(item)
    return 200, out


@route("GET", "status")
def list_statuses(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    return 200, [shapes.status_json(ctx.view, s) for s in ctx.site.statuses.values()]


# --------------------------------------------------------------- projects
def visible_project(ctx: Ctx, id_or_key: str) -> Any:
    project = ctx.site.project_of(id_or_key)
    denied = project and ctx.site.denial(ctx.me, project.id)
    if denied and denied.status == 403:
        raise error(403, "You do not have the permission to see the specified project.")
    if project is None or denied:
        raise error(404, f"No project could be found with key '{id_or_key}'.")
    return project


@route("GET", "project")
def list_projects(ctx: Ctx) -> tuple[int, Any]:
    me = ctx.me
    return 200, [
        shapes.project_list_item(ctx.view, p)
        for p in ctx.site.projects.values()
        if ctx.site.denial(me, p.id) is None
    ]


@route("GET", "project/{projectIdOrKey}")
def get_project(ctx: Ctx) -> tuple[int, Any]:
    project = visible_project(ctx, ctx.params["projectIdOrKey"])
    return 200, shapes.project_json(ctx.view, project)


# --------------------------------------------------------------- link types
@route("GET", "issueLinkType")
def list_link_types(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    types = [shapes.link_type_json(ctx.view, t) for t in ctx.site.link_types.values()]
    return 200, {"issueLinkTypes": types}


@route("GET", "issueLinkType/{issueLinkTypeId}")
def get_link_type(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    kind = ctx.site.link_type_of(id=ctx.params["issueLinkTypeId"])
    if kind is None:
        raise error(
            404, "No issue link type with id '{}' exists.".format(ctx.params["issueLinkTypeId"])
        )
    return 200, shapes.link_type_json(ctx.view, kind)


# ------------------------------------------------------------------- users
def _user_matches(user: User, query: str) -> bool:
    low = query.lower()
    words = [user.name, user.email.lower(), *user.display_name.lower().split()]
    return user.display_name.lower().startswith(low) or any(w.startswith(low) for w in words)


@route("GET", "user/search")
def search_users(ctx: Ctx) -> tuple[int, Any]:
    """Cloud: ``query`` (or ``accountId``); ``username`` is refused in GDPR strict mode.
    Data Center: ``username`` (matches username, name and email prefixes)."""
    ctx.me  # noqa: B018
    site = ctx.site
    if site.cloud:
        if ctx.one("username") is not None:
            raise error(400, "The query parameter 'username' is not supported in GDPR strict mode.")
        account, query = ctx.one("accountId"), ctx.one("query")
        if account is None and query is None:
            raise error(400, "One of 'query' or 'accountId' parameters must be provided.")
        found = [
            u
            for u in site.users.values()
            if (account is not None and u.account_id == account)
            or (query is not None and _user_matches(u, query))
        ]
    else:
        username = ctx.one("username")
        if not username:
            raise error(400, "The username query parameter was not provided")
        found = [u for u in site.users.values() if username == "." or _user_matches(u, username)]
    active = ctx.flag("includeActive", True)
    inactive = ctx.flag("includeInactive", False)
    found = [u for u in found if (u.active and active) or (not u.active and inactive)]
    start = max(ctx.integer("startAt", 0), 0)
    limit = max(ctx.integer("maxResults", 50), 0)
    return 200, [shapes.user_json(ctx.view, u) for u in found[start : start + limit]]


@route("GET", "user")
def get_user(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    site = ctx.site
    if site.cloud:
        account = ctx.one("accountId")
        user = next((u for u in site.users.values() if u.account_id == account), None)
        if user is None:
            raise error(
                404,
                f"Specified user does not exist or you do not have required permissions: {account}",
            )
    else:
        who = ctx.one("username") or ctx.one("key")
        user = site.user_named(who) if who else None
        if user is None or (who or "").lower() not in (user.name, user.key.lower()):
            raise error(404, f"The user named '{who}' does not exist")
    return 200, shapes.user_json(ctx.view, user)
