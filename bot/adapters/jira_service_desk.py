"""The ServiceDesk port on Jira Service Management's REST API (`/rest/servicedeskapi`): the
post-mortem raised as a customer request of a service project (`JIRA_SERVICE_DESK`, its key or
id), of the request type the catalog names (`postmortem.request_type`).

A request is a Jira issue of that project, so everything after its creation (labels, the
security level, links, remote links, follow-ups) goes through the platform API of the same
JiraTracker, with the same credentials. The request carries the export's labels when its form
has the Labels field; otherwise they are set right after it is created (a lost answer in that
moment can then make a second request: `incidentbot config check` says so)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.jira import JiraTracker
from bot.flows.ports import IntegrationError, TrackerIssue
from bot.markup import to_jira_wiki

API = "rest/servicedeskapi"
DEFAULT_REQUEST_TYPE = "Post-incident review"  # else the desk's first request type
SETTING = "postmortem.request_type"
# What to set when the catalog sends a service's post-mortems to a service desk and none is.
NOT_SET_UP = (
    "set JIRA_SERVICE_DESK to the key or id of the Jira Service Management project they are "
    "raised in, or the service's `tracker.kind` to `issues`"
)


@dataclass(frozen=True)
class RequestType:
    id: str
    name: str
    fields: frozenset[str]  # the fields on its form: only these may be sent


@dataclass(frozen=True)
class Desk:
    id: str
    key: str  # its project's key
    name: str


class JiraServiceDesk:
    name = "Jira Service Management"
    fix = (
        "JIRA_PROJECT, JIRA_SERVICE_DESK and the catalog's postmortem settings (jira_project, "
        "issue_type, request_type, followup_issue_type, link_type, private.security_level)"
    )

    def __init__(self, tracker: JiraTracker, desk: str) -> None:
        self.tracker = tracker
        self.reference = desk.strip()
        self._desk: Desk | None = None
        self._types: dict[str | None, RequestType] = {}

    # -- plumbing ----------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any | None = None) -> Any:
        session = self.tracker.client._session
        url = f"{self.tracker.url}/{API}/{path}"

        def send() -> Any:
            response = getattr(session, method)(
                url,
                data=json.dumps(body) if body is not None else None,
                headers={"X-ExperimentalApi": "opt-in"},  # request type fields, on Data Center
            )
            return response.json() if response.content else None

        return self.tracker._call(send)

    def _pages(self, path: str) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = []
        while True:
            page = self._call("get", f"{path}?start={len(values)}&limit=50") or {}
            values += page.get("values") or []
            if page.get("isLastPage", True) or not page.get("values"):
                return values

    # -- what the configuration names --------------------------------------------------------------
    def desk(self) -> Desk:
        """The service desk JIRA_SERVICE_DESK names, by its project's key or id, or its own id."""
        if self._desk is None:
            desks = self._pages("servicedesk")
            wanted = self.reference.upper()
            for d in desks:
                if wanted in (str(d.get("id")), str(d.get("projectId")), str(d.get("projectKey"))):
                    self._desk = Desk(str(d["id"]), str(d["projectKey"]), str(d["projectName"]))
                    break
            else:
                seen = ", ".join(f"{d.get('projectKey')} ({d.get('id')})" for d in desks)
                raise IntegrationError(
                    "jira",
                    "service_desk",
                    retryable=False,
                    detail=f"JIRA_SERVICE_DESK={self.reference} names no service desk this Jira "
                    f"user can see (it sees: {seen or 'none'}); set JIRA_SERVICE_DESK to the key "
                    "or id of a service project the user is an agent of",
                )
        return self._desk

    def request_type(self, name: str | None) -> RequestType:
        """The request type `name` (the catalog's), by name or id; unset: "Post-incident
        review" if the desk has one, else its first."""
        if name in self._types:
            return self._types[name]
        desk = self.desk()
        kinds = self._pages(f"servicedesk/{desk.id}/requesttype")
        wanted = (name or DEFAULT_REQUEST_TYPE).strip().lower()
        found = next(
            (k for k in kinds if wanted in (str(k.get("name", "")).lower(), str(k.get("id")))),
            None if name else (kinds[0] if kinds else None),
        )
        if found is None:
            names = ", ".join(f"“{k.get('name')}”" for k in kinds) or "none"
            raise IntegrationError(
                "jira",
                "request_type",
                retryable=False,
                detail=f"service desk {desk.key} has no request type “{name}” (it has: {names}); "
                f"set {SETTING} in the catalog to one of them"
                if name
                else f"service desk {desk.key} has no request types; add one in its project "
                f"settings and name it in {SETTING}",
            )
        form = self._call("get", f"servicedesk/{desk.id}/requesttype/{found['id']}/field") or {}
        fields = frozenset(str(f.get("fieldId")) for f in form.get("requestTypeFields") or [])
        kind = RequestType(str(found["id"]), str(found.get("name")), fields)
        self._types[name] = kind
        return kind

    def check(self, name: str | None) -> str:
        """`incidentbot config check`: the desk and the request type, or IntegrationError."""
        desk, kind = self.desk(), self.request_type(name)
        said = f"service desk {desk.key} ({desk.name}); request type “{kind.name}”"
        if "labels" not in kind.fields:
            said += (
                " (its form has no Labels field: add it, so a retry after a lost answer finds "
                "the request instead of raising a second)"
            )
        return said

    # -- the port ----------------------------------------------------------------------------------
    def create_request(
        self, *, request_type: str | None, summary: str, description: str, labels: Sequence[str]
    ) -> TrackerIssue:
        desk, kind = self.desk(), self.request_type(request_type)
        values: dict[str, Any] = {"summary": summary[:255]}
        if "description" in kind.fields:
            values["description"] = to_jira_wiki(description)  # a string, in wiki markup
        if "labels" in kind.fields:
            values["labels"] = list(labels)
        created = self._call(
            "post",
            "request",
            {"serviceDeskId": desk.id, "requestTypeId": kind.id, "requestFieldValues": values},
        )
        key = str(created["issueKey"])
        if "labels" not in kind.fields:  # through the platform API, at once
            self.tracker._rest("put", f"issue/{key}", {"fields": {"labels": list(labels)}})
        return TrackerIssue(key, self.tracker.browse(key))
