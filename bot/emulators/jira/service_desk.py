"""Jira Service Management's REST API (``/rest/servicedeskapi``): service desks, their request
types and the fields of each, and raising a customer request.

A service desk is a project of the site; a request is an issue of that project (of its request
type's issue type), so the platform API (``/rest/api``) reads, edits, labels and links it like
any other. Errors have the service desk API's own shape, not the platform's:
``{"errorMessage": …, "i18nErrorMessage": {"i18nKey": …, "parameters": [...]}}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from .records import JSON, Issue, Project, Text, User, jira_time
from .rest import Ctx, route
from .state import ApiError, Site

API = "/rest/servicedeskapi"
# Fields a request type may show on its form, as Jira names them, and their labels there.
FIELD_NAMES = {"summary": "Summary", "description": "Description", "labels": "Labels"}
DEFAULT_FIELDS = ("summary", "description")
PAGE_LIMIT = 50


@dataclass(frozen=True)
class RequestType:
    id: str
    name: str
    description: str
    issue_type_id: str
    fields: tuple[str, ...] = DEFAULT_FIELDS  # on its form; others are refused on create


@dataclass
class Desk:
    id: str
    project_id: str
    request_types: list[RequestType] = field(default_factory=list)


@dataclass
class Desks:
    by_id: dict[str, Desk] = field(default_factory=dict)


_DESKS: WeakKeyDictionary[Site, Desks] = WeakKeyDictionary()


def desks(site: Site) -> Desks:
    return _DESKS.setdefault(site, Desks())


def add_desk(
    site: Site, project: Project, request_types: list[tuple[str, str, tuple[str, ...]]]
) -> Desk:
    """A service desk on `project`, with request types (name, issue type name, form fields)."""
    known = desks(site)
    if any(d.project_id == project.id for d in known.by_id.values()):
        raise ValueError(f"project {project.key} already has a service desk")
    desk = Desk(str(len(known.by_id) + 1), project.id)
    for name, issue_type, fields in request_types:
        kind = site.issue_type_of(issue_type)
        if kind is None:
            raise KeyError(f"no issue type {issue_type!r}")
        rid = str(site.ids.next("requesttype") + 9)
        desk.request_types.append(RequestType(rid, name, f"{name} requests", kind.id, fields))
    known.by_id[desk.id] = desk
    return desk


# ------------------------------------------------------------------ errors
def sd_error(status: int, message: str, key: str, *parameters: str) -> ApiError:
    return ApiError(
        status,
        body={
            "errorMessage": message,
            "i18nErrorMessage": {"i18nKey": key, "parameters": list(parameters)},
        },
    )


def _no_desk(reference: str) -> ApiError:
    return sd_error(
        404,
        "The service project you are trying to view does not exist.",
        "sd.agent.servicedesk.error.not.found",
        reference,
    )


def _desk(ctx: Ctx, reference: Any) -> Desk:
    """By the desk's id or, as Cloud also takes, its project's id or key; a desk whose project
    the user may not browse does not exist for them."""
    me = ctx.me
    ref = str(reference or "")
    known = desks(ctx.site).by_id
    desk = known.get(ref)
    if desk is None:
        project = ctx.site.project_of(ref) if ref else None
        desk = next((d for d in known.values() if project and d.project_id == project.id), None)
    if desk is None or ctx.site.denial(me, desk.project_id):
        raise _no_desk(ref)
    return desk


def _request_type(desk: Desk, reference: Any) -> RequestType:
    found = next((t for t in desk.request_types if t.id == str(reference or "")), None)
    if found is None:
        raise sd_error(
            404,
            "The request type you are trying to view does not exist.",
            "sd.customer.request.type.error.not.found",
            str(reference),
        )
    return found


# ------------------------------------------------------------------ shapes
def _page(ctx: Ctx, path: str, values: list[JSON]) -> JSON:
    start = max(ctx.integer("start", 0), 0)
    limit = min(max(ctx.integer("limit", PAGE_LIMIT), 1), PAGE_LIMIT)
    page = values[start : start + limit]
    base = ctx.site.base_url
    return {
        "_expands": [],
        "size": len(page),
        "start": start,
        "limit": limit,
        "isLastPage": start + len(page) >= len(values),
        "_links": {"base": base, "context": "", "self": f"{base}{API}/{path}"},
        "values": page,
    }


def desk_json(site: Site, desk: Desk) -> JSON:
    project = site.projects[desk.project_id]
    return {
        "id": desk.id,
        "projectId": project.id,
        "projectName": project.name,
        "projectKey": project.key,
        "_links": {"self": f"{site.base_url}{API}/servicedesk/{desk.id}"},
    }


def request_type_json(site: Site, desk: Desk, kind: RequestType) -> JSON:
    return {
        "_expands": [],
        "id": kind.id,
        "_links": {"self": f"{site.base_url}{API}/servicedesk/{desk.id}/requesttype/{kind.id}"},
        "name": kind.name,
        "description": kind.description,
        "helpText": "",
        "issueTypeId": kind.issue_type_id,
        "serviceDeskId": desk.id,
        "groupIds": ["1"],
    }


def _date(epoch: float) -> JSON:
    return {
        "iso8601": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch)),
        "jira": jira_time(epoch),
        "friendly": "Today",
        "epochMillis": int(epoch * 1000),
    }


def request_json(site: Site, desk: Desk, kind: RequestType, issue: Issue, me: User) -> JSON:
    base = site.base_url
    values: list[JSON] = [
        {"fieldId": "summary", "label": FIELD_NAMES["summary"], "value": issue.summary}
    ]
    if issue.description is not None and issue.description.wiki is not None:
        values.append(
            {
                "fieldId": "description",
                "label": FIELD_NAMES["description"],
                "value": issue.description.wiki,
            }
        )
    reporter: JSON = {"displayName": me.display_name, "emailAddress": me.email}
    reporter |= {"accountId": me.account_id} if site.cloud else {"name": me.name, "key": me.name}
    return {
        "_expands": ["participant", "status", "sla", "requestType", "serviceDesk"],
        "issueId": issue.id,
        "issueKey": issue.key,
        "requestTypeId": kind.id,
        "serviceDeskId": desk.id,
        "createdDate": _date(issue.created),
        "reporter": reporter,
        "requestFieldValues": values,
        "currentStatus": {
            "status": "Waiting for support",
            "statusCategory": "NEW",
            "statusDate": _date(issue.created),
        },
        "_links": {
            "jiraRest": f"{base}/rest/api/2/issue/{issue.id}",
            "web": f"{base}/servicedesk/customer/portal/{desk.id}/{issue.key}",
            "self": f"{base}{API}/request/{issue.id}",
        },
    }


# ------------------------------------------------------------------ routes
@route("GET", f"{API}/servicedesk")
def list_desks(ctx: Ctx) -> tuple[int, Any]:
    me = ctx.me
    visible = [
        desk_json(ctx.site, d)
        for d in desks(ctx.site).by_id.values()
        if not ctx.site.denial(me, d.project_id)
    ]
    return 200, _page(ctx, "servicedesk", visible)


@route("GET", f"{API}/servicedesk/{{serviceDeskId}}")
def get_desk(ctx: Ctx) -> tuple[int, Any]:
    return 200, desk_json(ctx.site, _desk(ctx, ctx.params["serviceDeskId"]))


@route("GET", f"{API}/servicedesk/{{serviceDeskId}}/requesttype")
def list_request_types(ctx: Ctx) -> tuple[int, Any]:
    desk = _desk(ctx, ctx.params["serviceDeskId"])
    values = [request_type_json(ctx.site, desk, t) for t in desk.request_types]
    return 200, _page(ctx, f"servicedesk/{desk.id}/requesttype", values)


@route("GET", f"{API}/servicedesk/{{serviceDeskId}}/requesttype/{{requestTypeId}}/field")
def request_type_fields(ctx: Ctx) -> tuple[int, Any]:
    desk = _desk(ctx, ctx.params["serviceDeskId"])
    kind = _request_type(desk, ctx.params["requestTypeId"])
    return 200, {
        "requestTypeFields": [
            {
                "fieldId": f,
                "name": FIELD_NAMES[f],
                "description": "",
                "required": f == "summary",
                "validValues": [],
                "jiraSchema": {"type": "array", "items": "string", "system": f}
                if f == "labels"
                else {"type": "string", "system": f},
                "visible": True,
            }
            for f in kind.fields
        ],
        "canRaiseOnBehalfOf": True,
        "canAddRequestParticipants": True,
    }


@route("POST", f"{API}/request")
def create_request(ctx: Ctx) -> tuple[int, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    me = ctx.me
    if "serviceDeskId" not in body:
        raise sd_error(
            400, "The service desk id is required.", "sd.request.create.error.sd.id.required"
        )
    desk = _desk(ctx, body["serviceDeskId"])
    if "requestTypeId" not in body:
        raise sd_error(
            400, "The request type id is required.", "sd.request.create.error.rt.id.required"
        )
    kind = _request_type(desk, body["requestTypeId"])
    values = body.get("requestFieldValues") or {}
    if not isinstance(values, dict):
        raise sd_error(
            400, "Invalid request field values.", "sd.request.create.error.invalid.fields"
        )
    errors = {
        name: f"Field '{name}' is not valid for this request type."
        for name in values
        if name not in kind.fields
    }
    summary = values.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
    labels = values.get("labels", [])
    if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
        errors["labels"] = "The label must not contain spaces."
    if errors:
        raise ApiError(
            400,
            body={
                "errorMessage": "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())),
                "i18nErrorMessage": {
                    "i18nKey": "sd.request.create.error.field.validation",
                    "parameters": sorted(errors),
                },
            },
        )
    assert isinstance(summary, str)
    project = ctx.site.projects[desk.project_id]
    issue = ctx.site.new_issue(project, kind.issue_type_id, summary[:255], me.name)
    description = values.get("description")
    if isinstance(description, str):
        issue.description = Text(wiki=description)
    issue.labels = [str(x) for x in labels]
    return 201, request_json(ctx.site, desk, kind, issue, me)
