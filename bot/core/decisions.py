"""The incident as the state machine sees it, the commands it takes and the decisions it makes
(bot/core/lifecycle.py decides; these are its vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.milestones import Milestone, Stamp
from bot.core.refusals import Refusal as Refusal, Refused as Refused
from bot.core.sender_time import Told
from bot.core.timeline import Entry


@dataclass(frozen=True)
class Snapshot:
    """What the core needs to know of an incident to decide."""

    title: str
    severity: str
    status: str
    milestones: dict[Milestone, Stamp] = field(default_factory=dict)
    roles: dict[str, str] = field(
        default_factory=dict
    )  # role id -> the person's id on their chat surface
    private: bool = False


@dataclass(frozen=True)
class Decision:
    """Changes to apply in one transaction. Empty fields mean 'unchanged'."""

    status: str | None = None
    severity: str | None = None
    summary: str | None = None
    set_milestones: dict[Milestone, Stamp] = field(default_factory=dict)
    clear_milestones: frozenset[Milestone] = frozenset()
    roles: dict[str, str] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    private: bool | None = None  # False: a private incident made public


@dataclass(frozen=True)
class Opening:
    """A new incident as decided by `declare`."""

    snapshot: Snapshot
    description: str
    entries: tuple[Entry, ...]


# -- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeStatus:
    status: str
    summary: str | None = None
    mitigated_at: datetime | None = None  # when the impact really stopped (e.g. alerts resolved)
    told: Told | None = None  # the sender's own time for the change (a pager's event time)


@dataclass(frozen=True)
class ChangeSeverity:
    severity: str


@dataclass(frozen=True)
class AssignRole:
    role: str
    user: str


@dataclass(frozen=True)
class Acknowledge:
    told: Told | None = None  # the sender's own time for the acknowledgement
    # who acknowledged, as the sender names them (a pager's name or email for someone the chat
    # surface does not know): said in the entry when there is no actor to name
    by: str | None = None


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class MakePublic:
    """A private incident becomes visible to everyone: the feed, lists and pages."""


@dataclass(frozen=True)
class EditMilestones:
    """Correct milestone times after the fact (`/incident timestamps`)."""

    changes: dict[Milestone, datetime]


Command = (
    ChangeStatus | ChangeSeverity | AssignRole | Acknowledge | AddNote | MakePublic | EditMilestones
)

# Milestones people may correct: what happened in the world. Declared and closed are the bot's
# own records of what people did in it, so they stay as stamped.
EDITABLE: tuple[Milestone, ...] = (
    Milestone.IMPACT_STARTED,
    Milestone.DETECTED,
    Milestone.ACKNOWLEDGED,
    Milestone.MITIGATED,
    Milestone.RESOLVED,
)

# What each command does, in the few words a refusal names it by (`Refusal.what`).
_DOING: dict[type, str] = {
    ChangeStatus: "change the status",
    ChangeSeverity: "change the severity",
    AssignRole: "assign a role",
    Acknowledge: "acknowledge the incident",
    AddNote: "add a note",
    MakePublic: "make the incident public",
    EditMilestones: "correct the timestamps",
}


def doing(command: Command) -> str:
    """What `command` does, as a refusal of it says: "change the severity"."""
    return _DOING[type(command)]
