"""Timeline entries: what happened, when, who did it, where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.milestones import Source, require_aware


class EntryKind(StrEnum):
    DECLARED = "declared"
    STATUS = "status"
    SEVERITY = "severity"
    ROLE = "role"
    ACKNOWLEDGED = "acknowledged"
    MILESTONE = "milestone"
    NOTE = "note"
    PIN = "pin"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ALERT = "alert"
    PAGE = "page"
    PLAYBOOK = "playbook"
    STEP = "step"
    FOLLOWUP = "followup"
    POSTMORTEM = "postmortem"
    VISIBILITY = "visibility"  # a private incident made public


@dataclass(frozen=True)
class Entry:
    """One timeline row. `text` is plain language; adapters add mentions and formatting."""

    kind: EntryKind
    at: datetime
    text: str
    actor: str | None
    source: Source
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.at)
