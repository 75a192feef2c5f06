"""``ORDER BY`` in the JQL subset: the fields Jira sorts by, and the key each issue sorts on."""

from __future__ import annotations

from collections.abc import Callable

from .jql_parse import JqlError
from .records import Issue
from .state import Site

_SORTABLE = {
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "created": "created",
    "updated": "updated",
    "priority": "priority",
    "summary": "summary",
    "status": "status",
    "resolved": "resolved",
    "duedate": "duedate",
    "assignee": "assignee",
}


def sort_key(site: Site, field: str) -> Callable[[Issue], tuple[object, ...]]:
    name = _SORTABLE.get(field.lower())
    if name is None:
        known = site.custom_field_of(field) is not None or field.lower() in (
            "labels",
            "description",
            "text",
            "comment",
            "project",
            "issuetype",
            "type",
            "reporter",
        )
        if known:
            raise JqlError(f"Field '{field}' does not support sorting.")
        raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")
    order = list(site.priorities)

    def key(issue: Issue) -> tuple[object, ...]:
        if name == "key":
            project = site.projects[issue.project_id]
            return (project.key, int(issue.key.rsplit("-", 1)[1]))
        if name == "priority":
            return (len(order) - order.index(issue.priority_id),)
        if name == "status":
            return (site.statuses[issue.status_id].name,)
        value = getattr(issue, name)
        return (value is None, value or 0) if name != "summary" else (issue.summary.lower(),)

    return key
