"""REST API v2/v3 issue endpoints: issues, assignee, comments and transitions (links are in
``rest_links.py``, JQL search in ``rest_search.py``)."""

from __future__ import annotations

import time
from typing import Any

from . import adf, issue_shapes, shapes
from .fields import INVALID_PAYLOAD, FieldError, Writer, reference
from .issue_writes import create_issue, edit_issue
from .records import JSON, Comment, Issue, Text
from .rest import Ctx, route
from .state import DONE_RESOLUTION, error, field_errors

NO_EDIT = "You do not have permission to edit issues in this project."
NO_ASSIGN = "You do not have permission to assign issues in this project."
NO_COMMENT = "You do not have the permission to comment on this issue."
NO_TRANSITION = "You do not have permission to transition issues in this project."


def issue_key(ctx: Ctx) -> str:
    return ctx.params["issueIdOrKey"]


# ------------------------------------------------------------------ issues
@route("POST", "issue")
def post_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = create_issue(ctx.site, ctx.me, ctx.body, adf_text=ctx.adf)
    return 201, {"id": issue.id, "key": issue.key, "self": f"{ctx.view.root}/issue/{issue.id}"}


@route("GET", "issue/{issueIdOrKey}")
def get_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
    keep = issue_shapes.field_filter(ctx.many("fields") or None, "*all")
    return 200, issue_shapes.issue_json(ctx.view, issue, keep)


@route("PUT", "issue/{issueIdOrKey}")
def put_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_EDIT)
    edit_issue(ctx.site, ctx.me, issue, ctx.body, adf_text=ctx.adf)
    if ctx.site.cloud and ctx.flag("returnIssue"):
        return 200, issue_shapes.issue_json(ctx.view, issue)
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}")
def delete_issue(ctx: Ctx) -> tuple[int, Any]:
    site = ctx.site
    issue = site.writable_issue(
        ctx.me, issue_key(ctx), "You do not have permission to delete issues in this project."
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
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_ASSIGN)
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
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
    comments = list(issue.comments)
    if (ctx.one("orderBy") or "").startswith("-"):
        comments.reverse()
    start = max(ctx.integer("startAt", 0), 0)
    limit = min(max(ctx.integer("maxResults", 5000), 0), 5000)
    return 200, issue_shapes.comments_page(ctx.view, comments, start, limit)


@route("POST", "issue/{issueIdOrKey}/comment")
def post_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_COMMENT)
    text, visibility = _comment_body(ctx)
    now = time.time()
    me = ctx.me.name
    comment = Comment(ctx.site.new_comment_id(), issue.id, me, text, now, now, me, visibility)
    ctx.site.new_comment(issue, comment)
    return 201, issue_shapes.comment_json(ctx.view, comment)


@route("GET", "issue/{issueIdOrKey}/comment/{id}")
def get_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
    return 200, issue_shapes.comment_json(ctx.view, _find_comment(ctx, issue))


@route("PUT", "issue/{issueIdOrKey}/comment/{id}")
def put_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_COMMENT)
    comment = _find_comment(ctx, issue)
    comment.body, visibility = _comment_body(ctx)
    if visibility is not None:
        comment.visibility = visibility
    comment.updated, comment.update_author = time.time(), ctx.me.name
    return 200, issue_shapes.comment_json(ctx.view, comment)


@route("DELETE", "issue/{issueIdOrKey}/comment/{id}")
def delete_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_COMMENT)
    issue.comments.remove(_find_comment(ctx, issue))
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
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
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
    issue = site.writable_issue(ctx.me, issue_key(ctx), NO_TRANSITION)
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
