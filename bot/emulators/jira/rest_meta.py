"""REST API v2/v3: issue types and create metadata (what fields a new issue of a type takes),
registered through :func:`bot.emulators.jira.rest.route`."""

from __future__ import annotations

from typing import Any

from . import issue_shapes, shapes
from .records import Project
from .rest import Ctx, route, visible_project
from .state import error


# ------------------------------------------------------------ issue types
@route("GET", "issuetype")
def list_issue_types(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    return 200, [shapes.issue_type_json(ctx.view, t) for t in ctx.site.issue_types.values()]


@route("GET", "issuetype/{id}")
def get_issue_type(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    kind = ctx.site.issue_types.get(ctx.params["id"])
    if kind is None:
        raise error(404, "The issue type with id '{}' does not exist".format(ctx.params["id"]))
    return 200, shapes.issue_type_json(ctx.view, kind)


def _create_fields(ctx: Ctx, subtask: bool, project: Project) -> list[dict[str, Any]]:
    """The create screen: the system fields (`security` where the project has an issue security
    scheme, with its levels) and every custom field."""
    view = ctx.view
    base = [
        ("summary", "Summary", {"type": "string", "system": "summary"}, True),
        ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, True),
        ("project", "Project", {"type": "project", "system": "project"}, True),
        ("description", "Description", {"type": "string", "system": "description"}, False),
        ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, False),
        ("priority", "Priority", {"type": "priority", "system": "priority"}, False),
        ("assignee", "Assignee", {"type": "user", "system": "assignee"}, False),
        ("reporter", "Reporter", {"type": "user", "system": "reporter"}, True),
        ("duedate", "Due date", {"type": "date", "system": "duedate"}, False),
        ("environment", "Environment", {"type": "string", "system": "environment"}, False),
        ("parent", "Parent", {"type": "issuelink", "system": "parent"}, subtask),
    ]
    out = []
    for fid, name, schema, required in base:
        item: dict[str, Any] = {
            "required": required,
            "schema": schema,
            "name": name,
            "fieldId": fid,
            "key": fid,
            "hasDefaultValue": fid in ("priority", "reporter", "issuetype", "project"),
            "operations": ["set"] if fid != "labels" else ["add", "set", "remove"],
        }
        if fid == "priority":
            item["allowedValues"] = [
                shapes.priority_json(view, p) for p in ctx.site.priorities.values()
            ]
        out.append(item)
    if project.security_levels:
        out.append(
            {
                "required": False,
                "schema": {"type": "securitylevel", "system": "security"},
                "name": "Security Level",
                "fieldId": "security",
                "key": "security",
                "hasDefaultValue": False,
                "operations": ["set"],
                "allowedValues": [
                    issue_shapes.security_level_json(view, level)
                    for level in project.security_levels
                ],
            }
        )
    for custom in ctx.site.custom_fields.values():
        item = {
            "required": False,
            "schema": {"type": custom.kind, "customId": int(custom.number)},
            "name": custom.name,
            "fieldId": custom.id,
            "key": custom.id,
            "hasDefaultValue": False,
            "operations": ["set"],
        }
        if custom.kind == "option":
            item["allowedValues"] = [
                shapes.custom_field_option(view, custom, o) for o in custom.options
            ]
        out.append(item)
    return out


@route("GET", "issue/createmeta")
def createmeta(ctx: Ctx) -> tuple[int, Any]:
    """Removed in Jira Data Center 9 (``createmeta/{project}/issuetypes`` replaces it)."""
    me = ctx.me
    if not ctx.site.cloud:
        raise ctx.not_found()
    keys, ids = ctx.many("projectKeys"), ctx.many("projectIds")
    type_ids, type_names = ctx.many("issuetypeIds"), ctx.many("issuetypeNames")
    with_fields = "projects.issuetypes.fields" in ctx.many("expand")
    projects = []
    for project in ctx.site.projects.values():
        if ctx.site.denial(me, project.id) is not None:
            continue
        if (keys or ids) and project.key not in keys and project.id not in ids:
            continue
        types = []
        for tid in project.type_ids:
            kind = ctx.site.issue_types[tid]
            if (type_ids or type_names) and tid not in type_ids and kind.name not in type_names:
                continue
            item = shapes.issue_type_json(ctx.view, kind)
            item["expand"] = "fields"
            if with_fields:
                fields = _create_fields(ctx, kind.subtask, project)
                item["fields"] = {f["fieldId"]: f for f in fields}
            types.append(item)
        entry = shapes.project_ref(ctx.view, project)
        entry.pop("projectTypeKey", None)
        entry.pop("simplified", None)
        projects.append({"expand": "issuetypes", **entry, "issuetypes": types})
    return 200, {"expand": "projects", "projects": projects}


def _page(ctx: Ctx, key: str, items: list[Any]) -> tuple[int, Any]:
    start = max(ctx.integer("startAt", 0), 0)
    limit = min(max(ctx.integer("maxResults", 50), 0), 200)
    page = items[start : start + limit]
    if ctx.site.cloud:
        return 200, {"maxResults": limit, "startAt": start, "total": len(items), key: page}
    last = start + len(page) >= len(items)
    return 200, {
        "maxResults": limit,
        "startAt": start,
        "total": len(items),
        "isLast": last,
        "values": page,
    }


@route("GET", "issue/createmeta/{projectIdOrKey}/issuetypes")
def createmeta_issue_types(ctx: Ctx) -> tuple[int, Any]:
    """Cloud answers ``issueTypes``, Data Center ``values`` (and ``isLast``)."""
    project = visible_project(ctx, ctx.params["projectIdOrKey"])
    types = [shapes.issue_type_json(ctx.view, ctx.site.issue_types[t]) for t in project.type_ids]
    return _page(ctx, "issueTypes", types)


@route("GET", "issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}")
def createmeta_fields(ctx: Ctx) -> tuple[int, Any]:
    project = visible_project(ctx, ctx.params["projectIdOrKey"])
    kind = ctx.site.issue_types.get(ctx.params["issueTypeId"])
    if kind is None or kind.id not in project.type_ids:
        raise error(400, "The issue type selected is invalid.")
    return _page(ctx, "fields", _create_fields(ctx, kind.subtask, project))


# ------------------------------------------------------------ issue security
@route("GET", "project/{projectKeyOrId}/securitylevel")
def project_security_levels(ctx: Ctx) -> tuple[int, Any]:
    """The levels of the project's issue security scheme the caller may set."""
    project = visible_project(ctx, ctx.params["projectKeyOrId"])
    view = ctx.view
    return 200, {
        "levels": [issue_shapes.security_level_json(view, x) for x in project.security_levels]
    }


@route("GET", "securitylevel/{id}")
def get_security_level(ctx: Ctx) -> tuple[int, Any]:
    ctx.me  # noqa: B018
    found = ctx.site.security_level_of(ctx.params["id"])
    if found is None:
        raise error(
            404, "Issue security level with id '{}' does not exist.".format(ctx.params["id"])
        )
    return 200, issue_shapes.security_level_json(ctx.view, found[1])
