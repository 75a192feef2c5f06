"""The Tracker port on pycontribs `jira`: Cloud (email + API token, Basic) or Data Center (PAT,
Bearer); REST v2 with wiki markup by default, v3 with ADF as an option.

The client's own retries are turned off (max_retries=0): the outbox owns retries, with backoff
and Retry-After, so a Jira outage never holds a worker in a sleep. Every Jira answer that is not
a success becomes an IntegrationError: 429, 5xx and network faults retryable, the rest (a
project, field or issue type Jira rejects) not, with Jira's own message."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from jira import JIRA, JIRAError
from requests import RequestException

from bot.flows.ports import IntegrationError, TrackerIssue
from bot.markup import to_adf, to_jira_wiki

T = TypeVar("T")

NAME = "Jira"
NOT_SET_UP = "Jira is not set up (JIRA_URL)"  # why post-mortems stay drafts without it
FIX = (
    "JIRA_PROJECT and the catalog's postmortem settings (jira_project, issue_type, "
    "followup_issue_type, link_type, private.security_level)"
)
# Follow-ups' issue fields as post-mortem templates written before they were neutral name them.
TEMPLATE_ALIASES = {"jira_key": "issue_key", "jira_url": "issue_url"}


class JiraTracker:
    name = NAME
    fix = FIX

    def __init__(
        self,
        *,
        url: str,
        project: str,
        email: str | None = None,
        api_token: str | None = None,
        pat: str | None = None,
        ca_bundle: str | None = None,
        api_version: int = 2,
        timeout: float = 10.0,
    ) -> None:
        if not (pat or (email and api_token)):
            raise ValueError(
                "Jira needs JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)"
            )
        self.url = url.rstrip("/")
        self.project = project
        self.api_version = api_version
        self._auth: dict[str, Any] = (
            {"token_auth": pat} if pat else {"basic_auth": (email or "", api_token or "")}
        )
        self.cloud = not pat
        self._verify: str | bool = ca_bundle or True
        self._timeout = timeout
        self._client: JIRA | None = None

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def client(self) -> JIRA:
        if self._client is None:
            self._client = self._call(
                lambda: JIRA(
                    server=self.url,
                    options={"verify": self._verify, "rest_api_version": str(self.api_version)},
                    get_server_info=False,  # no call at start-up: Jira may be down
                    max_retries=0,
                    timeout=self._timeout,
                    **self._auth,
                )
            )
        return self._client

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except JIRAError as exc:
            raise _error(exc) from exc
        except (RequestException, ssl.SSLError, OSError) as exc:
            raise IntegrationError(
                "jira", type(exc).__name__, retryable=True, detail=str(exc)[:200]
            ) from exc

    def _rest(self, method: str, path: str, body: Any | None = None) -> Any:
        client = self.client
        url = client._get_url(path)  # the client's base URL and REST version

        def send() -> Any:
            response = getattr(client._session, method)(
                url, data=json.dumps(body) if body is not None else None
            )
            return response.json() if response.content else None

        return self._call(send)

    def _description(self, markdown: str) -> Any:
        return to_adf(markdown) if self.api_version >= 3 else to_jira_wiki(markdown)

    def browse(self, key: str) -> str:
        return f"{self.url}/browse/{key}"

    def read(self, path: str) -> Any:
        """GET a REST resource (`project/OPS`, `issueLinkType`): `incidentbot config check`."""
        return self._rest("get", path)

    def check(self) -> str:
        """Who the credentials are, and that the project exists and is visible."""
        me = self._rest("get", "myself")
        project = self._rest("get", f"project/{self.project}")
        who = me.get("emailAddress") or me.get("name") or me.get("displayName") or "?"
        return f"signed in as {who}; project {project.get('key')} ({project.get('name')})"

    # -- the port --------------------------------------------------------------------------------
    def find(self, *, label: str) -> TrackerIssue | None:
        """The issue carrying `label`. Cloud searches with /search/jql (Atlassian removed
        /search there in 2025); Data Center still has /search."""
        query = {
            "jql": f'labels = "{label}" ORDER BY created ASC',
            "maxResults": 1,
            "fields": ["key"],
        }
        found = self._rest("post", "search/jql" if self.cloud else "search", query)
        for issue in (found or {}).get("issues") or []:
            key = issue.get("key")
            if not key and issue.get("id"):  # search/jql answers ids only unless asked
                key = self._rest("get", f"issue/{issue['id']}?fields=summary")["key"]
            return TrackerIssue(str(key), self.browse(str(key)))
        return None

    def create(
        self,
        *,
        project: str,
        issue_type: str,
        summary: str,
        description: str,
        labels: Sequence[str],
        assignee_email: str | None = None,
        parent: str | None = None,
        security_level: str | None = None,
    ) -> TrackerIssue:
        fields: dict[str, Any] = {
            "project": {"key": project},
            "issuetype": {"name": issue_type},
            "summary": summary[:255],
            "description": self._description(description),
            "labels": list(labels),
        }
        if parent:
            fields["parent"] = {"key": parent}
        if security_level:
            fields["security"] = _security(security_level)
        assignee = self._user(assignee_email) if assignee_email else None
        if assignee:
            fields["assignee"] = assignee
        created = self._rest("post", "issue", {"fields": fields})
        key = str(created["key"])
        return TrackerIssue(key, self.browse(key))

    def update(
        self,
        key: str,
        *,
        summary: str,
        description: str,
        labels: Sequence[str],
        security_level: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "summary": summary[:255],
            "description": self._description(description),
            "labels": list(labels),
        }
        if security_level:  # also on an issue found by its label after a lost answer
            fields["security"] = _security(security_level)
        self._rest("put", f"issue/{key}", {"fields": fields})

    def link(self, *, link_type: str, inward: str, outward: str) -> None:
        """Idempotent: an existing link of the type between the two issues is kept."""
        issue = self._rest("get", f"issue/{outward}?fields=issuelinks")
        for link in (issue.get("fields") or {}).get("issuelinks") or []:
            other = (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("key")
            if other == inward and (link.get("type") or {}).get("name") == link_type:
                return
        self._rest(
            "post",
            "issueLink",
            {
                "type": {"name": link_type},
                "inwardIssue": {"key": inward},
                "outwardIssue": {"key": outward},
            },
        )

    def remote_link(self, key: str, *, global_id: str, url: str, title: str) -> None:
        """Jira upserts remote links by globalId: a retry updates the same link."""
        self._rest(
            "post",
            f"issue/{key}/remotelink",
            {"globalId": global_id, "object": {"url": url, "title": title}},
        )

    def _user(self, email: str) -> dict[str, str] | None:
        """The assignee for an email address (Cloud: accountId; Data Center: name)."""
        try:
            users = self._call(
                lambda: (
                    self.client.search_users(query=email, maxResults=2)
                    if self.cloud
                    else self.client.search_users(user=email, maxResults=2)
                )
            )
        except IntegrationError as exc:
            if exc.retryable:
                raise
            return None  # no permission to browse users: leave it unassigned
        for user in users:
            raw = user.raw
            if str(raw.get("emailAddress", "")).lower() == email.lower() or len(users) == 1:
                return {"accountId": raw["accountId"]} if self.cloud else {"name": raw["name"]}
        return None


def _error(exc: JIRAError) -> IntegrationError:
    status = exc.status_code or 0
    retry_after: float | None = None
    headers = getattr(exc.response, "headers", None) or {}
    if headers.get("Retry-After"):
        try:
            retry_after = float(headers["Retry-After"])
        except ValueError:
            retry_after = None
    detail = _message(exc)
    retryable = status in (0, 408, 429) or status >= 500
    return IntegrationError(
        "jira",
        str(status or "unreachable"),
        retryable=retryable,
        retry_after=retry_after,
        detail=detail,
    )


def _message(exc: JIRAError) -> str:
    """Jira's own words: errorMessages and field errors."""
    try:
        body = exc.response.json() if exc.response is not None else {}
    except ValueError:
        body = {}
    parts = [str(m) for m in body.get("errorMessages") or []]
    parts += [str(body["errorMessage"])] if body.get("errorMessage") else []  # servicedeskapi
    parts += [f"{field}: {text}" for field, text in (body.get("errors") or {}).items()]
    return "; ".join(parts) or (exc.text or "")[:300]


def _security(level: str) -> dict[str, str]:
    """Jira's issue security level, by id (digits, sent as a string: Jira refuses a number) or
    by name."""
    return {"id": level} if level.isdigit() else {"name": level}
