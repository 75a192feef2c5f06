"""The catalog's post-mortem settings: templates, where the draft goes in the tracker (for the
deployment, and for each service: `TrackerTarget`), and private incidents' security level."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.catalog_base import Strict

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")


class PrivatePostmortems(Strict):
    """Private incidents' post-mortems go to the tracker only under an issue security level."""

    security_level: str = Field(min_length=1, max_length=255)  # its name, or its id ("10000")

    @field_validator("security_level", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # `security_level: 10000` in YAML: the tracker's ids are strings
        return value.strip() if isinstance(value, str) else value


class TrackerTarget(Strict):
    """Where a service's post-mortem and follow-ups go. `kind`: `issues` (an issue of the
    tracker) or `service_desk` (a request of the deployment's service desk); None: the
    deployment's default (its service desk when one is set up, else issues). `project`: the
    tracker project's key (else `postmortem.tracker_project`, else the tracker's default); a
    service desk's request lands in the desk's own project, so with a desk `project` is where
    the linked follow-ups go. `request_type`: the desk's request type, over
    `postmortem.request_type`. Left out: the deployment's defaults, as without a catalog entry."""

    kind: Literal["issues", "service_desk"] | None = None
    project: str | None = None
    request_type: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("project")
    @classmethod
    def _project_key(cls, value: str | None) -> str | None:
        if value is not None and not PROJECT_KEY.match(value):
            hint = f" (did you mean {value.upper()!r}?)" if PROJECT_KEY.match(value.upper()) else ""
            raise ValueError(
                f"{value!r} is not a project key: an uppercase letter, then 1 to 9 uppercase "
                f"letters, digits or underscores (e.g. PAY){hint}"
            )
        return value

    @model_validator(mode="after")
    def _request_type_of_a_desk(self) -> TrackerTarget:
        if self.kind == "issues" and self.request_type is not None:
            raise ValueError(
                "`request_type` is a service desk's request type: it has no use with "
                "`kind: issues` (remove it, or set `kind: service_desk`)"
            )
        return self


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
