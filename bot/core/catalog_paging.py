"""The catalog's paging: where each service's pages go (which pager, its service, policy or
responders) and when the bot pages on its own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bot.core.catalog_base import ID_PATTERN, Strict


class Responder(Strict):
    """Who a page asks for, as pagers with teams and schedules take them: a team, a user, an
    escalation or a schedule, by name or by id (exactly one of the two)."""

    type: Literal["team", "user", "escalation", "schedule"]
    name: str | None = Field(default=None, min_length=1, max_length=200)
    id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _name_or_id(self) -> Responder:
        if (self.name is None) == (self.id is None):
            raise ValueError("a responder has exactly one of `name` and `id`")
        return self


class PagerTarget(Strict):
    """Where a service's pages go. `kind` names the pager that serves it (None: the
    deployment's default pager). Pagers with services and escalation policies page the
    service (or the policy), or send an event to its routing key; pagers with teams and
    schedules page `responders` and ask `schedule` who is on call."""

    kind: str | None = Field(default=None, pattern=ID_PATTERN)
    service_id: str | None = None
    escalation_policy_id: str | None = None
    routing_key: str | None = Field(default=None, min_length=32, max_length=32)
    responders: tuple[Responder, ...] = ()
    schedule: str | None = Field(default=None, min_length=1, max_length=200)


class Paging(Strict):
    auto_severities: tuple[str, ...] = ("SEV1", "SEV2")  # paged at once when the incident opens
    ack_timeout_minutes: int = Field(default=10, ge=1)  # not acknowledged by then: page again
