"""The catalog's post-mortem settings: templates, where the draft goes in the tracker, and
private incidents' security level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.core.catalog_base import Strict


class PrivatePostmortems(Strict):
    """Private incidents' post-mortems go to the tracker only under an issue security level."""

    security_level: str = Field(min_length=1, max_length=255)  # its name, or its id ("10000")

    @field_validator("security_level", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # `security_level: 10000` in YAML: the tracker's ids are strings
        return value.strip() if isinstance(value, str) else value


class Postmortems(Strict):
    """How the post-mortem is drafted and exported (templates live in postmortem_templates/)."""

    template: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    templates_by_severity: dict[str, str] = Field(default_factory=dict)  # SEV1: major
    templates_by_service: dict[str, str] = Field(default_factory=dict)  # checkout: payments
    tracker_project: str | None = None  # else the tracker's default project
    issue_type: str = "Task"
    # When post-mortems go to a service desk: their request type (None: the desk's default)
    request_type: str | None = Field(default=None, min_length=1, max_length=255)
    followup_issue_type: str = "Task"
    followups_as: Literal["linked", "subtasks"] = "linked"  # "relates to" links, or sub-tasks
    link_type: str = "Relates"
    archive_channel: bool = True  # archive the channel once the post-mortem is in the tracker
    # Unset: a private incident's post-mortem is not exported (it stays a draft in the chat).
    private: PrivatePostmortems | None = None

    def template_for(self, severity: str, service: str | None) -> str:
        if service and service in self.templates_by_service:
            return self.templates_by_service[service]
        return self.templates_by_severity.get(severity.upper(), self.template)
