"""REST API v2/v3 issue endpoints: issues, assignee, comments, remote links, transitions,
issue links and JQL search (Data Center's ``search``, Cloud's ``search/jql``)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from . import adf, jql, shapes
from .fields import INVALID_PAYLOAD, FieldError, Writer, reference
from .issue_writes import create_issue, edit_issue
from .records import JSON, Comment, Issue, RemoteLink, Text
from .rest import Ctx, route
from .state import DONE_RESOLUTION, error, field_errors

NO_EDIT = "You do not have permission to edit issues in this project."
NO_ASSIGN = "You do not have permission to assign issues in this project."
NO_COMMENT = "You do not have the permission to comment on this issue."
NO_LINK = "You do not have the permission to link issues in this project."
NO_TRANSITION = "You do not have permission to transition issues in this project."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full"
    " migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
BAD_TOKEN = "The provided next page token is invalid or expired."


def _issue_key(ctx: Ctx) -> str:
    return ctx.params["issueIdOrKey"]


# ------------------------------------------------------------------ issues
@route("POST", "issue")
def post_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = create_issue(ctx.site, ctx.me, ctx.body, adf_text=ctx.adf)
    return 201, {"id": issue.id, "key": issue.key, "self": f"{ctx.view.root}/issue/{issue.id}"}


@route("GET", "issue/{issueIdOrKey}")
def get_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    keep = shapes.field_filter(ctx.many("fields") or None, "*all")
    return 200, shapes.issue_json(ctx.view, issue, keep)


@route("PUT", "issue/{issueIdOrKey}")
def put_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_EDIT)
    edit_issue(ctx.site, ctx.me, issue, ctx.body, adf_text=ctx.adf)
    if ctx.site.cloud and ctx.flag("returnIssue"):
        return 200, shapes.issue_json(ctx.view, issue)
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}")
def delete_issue(ctx: Ctx) -> tuple[int, Any]:
    site = ctx.site
    issue = site.writable_issue(
        ctx.me, _issue_key(ctx), "You do not have permission to delete issues in this project."
    )
    subtasks = site.subtasks_of(issue)
    if subtasks and not ctx.flag("deleteSubtasks"):
        raise error(
            400,
            f"The issue '{issue.key}' has subtasks.  You must specify the 'deleteSubtasks'"
            " parameter to delete this issue and all its subtasks.",
        )
    for gone in [*subtasks, issue]:
        for link in site.links_of(gone):
            site.links.pop(link.id, None)
        for remote in site.remote_links_of(gone):
            site.remote_links.pop(remote.id, None)
        site.issues.pop(gone.id, None)
    for child in site.issues.values():
        if child.parent_id == issue.id:  # an epic's children lose their parent
            child.parent_id = None
    return 204, None


@route("PUT", "issue/{issueIdOrKey}/assignee")
def put_assignee(ctx: Ctx) -> tuple[int, Any]:
    """Cloud: ``{"accountId": …}``; Data Center: ``{"name": …}`` (``"-1"``: automatic);
    null unassigns."""
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_ASSIGN)
    if not isinstance(ctx.body, dict):
        raise error(400, INVALID_PAYLOAD)
    writer = Writer(ctx.site, ctx.me, ctx.adf)
    try:
        issue.assignee = writer.user(ctx.body)
    except FieldError as exc:
        raise field_errors({"assignee": exc.message}) from None
    issue.updated = time.time()
    return 204, None


# ---------------------------------------------------------------- comments
def _comment_body(ctx: Ctx) -> tuple[Text, JSON | None]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    try:
        text = adf.parse(body.get("body"), adf=ctx.adf)
    except ValueError as exc:
        raise field_errors({"comment": str(exc)}) from None
    if text is None:
        raise field_errors({"comment": "Comment body can not be empty!"})
    visibility = body.get("visibility")
    return text, visibility if isinstance(visibility, dict) else None


def _find_comment(ctx: Ctx, issue: Issue) -> Comment:
    found = next((c for c in issue.comments if c.id == ctx.params["id"]), None)
    if found is None:
        raise error(404, "Can not find a comment for the id: {}.".format(ctx.params["id"]))
    return found


@route("GET", "issue/{issueIdOrKey}/comment")
def list_comments(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    comments = list(issue.comments)
    if (ctx.one("orderBy") or "").startswith("-"):
        comments.reverse()
    start = max(ctx.integer("startAt", 0), 0)
    limit = min(max(ctx.integer("maxResults", 5000), 0), 5000)
    return 200, shapes.comments_page(ctx.view, comments, start, limit)


@route("POST", "issue/{issueIdOrKey}/comment")
def post_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_COMMENT)
    text, visibility = _comment_body(ctx)
    now = time.time()
    me = ctx.me.name
    comment = Comment(ctx.site.new_comment_id(), issue.id, me, text, now, now, me, visibility)
    ctx.site.new_comment(issue, comment)
    return 201, shapes.comment_json(ctx.view, comment)


@route("GET", "issue/{issueIdOrKey}/comment/{id}")
def get_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    return 200, shapes.comment_json(ctx.view, _find_comment(ctx, issue))


@route("PUT", "issue/{issueIdOrKey}/comment/{id}")
def put_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_COMMENT)
    comment = _find_comment(ctx, issue)
    comment.body, visibility = _comment_body(ctx)
    if visibility is not None:
        comment.visibility = visibility
    comment.updated, comment.update_author = time.time(), ctx.me.name
    return 200, shapes.comment_json(ctx.view, comment)


@route("DELETE", "issue/{issueIdOrKey}/comment/{id}")
def delete_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_COMMENT)
    issue.comments.remove(_find_comment(ctx, issue))
    return 204, None


# ------------------------------------------------------------ remote links
def _remote_fields(ctx: Ctx) -> tuple[str | None, JSON, str | None, JSON]:
    body = ctx.body
    if not isinstance(body, dict):
        raise error(400, INVALID_PAYLOAD)
    target = body.get("object")
    if not isinstance(target, dict):
        raise field_errors({"object": "'object' is required."})
    errors: dict[str, str] = {}
    for name in ("url", "title"):
        value = target.get(name)
        if not isinstance(value, str) or not value:
            errors[name] = f"'{name}' is required."
    if errors:
        raise field_errors(errors)
    global_id = body.get("globalId")
    application = body.get("application")
    relationship = body.get("relationship")
    return (
        str(global_id) if global_id is not None else None,
        dict(application) if isinstance(application, dict) else {},
        str(relationship) if relationship is not None else None,
        dict(target),
    )


def _find_remote(ctx: Ctx, issue: Issue) -> RemoteLink:
    lid = ctx.params["linkId"]
    found = next((r for r in ctx.site.remote_links_of(issue) if str(r.id) == lid), None)
    if found is None:
        raise error(404, f"No remote link with id '{lid}' exists on issue '{issue.key}'.")
    return found


@route("GET", "issue/{issueIdOrKey}/remotelink")
def list_remote_links(ctx: Ctx) -> tuple[int, Any]:
    """A list; with ``globalId`` the one link (404 when there is none)."""
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    links = ctx.site.remote_links_of(issue)
    wanted = ctx.one("globalId")
    if wanted is not None:
        found = next((r for r in links if r.global_id == wanted), None)
        if found is None:
            raise error(
                404, f"No remote link with globalId '{wanted}' exists on issue '{issue.key}'."
            )
        return 200, shapes.remote_link_json(ctx.view, found, issue)
    return 200, [shapes.remote_link_json(ctx.view, r, issue) for r in links]


@route("POST", "issue/{issueIdOrKey}/remotelink")
def post_remote_link(ctx: Ctx) -> tuple[int, Any]:
    """Creates (201) or, when a link with the same ``globalId`` exists on the issue, replaces
    it (200); both answer ``{"id", "self"}``."""
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_LINK)
    global_id, application, relationship, target = _remote_fields(ctx)
    existing = next(
        (r for r in ctx.site.remote_links_of(issue) if global_id and r.global_id == global_id),
        None,
    )
    if existing is not None:
        existing.application, existing.relationship, existing.object = (
            application,
            relationship,
            target,
        )
        link, status = existing, 200
    else:
        link = RemoteLink(
            ctx.site.new_remote_link_id(), issue.id, global_id, application, relationship, target
        )
        ctx.site.remote_links[link.id] = link
        status = 201
    issue.updated = time.time()
    return status, {
        "id": link.id,
        "self": f"{ctx.view.root}/issue/{issue.key}/remotelink/{link.id}",
    }


@route("GET", "issue/{issueIdOrKey}/remotelink/{linkId}")
def get_remote_link(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    return 200, shapes.remote_link_json(ctx.view, _find_remote(ctx, issue), issue)


@route("PUT", "issue/{issueIdOrKey}/remotelink/{linkId}")
def put_remote_link(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_LINK)
    link = _find_remote(ctx, issue)
    global_id, link.application, link.relationship, link.object = _remote_fields(ctx)
    if global_id is not None:
        link.global_id = global_id
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}/remotelink/{linkId}")
def delete_remote_link(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_LINK)
    del ctx.site.remote_links[_find_remote(ctx, issue).id]
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}/remotelink")
def delete_remote_link_by_global_id(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, _issue_key(ctx), NO_LINK)
    wanted = ctx.one("globalId")
    if not wanted:
        raise error(400, "The 'globalId' query parameter is required.")
    gone = [r for r in ctx.site.remote_links_of(issue) if r.global_id == wanted]
    if not gone:
        raise error(404, f"No remote link with globalId '{wanted}' exists on issue '{issue.key}'.")
    for link in gone:
        del ctx.site.remote_links[link.id]
    return 204, None


# ------------------------------------------------------------- transitions
def _transition_json(ctx: Ctx, tid: str) -> JSON:
    transition = ctx.site.transitions[tid]
    return {
        "id": transition.id,
        "name": transition.name,
        "to": shapes.status_json(ctx.view, ctx.site.statuses[transition.to_status]),
        "hasScreen": False,
        "isGlobal": True,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }


def _available(issue: Issue, ctx: Ctx) -> list[str]:
    return [t.id for t in ctx.site.transitions.values() if t.to_status != issue.status_id]


@route("GET", "issue/{issueIdOrKey}/transitions")
def list_transitions(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, _issue_key(ctx))
    ids = _available(issue, ctx)
    wanted = ctx.one("transitionId")
    if wanted is not None:
        ids = [t for t in ids if t == wanted]
    return 200, {"expand": "transitions", "transitions": [_transition_json(ctx, t) for t in ids]}


@route("POST", "issue/{issueIdOrKey}/transitions")
def post_transition(ctx: Ctx) -> tuple[int, Any]:
    """Moves the issue; into Done sets the resolution (Done), out of it clears it. ``fields``
    and ``update`` (e.g. a comment) are applied like an edit."""
    site = ctx.site
    issue = site.writable_issue(ctx.me, _issue_key(ctx), NO_TRANSITION)
    body = ctx.body if isinstance(ctx.body, dict) else None
    ref = reference(body.get("transition")) if body else None
    if ref is None:
        raise error(400, "Missing 'transition' identifier")
    if ref not in _available(issue, ctx):
        raise error(400, f"Transition id '{ref}' is not valid for this issue.")
    assert body is not None
    edit = {k: v for k, v in body.items() if k in ("fields", "update")}
    extra = dict(edit.get("fields") or {})
    extra.pop("resolution", None)
    if extra or edit.get("update"):
        edit_issue(
            site, ctx.me, issue, {"fields": extra, "update": edit.get("update")}, adf_text=ctx.adf
        )
    issue.status_id = site.transitions[ref].to_status
    done = site.statuses[issue.status_id].category == "done"
    issue.resolution_id = DONE_RESOLUTION[0] if done else None
    issue.resolved = time.time() if done else None
    issue.updated = time.time()
    return 204, None


# ------------------------------------------------------------- issue links
@route("POST", "issueLink")
def post_issue_link(ctx: Ctx) -> tuple[int, Any]:
    """``inwardIssue <type.outward> outwardIssue`` ("A blocks B"); answers 201 with no body,
    also for a link that exists already (a comment is added either way, to the inward
    issue)."""
    site, me = ctx.site, ctx.me
    body = ctx.body if isinstance(ctx.body, dict) else None
    if body is None:
        raise error(400, INVALID_PAYLOAD)
    kind_ref = body.get("type") if isinstance(body.get("type"), dict) else {}
    assert isinstance(kind_ref, dict)
    kind = site.link_type_of(
        id=str(kind_ref["id"]) if "id" in kind_ref else None, name=kind_ref.get("name")
    )
    if kind is None:
        raise error(404, f"No issue link type with name '{kind_ref.get('name')}' found.")
    ends: list[Issue] = []
    for side in ("inwardIssue", "outwardIssue"):
        ref = reference(body.get(side))
        found = site.issue_of(ref) if ref else None
        denied = found and site.denial(me, found.project_id)
        if found is None or (denied and denied.status == 404):
            raise error(404, "Issue Does Not Exist")
        if denied:
            raise error(403, NO_LINK)
        ends.append(found)
    comment = body.get("comment")
    text: Text | None = None
    if isinstance(comment, dict):
        try:
            text = adf.parse(comment.get("body"), adf=ctx.adf)
        except ValueError as exc:
            raise field_errors({"comment": str(exc)}) from None
    site.add_link(kind, ends[0], ends[1])
    if text is not None:
        now = time.time()
        visibility = comment.get("visibility") if isinstance(comment, dict) else None
        made = Comment(
            site.new_comment_id(), ends[0].id, me.name, text, now, now, me.name, visibility
        )
        site.new_comment(ends[0], made)
    return 201, None


@route("GET", "issueLink/{linkId}")
def get_issue_link(ctx: Ctx) -> tuple[int, Any]:
    site, me = ctx.site, ctx.me
    link = site.links.get(ctx.params["linkId"])
    if link is None or not all(
        site.visible(me, site.issues[i]) for i in (link.inward_id, link.outward_id)
    ):
        raise error(404, "No issue link with id '{}' exists.".format(ctx.params["linkId"]))
    view = ctx.view
    return 200, {
        "id": link.id,
        "self": f"{view.root}/issueLink/{link.id}",
        "type": shapes.link_type_json(view, site.link_types[link.type_id]),
        "inwardIssue": shapes.issue_ref(view, site.issues[link.inward_id]),
        "outwardIssue": shapes.issue_ref(view, site.issues[link.outward_id]),
    }


@route("DELETE", "issueLink/{linkId}")
def delete_issue_link(ctx: Ctx) -> tuple[int, Any]:
    get_issue_link(ctx)
    del ctx.site.links[ctx.params["linkId"]]
    return 204, None


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
    keep = shapes.field_filter(_fields(args.get("fields")), "*navigable")
    page = issues[start : start + limit]
    return 200, {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(issues),
        "issues": [shapes.issue_json(ctx.view, i, keep) for i in page],
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
        keep = shapes.field_filter(requested, "*navigable")
        found = [shapes.issue_json(ctx.view, i, keep) for i in page]
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
