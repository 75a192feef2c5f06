"""The records behind the emulated Jira site: users, projects, issue types, issues, comments,
links. Plain data; ``state.py`` owns and changes them under the emulator's lock."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
Flavour = Literal["cloud", "server"]
CustomKind = Literal["string", "number", "option"]
FLAVOURS: tuple[Flavour, ...] = ("cloud", "server")


def jira_time(epoch: float) -> str:
    """Jira's timestamp format: ``2024-05-01T12:34:56.789+0000``."""
    whole = int(epoch)
    millis = round((epoch - whole) * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}+0000"


def account_id_for(email: str) -> str:
    """A Cloud-looking ``accountId`` (24 hex digits), stable for an email address."""
    return "5f" + hashlib.sha1(email.lower().encode(), usedforsecurity=False).hexdigest()[:22]


@dataclass
class User:
    name: str  # Server/DC username ("alice"); also how the emulator names users
    key: str  # Server/DC user key ("JIRAUSER10100")
    account_id: str  # Cloud
    email: str
    display_name: str
    token: str  # Cloud API token (Basic email:token) or Server/DC personal access token
    password: str  # Server/DC Basic auth password
    time_zone: str = "UTC"
    active: bool = True


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    subtask: bool
    level: int  # hierarchy level: -1 sub-task, 0 standard, 1 epic
    avatar_id: int


@dataclass(frozen=True)
class SecurityLevel:
    """A level of a project's issue security scheme: who may see an issue set to it."""

    id: str
    name: str
    description: str = ""


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # user name
    type_ids: list[str]
    description: str = ""
    counter: int = 0  # the number of the last issue key handed out
    # Its issue security scheme's levels; none: no scheme, and `security` is on no screen.
    security_levels: list[SecurityLevel] = field(default_factory=list)


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str  # "new", "indeterminate", "done"


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass(frozen=True)
class CustomField:
    id: str  # "customfield_10010"
    name: str
    kind: CustomKind
    options: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.id.removeprefix("customfield_")


@dataclass
class Text:
    """A rich-text value as it was written: wiki markup (REST v2) or an Atlassian Document
    (REST v3). The other form is derived when read through the other version."""

    wiki: str | None = None
    adf: JSON | None = None


@dataclass
class Comment:
    id: str
    issue_id: str
    author: str
    body: Text
    created: float
    updated: float
    update_author: str
    visibility: JSON | None = None


@dataclass
class Issue:
    id: str
    key: str
    project_id: str
    type_id: str
    summary: str
    reporter: str
    creator: str
    created: float
    updated: float
    status_id: str
    priority_id: str
    description: Text | None = None
    environment: Text | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    parent_id: str | None = None
    resolution_id: str | None = None
    resolved: float | None = None
    duedate: str | None = None
    security_id: str | None = None  # a level of its project's issue security scheme
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)


@dataclass(frozen=True)
class IssueLink:
    """``inward_id`` is the issue sent as ``inwardIssue`` when the link was made: it reads
    "<inward issue> <type.outward> <outward issue>" ("OPS-1 blocks OPS-2")."""

    id: str
    type_id: str
    inward_id: str
    outward_id: str


@dataclass
class RemoteLink:
    id: int  # Jira answers remote link ids as numbers
    issue_id: str
    global_id: str | None
    application: JSON
    relationship: str | None
    object: JSON
