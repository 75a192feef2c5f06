"""What `/incident …` asks for, once parsed (bot/core/commands.py parses it and re-exports
these): one frozen value per sub-command, and `Request`, their union."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
class MakeVisible:
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
    export: bool = False  # `postmortem export`: draft into the tracker now (again)


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
    | MakeVisible
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
