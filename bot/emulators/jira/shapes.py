"""The JSON Jira answers with, for Cloud and Server/DC, REST v2 (wiki markup) and v3 (ADF).

Ids are strings (remote link ids and status category ids are numbers, as in Jira); every
``self`` URL is built from the emulator's base URL and the API version the request used.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from . import adf
from .records import (
    JSON,
    CustomField,
    IssueType,
    LinkType,
    Priority,
    Project,
    Status,
    Text,
    User,
    jira_time,
)
from .state import DONE_RESOLUTION, Site

_CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
NOT_NAVIGABLE = frozenset({"comment"})


@dataclass(frozen=True)
class View:
    """Who looks, through which API version: ``root`` is ``<base>/rest/api/<version>``."""

    site: Site
    root: str
    adf: bool

    @property
    def base(self) -> str:
        return self.site.base_url

    def text(self, value: Text | None) -> str | JSON | None:
        return adf.as_document(value) if self.adf else adf.as_wiki(value)


def view(site: Site, version: str) -> View:
    return View(site, f"{site.base_url}/rest/api/{version}", version == "3")


# ----------------------------------------------------------------- users
def _avatars(view: View, user: User) -> dict[str, str]:
    if view.site.cloud:
        digest = hashlib.md5(user.email.lower().encode(), usedforsecurity=False).hexdigest()
        url = f"https://secure.gravatar.com/avatar/{digest}?d=mm&s="
        return {size: url + size.split("x")[0] for size in ("48x48", "24x24", "16x16", "32x32")}
    url = f"{view.base}/secure/useravatar?ownerId={user.name}&avatarId=10122&size="
    names = {"48x48": "large", "24x24": "small", "16x16": "xsmall", "32x32": "medium"}
    return {size: url + name for size, name in names.items()}


def user_json(view: View, user: User) -> JSON:
    if view.site.cloud:
        return {
            "self": f"{view.root}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "emailAddress": user.email,
            "avatarUrls": _avatars(view, user),
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
            "accountType": "atlassian",
        }
    return {
        "self": f"{view.root}/user?username={user.name}",
        "name": user.name,
        "key": user.key,
        "emailAddress": user.email,
        "avatarUrls": _avatars(view, user),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
    }


def myself_json(view: View, user: User) -> JSON:
    out = user_json(view, user)
    out["locale"] = "en_US"
    if not view.site.cloud:
        out["deleted"] = False
    out["groups"] = {"size": 2, "items": []}
    out["applicationRoles"] = {"size": 1, "items": []}
    out["expand"] = "groups,applicationRoles"
    return out


def user_or_none(view: View, name: str | None) -> JSON | None:
    user = view.site.users.get(name) if name else None
    return user_json(view, user) if user else None


# ------------------------------------------------------------ catalogues
def issue_type_json(view: View, kind: IssueType) -> JSON:
    if view.site.cloud:
        icon = (
            f"{view.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/"
            f"{kind.avatar_id}?size=medium"
        )
    else:
        icon = f"{view.base}/secure/viewavatar?size=xsmall&avatarId={kind.avatar_id}&avatarType=issuetype"
    out: JSON = {
        "self": f"{view.root}/issuetype/{kind.id}",
        "id": kind.id,
        "description": kind.description,
        "iconUrl": icon,
        "name": kind.name,
        "subtask": kind.subtask,
        "avatarId": kind.avatar_id,
    }
    if view.site.cloud:
        out["untranslatedName"] = kind.name
        out["hierarchyLevel"] = kind.level
    return out


def priority_json(view: View, priority: Priority) -> JSON:
    return {
        "self": f"{view.root}/priority/{priority.id}",
        "iconUrl": f"{view.base}/images/icons/priorities/{priority.name.lower()}.svg",
        "name": priority.name,
        "id": priority.id,
    }


def status_json(view: View, status: Status) -> JSON:
    number, name, color = _CATEGORIES[status.category]
    return {
        "self": f"{view.root}/status/{status.id}",
        "description": "",
        "iconUrl": f"{view.base}/",
        "name": status.name,
        "id": status.id,
        "statusCategory": {
            "self": f"{view.root}/statuscategory/{number}",
            "id": number,
            "key": status.category,
            "colorName": color,
            "name": name,
        },
    }


def resolution_json(view: View) -> JSON:
    rid, name, description = DONE_RESOLUTION
    return {
        "self": f"{view.root}/resolution/{rid}",
        "id": rid,
        "description": description,
        "name": name,
    }


def link_type_json(view: View, kind: LinkType) -> JSON:
    return {
        "id": kind.id,
        "name": kind.name,
        "inward": kind.inward,
        "outward": kind.outward,
        "self": f"{view.root}/issueLinkType/{kind.id}",
    }


def _project_avatars(view: View, project: Project) -> dict[str, str]:
    url = f"{view.base}/rest/api/2/universal_avatar/view/type/project/avatar/10400?size="
    names = {"48x48": "large", "24x24": "small", "16x16": "xsmall", "32x32": "medium"}
    return {size: url + name for size, name in names.items()}


def project_ref(view: View, project: Project) -> JSON:
    out: JSON = {
        "self": f"{view.root}/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "avatarUrls": _project_avatars(view, project),
    }
    if view.site.cloud:
        out["simplified"] = False
    return out


def project_list_item(view: View, project: Project) -> JSON:
    out: JSON = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight"}
    out.update(project_ref(view, project))
    if view.site.cloud:
        out.update({"style": "classic", "isPrivate": False, "properties": {}})
    else:
        out["archived"] = False
    return out


def project_json(view: View, project: Project) -> JSON:
    out = project_list_item(view, project)
    out.update(
        {
            "description": project.description,
            "lead": user_json(view, view.site.users[project.lead]),
            "components": [],
            "issueTypes": [
                issue_type_json(view, view.site.issue_types[t]) for t in project.type_ids
            ],
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {},
        }
    )
    return out


def custom_field_option(view: View, custom: CustomField, value: str) -> JSON:
    oid = str(int(custom.number) * 10 + custom.options.index(value) + 1)
    return {"self": f"{view.root}/customFieldOption/{oid}", "value": value, "id": oid}


def field_json(
    fid: str, name: str, schema: JSON, clauses: Iterable[str], *, custom: bool = False
) -> JSON:
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": custom,
        "orderable": fid not in ("status", "created", "updated", "creator", "issuekey"),
        "navigable": fid not in NOT_NAVIGABLE,
        "searchable": True,
        "clauseNames": list(clauses),
        "schema": schema,
    }


SYSTEM_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("issuekey", "Key", "string", ("id", "issue", "issuekey", "key")),
    ("summary", "Summary", "string", ("summary",)),
    ("description", "Description", "string", ("description",)),
    ("environment", "Environment", "string", ("environment",)),
    ("issuetype", "Issue Type", "issuetype", ("issuetype", "type")),
    ("project", "Project", "project", ("project",)),
    ("parent", "Parent", "issuelink", ("parent",)),
    ("labels", "Labels", "array", ("labels",)),
    ("priority", "Priority", "priority", ("priority",)),
    ("status", "Status", "status", ("status",)),
    ("resolution", "Resolution", "resolution", ("resolution",)),
    ("resolutiondate", "Resolved", "datetime", ("resolutiondate", "resolved")),
    ("assignee", "Assignee", "user", ("assignee",)),
    ("reporter", "Reporter", "user", ("reporter",)),
    ("creator", "Creator", "user", ("creator",)),
    ("created", "Created", "datetime", ("created", "createdDate")),
    ("updated", "Updated", "datetime", ("updated", "updatedDate")),
    ("duedate", "Due date", "date", ("due", "duedate")),
    ("issuelinks", "Linked Issues", "array", ("issueLink",)),
    ("subtasks", "Sub-tasks", "array", ("subtasks",)),
    ("comment", "Comment", "comments-page", ("comment",)),
)


def fields_json(site: Site) -> list[JSON]:
    out = [
        field_json(fid, name, {"type": kind, "system": fid}, clauses)
        for fid, name, kind, clauses in SYSTEM_FIELDS
    ]
    for custom in site.custom_fields.values():
        plugin = {"string": "textfield", "number": "float", "option": "select"}[custom.kind]
        schema = {
            "type": custom.kind,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
            "customId": int(custom.number),
        }
        clauses = (f"cf[{custom.number}]", custom.name)
        out.append(field_json(custom.id, custom.name, schema, clauses, custom=True))
    return out


def server_info(view: View) -> JSON:
    site = view.site
    numbers = list(site.version)
    out: JSON = {"baseUrl": view.base}
    if site.cloud:
        out.update(
            {
                "displayUrl": view.base,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": numbers,
                "deploymentType": "Cloud",
                "buildNumber": 100289,
                "buildDate": "2025-06-02T00:00:00.000+0000",
            }
        )
    else:
        out.update(
            {
                "version": ".".join(str(n) for n in numbers),
                "versionNumbers": numbers,
                "deploymentType": "Server",
                "buildNumber": 9120015,
                "buildDate": "2024-11-14T00:00:00.000+0000",
                "databaseBuildNumber": 9120015,
            }
        )
    out.update(
        {
            "serverTime": jira_time(time.time()),
            "scmInfo": "0c4d2a5b3f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
            "serverTitle": "Jira",
        }
    )
    if site.cloud:
        out["defaultLocale"] = {"locale": "en_US"}
        out["serverTimeZone"] = "Etc/UTC"
    return out
