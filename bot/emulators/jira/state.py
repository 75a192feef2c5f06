"""The emulated Jira site: users and their credentials, projects, issue types, priorities,
statuses, link types, custom fields, issues, links and who may see which project.

Guarded by the emulator's single lock; nothing here does I/O. The JSON Jira answers with is in
``shapes.py``; what a write may contain is checked in ``fields.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from ..common.records import Counters
from .records import (
    JSON,
    Comment,
    CustomField,
    CustomKind,
    Flavour,
    Issue,
    IssueLink,
    IssueType,
    LinkType,
    Priority,
    Project,
    RemoteLink,
    SecurityLevel,
    Status,
    Transition,
    User,
    account_id_for,
)

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
ISSUE_FORBIDDEN = "You do not have the permission to see the specified issue."
CLOUD_VERSION = (1001, 0, 0)
SERVER_VERSION = (9, 12, 15)

# (name, description, subtask, hierarchy level, avatar id); ids differ per flavour
_ISSUE_TYPES = (
    ("Epic", "A big user story that needs to be broken down.", False, 1, 10307),
    ("Task", "A small, distinct piece of work.", False, 0, 10318),
    ("Sub-task", "A small piece of work that's part of a larger task.", True, -1, 10316),
    ("Bug", "A problem or error.", False, 0, 10303),
)
_CLOUD_TYPE_IDS = {"Epic": "10000", "Task": "10001", "Sub-task": "10002", "Bug": "10003"}
_SERVER_TYPE_IDS = {"Bug": "1", "Task": "3", "Sub-task": "5", "Epic": "10000"}
_PRIORITIES = (
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
)
DEFAULT_PRIORITY = "3"
_STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Done", "done"),
)
INITIAL_STATUS = "10000"
_TRANSITIONS = (
    Transition("11", "To Do", "10000"),
    Transition("21", "In Progress", "3"),
    Transition("31", "Done", "10001"),
)
DONE_RESOLUTION = ("10000", "Done", "Work has been completed on this issue.")
_LINK_TYPES = (
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
)
_SEED_USERS = (
    ("alice", "Alice Anders", "America/New_York"),
    ("bob", "Bob Brown", "Europe/Berlin"),
    ("carol", "Carol Chen", "Asia/Tokyo"),
)


class ApiError(Exception):
    """An error answer: Jira's ``{"errorMessages": [...], "errors": {...}}`` (or ``body``)."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        *,
        body: JSON | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or errors or body}")
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        self._body = body
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        if self._body is not None:
            return self._body
        return {"errorMessages": self.messages, "errors": self.errors}


def error(status: int, *messages: str) -> ApiError:
    return ApiError(status, list(messages))


def field_errors(errors: dict[str, str]) -> ApiError:
    return ApiError(400, [], errors)


@dataclass
class Denial:
    """``user`` may not see or change anything in ``project_id``; reads answer ``status``
    (403, or 404 like Jira does for a project one may not browse)."""

    user: str
    project_id: str
    status: int


