"""The JSON Jira answers with for issues and what hangs off them: the issue itself (fields, a
field filter), links between issues, comments, remote links and security levels."""

from __future__ import annotations

from collections.abc import Callable

from .records import (
    JSON,
    Comment,
    Issue,
    IssueLink,
    RemoteLink,
    SecurityLevel,
    jira_time,
)
from .shapes import (
    ISSUE_EXPAND,
    NOT_NAVIGABLE,
    View,
    custom_field_option,
    issue_type_json,
    link_type_json,
    priority_json,
    project_ref,
    resolution_json,
    status_json,
    user_json,
    user_or_none,
)


def issue_ref(view: View, issue: Issue) -> JSON:
    """How another issue shows a linked issue, a parent or a sub-task."""
    site = view.site
    return {
        "id": issue.id,
        "key": issue.key,
        "self": f"{view.root}/issue/{issue.id}",
        "fields": {
            "summary": issue.summary,
            "status": status_json(view, site.statuses[issue.status_id]),
            "priority": priority_json(view, site.priorities[issue.priority_id]),
            "issuetype": issue_type_json(view, site.issue_types[issue.type_id]),
        },
    }


def issue_link_json(view: View, link: IssueLink, seen_from: Issue) -> JSON:
    site = view.site
    out: JSON = {
        "id": link.id,
        "self": f"{view.root}/issueLink/{link.id}",
        "type": link_type_json(view, site.link_types[link.type_id]),
    }
    if link.inward_id == seen_from.id:
        out["outwardIssue"] = issue_ref(view, site.issues[link.outward_id])
    else:
        out["inwardIssue"] = issue_ref(view, site.issues[link.inward_id])
    return out


def comment_json(view: View, comment: Comment) -> JSON:
    site = view.site
    out: JSON = {
        "self": f"{view.root}/issue/{comment.issue_id}/comment/{comment.id}",
        "id": comment.id,
        "author": user_json(view, site.users[comment.author]),
        "body": view.text(comment.body),
        "updateAuthor": user_json(view, site.users[comment.update_author]),
        "created": jira_time(comment.created),
        "updated": jira_time(comment.updated),
    }
    if comment.visibility is not None:
        out["visibility"] = comment.visibility
    if site.cloud:
        out["jsdPublic"] = True
    return out


def comments_page(view: View, comments: list[Comment], start: int, limit: int) -> JSON:
    page = comments[start : start + limit]
    return {
        "startAt": start,
        "maxResults": limit,
        "total": len(comments),
        "comments": [comment_json(view, c) for c in page],
    }


def remote_link_json(view: View, link: RemoteLink, issue: Issue) -> JSON:
    out: JSON = {"id": link.id, "self": f"{view.root}/issue/{issue.key}/remotelink/{link.id}"}
    if link.global_id is not None:
        out["globalId"] = link.global_id
    out["application"] = dict(link.application)
    if link.relationship is not None:
        out["relationship"] = link.relationship
    out["object"] = dict(link.object)
    return out


def all_fields(view: View, issue: Issue) -> JSON:
    site = view.site
    fields: JSON = {
        "issuetype": issue_type_json(view, site.issue_types[issue.type_id]),
        "project": project_ref(view, site.projects[issue.project_id]),
        "summary": issue.summary,
        "description": view.text(issue.description),
        "environment": view.text(issue.environment),
        "labels": list(issue.labels),
        "priority": priority_json(view, site.priorities[issue.priority_id]),
        "status": status_json(view, site.statuses[issue.status_id]),
        "resolution": resolution_json(view) if issue.resolution_id else None,
        "resolutiondate": jira_time(issue.resolved) if issue.resolved else None,
        "assignee": user_or_none(view, issue.assignee),
        "reporter": user_or_none(view, issue.reporter),
        "creator": user_or_none(view, issue.creator),
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
        "duedate": issue.duedate,
        "issuelinks": [issue_link_json(view, link, issue) for link in site.links_of(issue)],
        "subtasks": [issue_ref(view, sub) for sub in site.subtasks_of(issue)],
        "components": [],
        "fixVersions": [],
        "versions": [],
        "attachment": [],
        "timespent": None,
        "timeestimate": None,
        "timeoriginalestimate": None,
        "workratio": -1,
        "lastViewed": None,
        "security": _security(view, issue),
        "comment": comments_page(view, issue.comments, 0, max(len(issue.comments), 0)),
    }
    if site.cloud:
        fields["statuscategorychangedate"] = jira_time(issue.created)
    if issue.parent_id is not None:
        fields["parent"] = issue_ref(view, site.issues[issue.parent_id])
    for custom in site.custom_fields.values():
        value = issue.custom.get(custom.id)
        if value is not None and custom.kind == "option":
            value = custom_field_option(view, custom, value)
        fields[custom.id] = value
    return fields


def security_level_json(view: View, level: SecurityLevel) -> JSON:
    return {
        "self": f"{view.root}/securitylevel/{level.id}",
        "id": level.id,
        "description": level.description,
        "name": level.name,
    }


def _security(view: View, issue: Issue) -> JSON | None:
    if issue.security_id is None:
        return None
    for level in view.site.projects[issue.project_id].security_levels:
        if level.id == issue.security_id:
            return security_level_json(view, level)
    return None


def field_filter(requested: list[str] | None, default: str) -> Callable[[str], bool]:
    """Jira's ``fields`` parameter: ``*all``, ``*navigable``, names, ``-name`` exclusions."""
    names = [n.strip() for item in (requested or [default]) for n in item.split(",") if n.strip()]
    wanted = {n for n in names if not n.startswith(("-", "*"))}
    unwanted = {n[1:] for n in names if n.startswith("-")}
    every = "*all" in names
    navigable = "*navigable" in names or (not wanted and not every and bool(unwanted))

    def keep(name: str) -> bool:
        if name in unwanted:
            return False
        return every or name in wanted or (navigable and name not in NOT_NAVIGABLE)

    return keep


def issue_json(view: View, issue: Issue, keep: Callable[[str], bool] | None = None) -> JSON:
    fields = all_fields(view, issue)
    if keep is not None:
        fields = {k: v for k, v in fields.items() if keep(k)}
    return {
        "expand": ISSUE_EXPAND,
        "id": issue.id,
        "self": f"{view.root}/issue/{issue.id}",
        "key": issue.key,
        "fields": fields,
    }
