"""Creating and editing an issue (``POST issue``, ``PUT issue/{id}``): the body's ``fields`` and
``update`` checked by :class:`bot.emulators.jira.fields.Writer`, then written all at once."""

from __future__ import annotations

import time
from typing import Any

from .fields import CREATE_FIELDS, EDIT_FIELDS, INVALID_PAYLOAD, NO_CREATE, Writer, reference
from .records import JSON, Issue, IssueType, Project, User
from .state import Site, error, field_errors


# ------------------------------------------------------------- create
def _both(writer: Writer, fields: JSON, update: Any) -> None:
    for name in set(fields) & set(update if isinstance(update, dict) else {}):
        writer.errors[name] = f"Field '{name}' cannot appear in both 'fields' and 'update'"


def create_issue(site: Site, acting: User, body: Any, *, adf_text: bool) -> Issue:
    if not isinstance(body, dict):
        raise error(400, INVALID_PAYLOAD)
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise error(400, INVALID_PAYLOAD)
    writer = Writer(site, acting, adf_text)
    _both(writer, fields, body.get("update"))
    project = _project(writer, fields.get("project"))
    writer.project = project
    kind = _issue_type(writer, fields.get("issuetype"), project)
    if "summary" not in fields:
        writer.errors["summary"] = "You must specify a summary of the issue."
    both = set(writer.errors)
    changes = writer.collect(fields, CREATE_FIELDS, {"project", "issuetype", *both})
    update = body.get("update")
    if isinstance(update, dict):
        update = {k: v for k, v in update.items() if k not in both}
    changes += writer.updates(update, None)
    if project is not None and kind is not None:
        parent = (
            writer.parent(fields["parent"])
            if "parent" not in writer.errors and fields.get("parent")
            else None
        )
        writer.check_parent(kind, project, parent)
    if writer.errors or project is None or kind is None:
        raise field_errors(writer.errors)
    issue = site.new_issue(project, kind.id, str(fields["summary"]), acting.name)
    for change in changes:
        change(issue)
    return issue


def _project(writer: Writer, value: Any) -> Project | None:
    ref = reference(value)
    if ref is None:
        writer.errors["project"] = "Specify a valid project ID or key"
        return None
    project = writer.site.project_of(ref)
    denied = project and writer.site.denial(writer.acting, project.id)
    if denied and denied.status == 403:
        raise error(403, NO_CREATE)
    if project is None or denied:
        writer.errors["project"] = "valid project is required"
        return None
    return project


def _issue_type(writer: Writer, value: Any, project: Project | None) -> IssueType | None:
    if not isinstance(value, dict) or not ({"id", "name"} & set(value)):
        writer.errors["issuetype"] = "Specify an issue type"
        return None
    if "id" in value:
        kind = writer.site.issue_types.get(str(value["id"]))
    else:
        kind = writer.site.issue_type_of(str(value["name"]))
    if kind is None or (project is not None and kind.id not in project.type_ids):
        writer.errors["issuetype"] = "The issue type selected is invalid."
        return None
    return kind


# --------------------------------------------------------------- edit
def edit_issue(site: Site, acting: User, issue: Issue, body: Any, *, adf_text: bool) -> None:
    if not isinstance(body, dict):
        raise error(400, INVALID_PAYLOAD)
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise error(400, INVALID_PAYLOAD)
    writer = Writer(site, acting, adf_text, project=site.projects[issue.project_id])
    _both(writer, fields, update)
    both = set(writer.errors)
    changes = writer.collect(fields, EDIT_FIELDS, both)
    changes += writer.updates({k: v for k, v in update.items() if k not in both}, issue)
    if "parent" in fields and "parent" not in writer.errors and fields["parent"] is not None:
        kind = site.issue_types[issue.type_id]
        writer.check_parent(kind, site.projects[issue.project_id], writer.parent(fields["parent"]))
    if writer.errors:
        raise field_errors(writer.errors)
    for change in changes:
        change(issue)
    issue.updated = time.time()
