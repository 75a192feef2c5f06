"""Parse the text of `/incident …` into a request. Pure; mentions arrive escaped (`<@U123|name>`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.core.catalog import Catalog
from bot.markup import escape_mrkdwn

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class Help:
    unknown: str | None = None  # the sub-command that was not understood, if any


@dataclass(frozen=True)
class Invalid:
    message: str


@dataclass(frozen=True)
class Declare:
    severity: str | None
    title: str | None  # None → open the modal


@dataclass(frozen=True)
class SetStatus:
    status: str
    summary: str | None = None


@dataclass(frozen=True)
class SetSeverity:
    severity: str


@dataclass(frozen=True)
class SetRole:
    role: str
    user: str | None  # None = the caller claims it


@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Close:
    pass


@dataclass(frozen=True)
class ListOpen:
    pass


@dataclass(frozen=True)
class MakePublic:
    """`/incident visibility public`: a private incident becomes visible to everyone."""


@dataclass(frozen=True)
class Page:
    service: str


@dataclass(frozen=True)
class OnCall:
    service: str | None


@dataclass(frozen=True)
class PlaybookRequest:
    name: str | None  # None: list the ones that match


@dataclass(frozen=True)
class AddFollowup:
    text: str
    owner: str | None
    due_on: date | None


@dataclass(frozen=True)
class ListFollowups:
    pass


@dataclass(frozen=True)
class Review:
    pass


@dataclass(frozen=True)
class Drill:
    playbook: str


@dataclass(frozen=True)
class Timestamps:
    pass


@dataclass(frozen=True)
class Postmortem:
    export: bool = False  # `postmortem export`: draft into Jira now (again)


Request = (
    Help
    | Invalid
    | Declare
    | SetStatus
    | SetSeverity
    | SetRole
    | Ack
    | Note
    | Close
    | MakePublic
    | ListOpen
    | Page
    | OnCall
    | PlaybookRequest
    | AddFollowup
    | ListFollowups
    | Postmortem
    | Timestamps
    | Drill
    | Review
)


def parse(text: str, catalog: Catalog) -> Request:
    words = text.strip().split(maxsplit=1)
    if not words:
        return Help()
    sub, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if sub in ("help", "?"):
        return Help()
    if sub == "declare":
        return _declare(rest, catalog)
    if sub == "status":
        if not rest:
            return Invalid(f"Which status? `/incident status <{'|'.join(_status_ids(catalog))}>`")
        status, _, summary = rest.partition(" ")
        if catalog.find_status(status) is None:
            return Invalid(
                f"Unknown status `{escape_mrkdwn(status)}`; use one of {_listing(_status_ids(catalog))}."
            )
        return SetStatus(status.lower(), summary.strip() or None)
    if sub in ("severity", "sev"):
        if catalog.find_severity(rest) is None:
            ids = [s.id.lower() for s in catalog.severities]
            return Invalid(f"Which severity? `/incident severity <{'|'.join(ids)}>`")
        return SetSeverity(rest)
    if sub in ("ack", "acknowledge"):
        return Ack()
    if sub == "note":
        return Note(rest) if rest else Invalid("A note needs text: `/incident note <text>`")
    if sub == "resolve":
        resolved = next(s.id for s in catalog.statuses if s.phase.value == "resolved")
        return SetStatus(resolved, rest or None)
    if sub == "close":
        return Close()
    if sub == "list":
        return ListOpen()
    if sub == "visibility":
        return _visibility(rest)
    if sub == "page":
        if not rest or len(rest.split()) != 1:
            return Invalid(
                "Which service? `/incident page <service>` (see `/incident oncall` for who is on call)."
            )
        return Page(rest)
    if sub in ("playbook", "playbooks"):
        return PlaybookRequest(rest.split()[0] if rest else None)
    if sub in ("followup", "follow-up"):
        return _followup(rest)
    if sub in ("followups", "follow-ups"):
        return ListFollowups()
    if sub == "review":
        return Review()
    if sub == "drill":
        if not rest or len(rest.split()) != 1:
            return Invalid(
                "Which playbook? `/incident drill <playbook>` (see `/incident playbook` in an incident, or playbooks/)."
            )
        return Drill(rest.split()[0])
    if sub in ("timestamps", "milestones", "times"):
        return Timestamps()
    if sub in ("postmortem", "post-mortem"):
        if rest.lower() not in ("", "export"):
            return Invalid(
                "`/incident postmortem` previews the draft; `/incident postmortem export` drafts it into Jira."
            )
        return Postmortem(export=rest.lower() == "export")
    if sub in ("oncall", "on-call"):
        return OnCall(rest.split()[0] if rest else None)
    role = catalog.find_role(sub)
    if role is not None and role.id == sub:
        if not rest:
            return SetRole(role.id, None)
        match = _MENTION.match(rest.split()[0])
        if match is None:
            return Invalid(
                f"Mention the person: `/incident {role.id} @name` (or no name to claim)."
            )
        return SetRole(role.id, match.group(1))
    return Help(unknown=sub)


def _declare(rest: str, catalog: Catalog) -> Request:
    # "sev2 Title" or a catalog id first; a plain word such as "Critical" starts a title instead.
    first, _, remainder = rest.partition(" ")
    if first.upper() in {s.id for s in catalog.severities}:
        return Declare(first.upper(), remainder.strip() or None)
    return Declare(None, rest or None)


def _visibility(rest: str) -> Request:
    wanted = rest.lower()
    if wanted == "public":
        return MakePublic()
    if wanted == "private":
        return Invalid(
            "An incident can't be made private once declared: it may already be in the feed. "
            "Declare a new private incident (`/incident declare`, tick *Private*) instead."
        )
    return Invalid("`/incident visibility public` makes a private incident visible to everyone.")


FOLLOWUP_USAGE = "`/incident followup <what needs doing> [@owner] [due YYYY-MM-DD]`"


def _followup(rest: str) -> Request:
    """`<text> [@owner] [due YYYY-MM-DD]`: owner and due date are read off the end, in any order."""
    words = rest.split()
    owner: str | None = None
    due_on: date | None = None
    for _ in range(2):
        if len(words) >= 2 and words[-2].lower() == "due" and due_on is None:
            try:
                due_on = date.fromisoformat(words[-1])
            except ValueError:
                return Invalid(
                    f"`{words[-1]}` is not a date: write it as YYYY-MM-DD, e.g. due 2026-12-01."
                )
            words = words[:-2]
        elif words and owner is None and (match := _MENTION.match(words[-1])):
            owner = match.group(1)
            words = words[:-1]
    text = " ".join(words)
    if not text:
        return Invalid(f"A follow-up needs to say what needs doing: {FOLLOWUP_USAGE}.")
    if len(text) > 1000:
        return Invalid("A follow-up is at most 1000 characters; link a document for the rest.")
    return AddFollowup(text, owner, due_on)


def _status_ids(catalog: Catalog) -> list[str]:
    return [s.id for s in catalog.statuses if s.phase.value != "closed"]


def _listing(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)