class Site:
    """All mutable Jira state. Callers hold the emulator lock."""

    def __init__(self, flavour: Flavour) -> None:
        self.flavour: Flavour = flavour
        self.base_url = ""  # set once the server is listening
        self.ids = Counters()
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        type_ids = _CLOUD_TYPE_IDS if flavour == "cloud" else _SERVER_TYPE_IDS
        self.issue_types = {
            type_ids[name]: IssueType(type_ids[name], name, text, sub, level, avatar)
            for name, text, sub, level, avatar in _ISSUE_TYPES
        }
        self.priorities = {p.id: p for p in _PRIORITIES}
        self.statuses = {s.id: s for s in _STATUSES}
        self.transitions = {t.id: t for t in _TRANSITIONS}
        self.link_types = {t.id: t for t in _LINK_TYPES}
        self.custom_fields: dict[str, CustomField] = {}
        self.issues: dict[str, Issue] = {}
        self.links: dict[str, IssueLink] = {}
        self.remote_links: dict[int, RemoteLink] = {}
        self.denials: dict[tuple[str, str], Denial] = {}

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    @property
    def version(self) -> tuple[int, int, int]:
        return CLOUD_VERSION if self.cloud else SERVER_VERSION

    # ----------------------------------------------------------------- seed
    def seed(self, *, admin: str, email: str, token: str, password: str, project_key: str) -> None:
        """The admin (who the client authenticates as), Alice, Bob and Carol, one project with
        every issue type, and a "Severity" select custom field."""
        self.add_user(admin, "Jira Admin", email, token=token, password=password)
        for name, display, tz in _SEED_USERS:
            self.add_user(name, display, f"{name}@example.com", time_zone=tz)
        self.add_project(project_key, "Operations", lead=admin)
        self.add_custom_field("Severity", "option", ("SEV-1", "SEV-2", "SEV-3", "SEV-4"))

    # ---------------------------------------------------------------- users
    def add_user(
        self,
        name: str,
        display_name: str,
        email: str,
        *,
        token: str | None = None,
        password: str | None = None,
        time_zone: str = "UTC",
    ) -> User:
        if name.lower() in self.users:
            raise ValueError(f"user {name!r} exists")
        number = 10000 + self.ids.next("user") * 100
        user = User(
            name=name.lower(),
            key=f"JIRAUSER{number}",
            account_id=account_id_for(email),
            email=email,
            display_name=display_name,
            token=token or f"{name.lower()}-{'api-token' if self.cloud else 'pat'}",
            password=password or f"{name.lower()}-password",
            time_zone=time_zone,
        )
        self.users[user.name] = user
        return user

    def user_named(self, who: str) -> User | None:
        """By name, key, accountId or email (case-insensitive)."""
        low = who.lower()
        for user in self.users.values():
            if low in (user.name, user.key.lower(), user.account_id.lower(), user.email.lower()):
                return user
        return None

    def require_user(self, who: str) -> User:
        user = self.user_named(who)
        if user is None:
            raise KeyError(f"no Jira user {who!r}")
        return user

    def authenticate_basic(self, login: str, secret: str) -> User | None:
        """Cloud: email + API token. Server/DC: username + password (or a PAT as password)."""
        for user in self.users.values():
            if self.cloud:
                if user.email.lower() == login.lower() and secret == user.token:
                    return user
            elif user.name == login.lower() and secret in (user.password, user.token):
                return user
        return None

    def authenticate_bearer(self, token: str) -> User | None:
        """Server/DC personal access tokens; Jira Cloud takes no bearer API tokens."""
        if self.cloud:
            return None
        return next((u for u in self.users.values() if u.token == token), None)

    # ------------------------------------------------------------- projects
    def add_project(self, key: str, name: str, *, lead: str) -> Project:
        if self.project_of(key) is not None:
            raise ValueError(f"project {key!r} exists")
        pid = str(10000 + self.ids.next("project") - 1)
        project = Project(
            pid, key.upper(), name, self.require_user(lead).name, list(self.issue_types)
        )
        self.projects[pid] = project
        return project

    def add_security_level(self, project: Project, name: str, description: str = "") -> str:
        """A level in the project's issue security scheme (the scheme comes with the first)."""
        lid = str(10000 + self.ids.next("securitylevel") - 1)
        project.security_levels.append(SecurityLevel(lid, name, description))
        return lid

    def security_level_of(self, level_id: str) -> tuple[Project, SecurityLevel] | None:
        for project in self.projects.values():
            for level in project.security_levels:
                if level.id == level_id:
                    return project, level
        return None

    def project_of(self, id_or_key: str) -> Project | None:
        if id_or_key in self.projects:
            return self.projects[id_or_key]
        upper = id_or_key.upper()
        return next((p for p in self.projects.values() if p.key == upper), None)

    def require_project(self, id_or_key: str) -> Project:
        project = self.project_of(id_or_key)
        if project is None:
            raise KeyError(f"no Jira project {id_or_key!r}")
        return project

    # ----------------------------------------------------------- catalogues
    def issue_type_of(self, id_or_name: str) -> IssueType | None:
        if id_or_name in self.issue_types:
            return self.issue_types[id_or_name]
        return next((t for t in self.issue_types.values() if t.name == id_or_name), None)

    def priority_of(self, id_or_name: str) -> Priority | None:
        if id_or_name in self.priorities:
            return self.priorities[id_or_name]
        low = id_or_name.lower()
        return next((p for p in self.priorities.values() if p.name.lower() == low), None)

    def status_of(self, id_or_name: str) -> Status | None:
        if id_or_name in self.statuses:
            return self.statuses[id_or_name]
        low = id_or_name.lower()
        return next((s for s in self.statuses.values() if s.name.lower() == low), None)

    def link_type_of(self, *, id: str | None = None, name: str | None = None) -> LinkType | None:
        if id is not None:
            return self.link_types.get(id)
        low = (name or "").lower()
        return next((t for t in self.link_types.values() if t.name.lower() == low), None)

    def add_custom_field(self, name: str, kind: str, options: tuple[str, ...] = ()) -> CustomField:
        if kind not in ("string", "number", "option"):
            raise ValueError(f"custom field kind {kind!r}: string, number or option")
        if kind == "option" and not options:
            raise ValueError("an option field needs options")
        fid = f"customfield_{10009 + self.ids.next('customfield')}"
        custom = CustomField(fid, name, cast(CustomKind, kind), tuple(options))
        self.custom_fields[fid] = custom
        return custom

    def custom_field_of(self, id_or_name: str) -> CustomField | None:
        """By id, ``cf[10010]`` or (case-insensitive) name."""
        if id_or_name in self.custom_fields:
            return self.custom_fields[id_or_name]
        low = id_or_name.lower()
        for custom in self.custom_fields.values():
            if low in (f"cf[{custom.number}]", custom.name.lower()):
                return custom
        return None

    # --------------------------------------------------------------- issues
    def issue_of(self, id_or_key: str) -> Issue | None:
        if id_or_key in self.issues:
            return self.issues[id_or_key]
        upper = id_or_key.upper()
        return next((i for i in self.issues.values() if i.key == upper), None)

    def new_issue(self, project: Project, type_id: str, summary: str, reporter: str) -> Issue:
        project.counter += 1
        now = time.time()
        issue = Issue(
            id=str(10000 + self.ids.next("issue") - 1),
            key=f"{project.key}-{project.counter}",
            project_id=project.id,
            type_id=type_id,
            summary=summary,
            reporter=reporter,
            creator=reporter,
            created=now,
            updated=now,
            status_id=INITIAL_STATUS,
            priority_id=DEFAULT_PRIORITY,
        )
        self.issues[issue.id] = issue
        return issue

    def subtasks_of(self, issue: Issue) -> list[Issue]:
        return [
            i
            for i in self.issues.values()
            if i.parent_id == issue.id and self.issue_types[i.type_id].subtask
        ]

    def links_of(self, issue: Issue) -> list[IssueLink]:
        return [
            link for link in self.links.values() if issue.id in (link.inward_id, link.outward_id)
        ]

    def add_link(self, link_type: LinkType, inward: Issue, outward: Issue) -> IssueLink:
        """Jira answers a duplicate link as created without adding a second one."""
        for link in self.links.values():
            same = (link.type_id, link.inward_id, link.outward_id)
            if same == (link_type.id, inward.id, outward.id):
                return link
        lid = str(10000 + self.ids.next("link") - 1)
        link = IssueLink(lid, link_type.id, inward.id, outward.id)
        self.links[lid] = link
        return link

    def remote_links_of(self, issue: Issue) -> list[RemoteLink]:
        return [r for r in self.remote_links.values() if r.issue_id == issue.id]

    def new_remote_link_id(self) -> int:
        return 10000 + self.ids.next("remotelink") - 1

    def new_comment(self, issue: Issue, comment: Comment) -> Comment:
        issue.comments.append(comment)
        issue.updated = comment.created
        return comment

    def new_comment_id(self) -> str:
        return str(10000 + self.ids.next("comment") - 1)

    # ---------------------------------------------------------- permissions
    def deny(self, user: str, project: str, status: int) -> None:
        who, where = self.require_user(user), self.require_project(project)
        self.denials[(who.name, where.id)] = Denial(who.name, where.id, status)

    def allow(self, user: str, project: str) -> None:
        who, where = self.require_user(user), self.require_project(project)
        self.denials.pop((who.name, where.id), None)

    def denial(self, user: User, project_id: str) -> Denial | None:
        return self.denials.get((user.name, project_id))

    def visible(self, user: User, issue: Issue) -> bool:
        return self.denial(user, issue.project_id) is None

    def readable_issue(self, user: User, id_or_key: str) -> Issue:
        """The issue, or Jira's 404 (unknown) / 403 or 404 (denied) answer."""
        issue = self.issue_of(id_or_key)
        if issue is None:
            raise error(404, ISSUE_NOT_FOUND)
        denied = self.denial(user, issue.project_id)
        if denied is not None:
            raise error(denied.status, ISSUE_FORBIDDEN if denied.status == 403 else ISSUE_NOT_FOUND)
        return issue

    def writable_issue(self, user: User, id_or_key: str, refusal: str) -> Issue:
        """Like ``readable_issue``; a user denied with 403 gets 403 with ``refusal``."""
        issue = self.issue_of(id_or_key)
        if issue is None:
            raise error(404, ISSUE_NOT_FOUND)
        denied = self.denial(user, issue.project_id)
        if denied is not None:
            raise error(403, refusal) if denied.status == 403 else error(404, ISSUE_NOT_FOUND)
        return issue
