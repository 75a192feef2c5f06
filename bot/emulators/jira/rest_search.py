"""REST API v2/v3 JQL search: Data Center's ``search`` (gone from Cloud, as there) and Cloud's
``search/jql`` with its next-page tokens."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from . import issue_shapes, jql
from .fields import INVALID_PAYLOAD
from .records import JSON, Issue
from .rest import Ctx, route
from .state import error

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full"
    " migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
BAD_TOKEN = "The provided next page token is invalid or expired."


# ------------------------------------------------------------------ search
def _search_args(ctx: Ctx) -> JSON:
    """GET query parameters or the POST body, as one dict."""
    if ctx.body is not None:
        if not isinstance(ctx.body, dict):
            raise error(400, INVALID_PAYLOAD)
        return dict(ctx.body)
    out: JSON = {name: ctx.one(name) for name in ctx.query}
    out["fields"] = ctx.many("fields") or None
    return out


def _fields(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else None


def _int(args: JSON, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise error(400, f"The value '{raw}' is not a valid number for '{name}'.") from None


def _run(ctx: Ctx, text: str) -> list[Issue]:
    try:
        return jql.search(ctx.site, ctx.me, text)
    except jql.JqlError as exc:
        raise error(400, exc.message) from None


def _search(ctx: Ctx) -> tuple[int, Any]:
    """Data Center's paged search (Cloud removed it: 410)."""
    if ctx.site.cloud:
        raise error(410, SEARCH_REMOVED)
    args = _search_args(ctx)
    issues = _run(ctx, str(args.get("jql") or ""))
    start = max(_int(args, "startAt", 0), 0)
    limit = min(max(_int(args, "maxResults", 50), 0), 1000)
    keep = issue_shapes.field_filter(_fields(args.get("fields")), "*navigable")
    page = issues[start : start + limit]
    return 200, {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(issues),
        "issues": [issue_shapes.issue_json(ctx.view, i, keep) for i in page],
    }


@route("GET", "search")
def get_search(ctx: Ctx) -> tuple[int, Any]:
    return _search(ctx)


@route("POST", "search")
def post_search(ctx: Ctx) -> tuple[int, Any]:
    return _search(ctx)


def _token(offset: int, text: str) -> str:
    raw = json.dumps({"o": offset, "q": text}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(token: str, text: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise error(400, BAD_TOKEN) from None
    if not isinstance(data, dict) or data.get("q") != text or not isinstance(data.get("o"), int):
        raise error(400, BAD_TOKEN)
    return int(data["o"])


def _search_jql(ctx: Ctx) -> tuple[int, Any]:
    """Cloud's enhanced search: bounded JQL only, ``fields`` default ``id``, pages chained by
    ``nextPageToken`` (no ``total``)."""
    if not ctx.site.cloud:
        raise ctx.not_found()
    args = _search_args(ctx)
    text = str(args.get("jql") or "")
    try:
        if not jql.bounded(text):
            raise error(400, UNBOUNDED)
    except jql.JqlError as exc:
        raise error(400, exc.message) from None
    issues = _run(ctx, text)
    requested = _fields(args.get("fields")) or ["id"]
    light = set(requested) <= {"id", "key"}
    limit = min(max(_int(args, "maxResults", 50), 1), 5000 if light else 100)
    token = args.get("nextPageToken")
    start = _offset(str(token), text) if token else 0
    page = issues[start : start + limit]
    if requested == ["id"]:
        found = [{"id": i.id} for i in page]
    else:
        keep = issue_shapes.field_filter(requested, "*navigable")
        found = [issue_shapes.issue_json(ctx.view, i, keep) for i in page]
    out: JSON = {"issues": found}
    if start + limit < len(issues):
        out["nextPageToken"] = _token(start + limit, text)
    out["isLast"] = start + limit >= len(issues)
    return 200, out


@route("GET", "search/jql")
def get_search_jql(ctx: Ctx) -> tuple[int, Any]:
    return _search_jql(ctx)


@route("POST", "search/jql")
def post_search_jql(ctx: Ctx) -> tuple[int, Any]:
    return _search_jql(ctx)
