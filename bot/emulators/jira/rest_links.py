"""REST API v2/v3 links: an issue's remote links (web links) and the links between issues."""

from __future__ import annotations

import time
from typing import Any

from . import adf, issue_shapes, shapes
from .fields import INVALID_PAYLOAD, reference
from .records import JSON, Comment, Issue, RemoteLink, Text
from .rest import Ctx, route
from .rest_issues import issue_key
from .state import error, field_errors

NO_LINK = "You do not have the permission to link issues in this project."


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
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
    links = ctx.site.remote_links_of(issue)
    wanted = ctx.one("globalId")
    if wanted is not None:
        found = next((r for r in links if r.global_id == wanted), None)
        if found is None:
            raise error(
                404, f"No remote link with globalId '{wanted}' exists on issue '{issue.key}'."
            )
        return 200, issue_shapes.remote_link_json(ctx.view, found, issue)
    return 200, [issue_shapes.remote_link_json(ctx.view, r, issue) for r in links]


@route("POST", "issue/{issueIdOrKey}/remotelink")
def post_remote_link(ctx: Ctx) -> tuple[int, Any]:
    """Creates (201) or, when a link with the same ``globalId`` exists on the issue, replaces
    it (200); both answer ``{"id", "self"}``."""
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_LINK)
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
    issue = ctx.site.readable_issue(ctx.me, issue_key(ctx))
    return 200, issue_shapes.remote_link_json(ctx.view, _find_remote(ctx, issue), issue)


@route("PUT", "issue/{issueIdOrKey}/remotelink/{linkId}")
def put_remote_link(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_LINK)
    link = _find_remote(ctx, issue)
    global_id, link.application, link.relationship, link.object = _remote_fields(ctx)
    if global_id is not None:
        link.global_id = global_id
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}/remotelink/{linkId}")
def delete_remote_link(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_LINK)
    del ctx.site.remote_links[_find_remote(ctx, issue).id]
    return 204, None


@route("DELETE", "issue/{issueIdOrKey}/remotelink")
def delete_remote_link_by_global_id(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.site.writable_issue(ctx.me, issue_key(ctx), NO_LINK)
    wanted = ctx.one("globalId")
    if not wanted:
        raise error(400, "The 'globalId' query parameter is required.")
    gone = [r for r in ctx.site.remote_links_of(issue) if r.global_id == wanted]
    if not gone:
        raise error(404, f"No remote link with globalId '{wanted}' exists on issue '{issue.key}'.")
    for link in gone:
        del ctx.site.remote_links[link.id]
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
        "inwardIssue": issue_shapes.issue_ref(view, site.issues[link.inward_id]),
        "outwardIssue": issue_shapes.issue_ref(view, site.issues[link.outward_id]),
    }


@route("DELETE", "issueLink/{linkId}")
def delete_issue_link(ctx: Ctx) -> tuple[int, Any]:
    get_issue_link(ctx)
    del ctx.site.links[ctx.params["linkId"]]
    return 204, None
