"""What a create (``POST issue``) or an edit (``PUT issue/{id}``) may contain, checked the way
Jira checks it: every problem is collected into ``errors`` keyed by field and answered together
as ``400 {"errorMessages": [], "errors": {...}}``; nothing is written unless all of it is valid.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import adf
from .records import JSON, Comment, Issue, IssueType, Project, Text, User
from .state import Site, error

MAX_SUMMARY = 255
MAX_LABEL = 255
CREATE_FIELDS = frozenset(
    {
        "project",
        "issuetype",
        "summary",
        "description",
        "environment",
        "labels",
        "priority",
        "assignee",
        "reporter",
        "parent",
        "duedate",
        "security",  # only where the project has an issue security scheme
    }
)
EDIT_FIELDS = CREATE_FIELDS - {"project", "issuetype"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_CREATE = "You do not have permission to create issues in this project."
NO_SECURITY_REF = "Could not find valid 'id' or 'name' in security level object."
BAD_SECURITY = "Specify a valid value for Security Level"
INVALID_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."

Change = Callable[[Issue], None]


class FieldError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cannot_set(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


def reference(value: Any) -> str | None:
    """The ``id`` or ``key`` (or ``name``) of an ``{"id": …}``-style reference."""
    if not isinstance(value, dict):
        return None
    for name in ("id", "key", "name"):
        found = value.get(name)
        if isinstance(found, str | int) and not isinstance(found, bool) and str(found):
            return str(found)
    return None


@dataclass
class Writer:
    """Checks and converts written values for ``acting`` through REST v2 (wiki markup) or v3
    (Atlassian Document Format)."""

    site: Site
    acting: User
    adf: bool
    errors: dict[str, str] = field(default_factory=dict)
    project: Project | None = None  # the issue's project, once known (its security levels)

    # ------------------------------------------------------------ values
    def user(self, value: Any, *, reporter: bool = False) -> str | None:
        if value is None:
            if reporter:
                raise FieldError("Reporter is required.")
            return None
        if not isinstance(value, dict):
            raise FieldError("expected Object for a user")
        if self.site.cloud:
            account = value.get("accountId")
            if "accountId" in value and account in (None, "-1") and not reporter:
                return None  # unassigned; "-1": automatic (the project's default: unassigned)
            user = self.site.user_named(str(account)) if isinstance(account, str) else None
            if user is None or user.account_id != account:
                if reporter:
                    raise FieldError("The reporter specified is not a user.")
                raise FieldError(
                    "Specified user does not exist or you do not have required permissions"
                )
            return user.name
        who = value.get("name") or value.get("key")
        if who is None and ("name" in value or "key" in value) and not reporter:
            return None
        if who == "-1":
            return None  # automatic: the project's default assignee (unassigned)
        user = self.site.user_named(str(who)) if isinstance(who, str) else None
        if user is None or str(who).lower() not in (user.name, user.key.lower()):
            if reporter:
                raise FieldError("The reporter specified is not a user.")
            raise FieldError(f"User '{who}' does not exist.")
        return user.name

    def summary(self, value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError(adf.NOT_A_STRING)
        if not value.strip():
            raise FieldError("You must specify a summary of the issue.")
        if "\n" in value or "\r" in value:
            raise FieldError("The summary is invalid because it contains newline characters.")
        if len(value) > MAX_SUMMARY:
            raise FieldError("Summary must be less than 255 characters.")
        return value

    def label(self, value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError(adf.NOT_A_STRING)
        if any(c.isspace() for c in value):
            raise FieldError(f"The label '{value}' contains spaces which is invalid.")
        if len(value) > MAX_LABEL:
            raise FieldError(
                f"The label '{value}' exceeds the maximum length for a single label of"
                f" {MAX_LABEL} characters."
            )
        return value

    def labels(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise FieldError("data was not an array")
        out: list[str] = []
        for item in value:
            label = self.label(item)
            if label not in out:
                out.append(label)
        return out

    def priority(self, value: Any) -> str:
        ref = reference(value)
        if ref is None:
            raise FieldError("Could not find valid 'id' or 'name' in priority object.")
        found = self.site.priority_of(ref)
        if found is None:
            raise FieldError("The priority selected is invalid.")
        return found.id

    def parent(self, value: Any) -> str:
        ref = reference(value)
        found = self.site.issue_of(ref) if ref else None
        if found is None or not self.site.visible(self.acting, found):
            raise FieldError("Could not find issue by id or key.")
        return found.id

    def date(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            raise FieldError(f"Error parsing date string: {value}")
        return value

    def security(self, value: Any) -> str | None:
        """``{"id": "10000"}`` or ``{"name": "Staff only"}``: a level of the project's scheme
        (ids are strings: a number is refused, as Jira does); null clears it."""
        levels = self.project.security_levels if self.project is not None else []
        if not levels:
            raise FieldError(cannot_set("security"))
        if value is None:
            return None
        given = value if isinstance(value, dict) else {}
        wanted_id, wanted_name = given.get("id"), given.get("name")
        if not isinstance(wanted_id, str) and not isinstance(wanted_name, str):
            raise FieldError(NO_SECURITY_REF)
        for level in levels:
            if level.id == wanted_id or (wanted_id is None and level.name == wanted_name):
                return level.id
        raise FieldError(BAD_SECURITY)

    def text(self, value: Any) -> Text | None:
        try:
            return adf.parse(value, adf=self.adf)
        except ValueError as exc:
            raise FieldError(str(exc)) from None

    def custom(self, name: str, value: Any) -> Any:
        custom = self.site.custom_fields.get(name)
        if custom is None:
            raise FieldError(cannot_set(name))
        if value is None:
            return None
        if custom.kind == "string":
            if not isinstance(value, str):
                raise FieldError(adf.NOT_A_STRING)
            return value
        if custom.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FieldError("Operation value must be a number")
            return value
        if not isinstance(value, dict):
            raise FieldError(f"Specify a valid 'id' or 'name' for {custom.name}")
        if "id" in value:
            for i, option in enumerate(custom.options):
                if str(value["id"]) == str(int(custom.number) * 10 + i + 1):
                    return option
            raise FieldError(f"Option id '{value['id']}' is not valid")
        if value.get("value") in custom.options:
            return value["value"]
        raise FieldError(f"Option value '{value.get('value')}' is not valid")

    # ------------------------------------------------------------ fields
    def setter(self, name: str, value: Any, allowed: frozenset[str]) -> Change:
        """Checks ``value`` for field ``name``; the change that writes it (FieldError if not)."""
        if name.startswith("customfield_"):
            converted = self.custom(name, value)
            return lambda issue: issue.custom.__setitem__(name, converted)
        if name not in allowed:
            raise FieldError(cannot_set(name))
        if name == "summary":
            summary = self.summary(value)
            return lambda issue: setattr(issue, "summary", summary)
        if name in ("description", "environment"):
            text = self.text(value)
            return lambda issue: setattr(issue, name, text)
        if name == "labels":
            labels = self.labels(value)
            return lambda issue: setattr(issue, "labels", labels)
        if name == "priority":
            priority = self.priority(value)
            return lambda issue: setattr(issue, "priority_id", priority)
        if name in ("assignee", "reporter"):
            who = self.user(value, reporter=name == "reporter")
            return lambda issue: setattr(issue, name, who)
        if name == "duedate":
            due = self.date(value)
            return lambda issue: setattr(issue, "duedate", due)
        if name == "parent":
            parent = self.parent(value)
            return lambda issue: setattr(issue, "parent_id", parent)
        if name == "security":
            level = self.security(value)
            return lambda issue: setattr(issue, "security_id", level)
        raise FieldError(cannot_set(name))

    def collect(self, fields: JSON, allowed: frozenset[str], skip: set[str]) -> list[Change]:
        changes: list[Change] = []
        for name, value in fields.items():
            if name in skip:
                continue
            try:
                changes.append(self.setter(name, value, allowed))
            except FieldError as exc:
                self.errors[name] = exc.message
        return changes

    def check_parent(self, kind: IssueType, project: Project, parent_id: str | None) -> None:
        """Sub-tasks need a standard-level parent in their project; on Cloud a standard issue
        may have an epic for parent; Server/DC knows ``parent`` only for sub-tasks."""
        site = self.site
        if kind.subtask:
            if parent_id is None:
                if "parent" not in self.errors:
                    self.errors["parent"] = (
                        "Issue type is a sub-task but parent issue key or id not specified."
                    )
                return
            parent = site.issues[parent_id]
            if site.issue_types[parent.type_id].level != 0:
                self.errors["parent"] = (
                    "Given parent issue does not belong to appropriate hierarchy."
                )
            elif parent.project_id != project.id:
                self.errors["parent"] = "Given parent issue does not belong to appropriate project."
        elif parent_id is not None:
            if not site.cloud:
                self.errors["parent"] = cannot_set("parent")
                return
            parent = site.issues[parent_id]
            if site.issue_types[parent.type_id].level != kind.level + 1:
                self.errors["parent"] = (
                    "Given parent issue does not belong to appropriate hierarchy."
                )

    # ----------------------------------------------------------- updates
    def updates(self, update: Any, issue: Issue | None) -> list[Change]:
        """The ``update`` verbs: ``labels`` add/remove, ``comment`` add (edits only),
        ``issuelinks`` add and ``set`` for any settable field."""
        changes: list[Change] = []
        if update is None:
            return changes
        if not isinstance(update, dict):
            raise error(400, INVALID_PAYLOAD)
        allowed = EDIT_FIELDS if issue is not None else CREATE_FIELDS
        for name, ops in update.items():
            if not isinstance(ops, list):
                self.errors[name] = "Can not deserialize operations: expected an array"
                continue
            for op in ops:
                try:
                    changes.append(self._verb(name, op, allowed, issue))
                except FieldError as exc:
                    self.errors[name] = exc.message
        return changes

    def _verb(self, name: str, op: Any, allowed: frozenset[str], issue: Issue | None) -> Change:
        if not isinstance(op, dict) or len(op) != 1:
            raise FieldError("Each operation must name exactly one verb.")
        verb, value = next(iter(op.items()))
        if name == "labels" and verb in ("add", "remove"):
            label = self.label(value)

            def relabel(issue: Issue) -> None:
                if verb == "add" and label not in issue.labels:
                    issue.labels.append(label)
                elif verb == "remove" and label in issue.labels:
                    issue.labels.remove(label)

            return relabel
        if name == "comment" and verb == "add" and issue is not None:
            return self._comment(value)
        if name == "issuelinks" and verb == "add":
            return self._link(value)
        if verb == "set":
            return self.setter(name, value, allowed)
        if name not in allowed and not name.startswith("customfield_"):
            raise FieldError(cannot_set(name))
        raise FieldError(f"The operation '{verb}' is not supported for the field '{name}'.")

    def _comment(self, value: Any) -> Change:
        body = self.text(value.get("body") if isinstance(value, dict) else None)
        if body is None:
            raise FieldError("Comment body can not be empty!")
        visibility = value.get("visibility") if isinstance(value, dict) else None
        author, site = self.acting.name, self.site

        def add(issue: Issue) -> None:
            now = time.time()
            cid = site.new_comment_id()
            comment = Comment(cid, issue.id, author, body, now, now, author, visibility)
            site.new_comment(issue, comment)

        return add

    def _link(self, value: Any) -> Change:
        if not isinstance(value, dict):
            raise FieldError(INVALID_PAYLOAD)
        kind_ref = value.get("type") or {}
        kind = self.site.link_type_of(
            id=str(kind_ref["id"]) if "id" in kind_ref else None, name=kind_ref.get("name")
        )
        if kind is None:
            raise FieldError(f"No issue link type with name '{kind_ref.get('name')}' found.")
        other_ref = reference(value.get("outwardIssue")) or reference(value.get("inwardIssue"))
        other = self.site.issue_of(other_ref) if other_ref else None
        if other is None:
            raise FieldError("Issue Does Not Exist")
        site, outward = self.site, "outwardIssue" in value

        def link(issue: Issue) -> None:  # the edited issue takes the side not named
            if outward:
                site.add_link(kind, issue, other)
            else:
                site.add_link(kind, other, issue)

        return link
