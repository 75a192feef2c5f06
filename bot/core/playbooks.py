"""Playbooks as code: the schema of a runbook playbook and which playbooks fit an incident. Pure.

Two steps validate a playbook. The strict schema (`Playbook`: unknown keys are errors) checks what
a playbook says about itself: slugs, durations, URLs, label matchers, unique step ids, step owners
among its roles. `playbook_lint.validate_against(playbook, catalog)` checks the severities, roles and services it
borrows from the catalog and returns `Problem`s whose `loc` a loader can turn into a line.

Severities rank as in `Catalog.severities`, most severe first. `severity_at_least: SEV2` means
SEV2 or worse (SEV1, SEV2); `severity_at_most: SEV3` means SEV3 or milder; both are inclusive, so
SEV2..SEV3 is `severity_at_least: SEV3` + `severity_at_most: SEV2`.

Label matchers are Prometheus / Alertmanager's (`key=value`, `key!=value`, `key=~regex`,
`key!~regex`, the value optionally double-quoted); a regex must match the whole value, as in
Alertmanager, and a missing label is the empty string. Regexes run on Python's `re`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.core.catalog import COMMANDER, Catalog
from bot.core.label_matchers import LabelMatcher as LabelMatcher

Loc = tuple[str | int, ...]

# -- small value types ---------------------------------------------------------------------------
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # as the catalog's role ids
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # as the catalog's service ids
_SEVERITY = re.compile(r"^[A-Z][A-Z0-9_-]{0,15}$")
_CHAT_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_DURATION = re.compile(r"^(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?$")
MIN_EVERY = timedelta(minutes=1)


def _checked(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


Slug = Annotated[
    str,
    Field(max_length=63),
    _checked(_SLUG, "a slug (lowercase letters, digits and single hyphens, e.g. check-replicas)"),
]
RoleId = Annotated[str, _checked(_ROLE, "a role id (e.g. commander)")]
ServiceId = Annotated[str, _checked(_SERVICE, "a service id")]
SeverityId = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    _checked(_SEVERITY, "a severity id (e.g. SEV2)"),
]


def parse_duration(text: str) -> timedelta:
    """`45s`, `10m`, `1h30m`, `2d` → timedelta; units d, h, m, s, largest first, each at most once."""
    found = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if found is None or not any(found.groups()):
        raise ValueError(f"{text!r} is not a duration (use e.g. 45s, 10m, 1h30m, 2d)")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not value:
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    return value


def format_duration(value: timedelta) -> str:
    """The inverse of `parse_duration` (`1h30m`)."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration (use a string like 45s, 10m, 1h30m, 2d)")
    return parse_duration(value)


def _every(value: timedelta) -> timedelta:
    if value < MIN_EVERY:
        raise ValueError(f"every {format_duration(value)} is too often (at least 1m)")
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


# Stored as JSON the way the YAML says it ("10m"), so a stored action validates back as it was.
_AS_TEXT = PlainSerializer(lambda d: format_duration(d), return_type=str, when_used="json")
Duration = Annotated[timedelta, BeforeValidator(_duration), _AS_TEXT]
Every = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_every), _AS_TEXT]
Url = Annotated[str, AfterValidator(_url)]
Text = Annotated[str, Field(min_length=1, max_length=3000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Match(_Strict):
    """When a playbook fits an incident: every constraint given must hold."""

    severity_at_least: SeverityId | None = None  # this severity or worse
    severity_at_most: SeverityId | None = None  # this severity or milder
    services: tuple[ServiceId, ...] = ()  # any of them (case-insensitive)
    labels: tuple[LabelMatcher, ...] = ()  # all of them, against the alert labels

    @property
    def specificity(self) -> int:
        """Number of constraints: label matchers + 1 for services + 1 per severity bound."""
        bounds = (self.severity_at_least is not None) + (self.severity_at_most is not None)
        return len(self.labels) + bool(self.services) + bounds


# -- actions (a tagged union on `type`) ----------------------------------------------------------
class PageAction(_Strict):
    type: Literal["page"]
    service: ServiceId


class InviteAction(_Strict):
    type: Literal["invite"]
    users: tuple[Annotated[str, _checked(_CHAT_USER, "a chat user id (U…)")], ...] = ()
    usergroup: (
        Annotated[
            str,
            BeforeValidator(lambda v: v.lstrip("@") if isinstance(v, str) else v),
            _checked(_USERGROUP, "a chat user group handle (e.g. dba-oncall)"),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _someone(self) -> InviteAction:
        if not self.users and self.usergroup is None:
            raise ValueError("invite needs users, a usergroup or both")
        return self


class PostAction(_Strict):
    type: Literal["post"]
    text: Text
    to: Literal["channel", "feed"] = "channel"  # the incident channel, or the announcement feed


class SetSeverityAction(_Strict):
    type: Literal["set_severity"]
    severity: SeverityId


class RemindAction(_Strict):
    type: Literal["remind"]
    text: Text
    every: Every
    until: Literal["resolved", "mitigated", "acknowledged"]


class StatusUpdateDueAction(_Strict):
    type: Literal["status_update_due"]
    every: Every


class CreateFollowupAction(_Strict):
    type: Literal["create_followup"]
    text: Text
    owner_role: RoleId | None = None


Action = Annotated[
    PageAction
    | InviteAction
    | PostAction
    | SetSeverityAction
    | RemindAction
    | StatusUpdateDueAction
    | CreateFollowupAction,
    Field(discriminator="type"),
]
ACTION_MODELS: tuple[type[BaseModel], ...] = get_args(get_args(Action)[0])
ACTIONS: TypeAdapter[Action] = TypeAdapter(Action)
AnyAction = (
    PageAction
    | InviteAction
    | PostAction
    | SetSeverityAction
    | RemindAction
    | StatusUpdateDueAction
    | CreateFollowupAction
)


def describe(action: AnyAction) -> str:
    """What the bot does for the step, in a few words ("pages database")."""
    match action:
        case PageAction(service=service):
            return f"pages {service}"
        case InviteAction(users=users, usergroup=group):
            who = [f"@{group}"] if group else []
            if users:
                who.append(f"{len(users)} {'person' if len(users) == 1 else 'people'}")
            return "invites " + " and ".join(who)
        case PostAction(to=to):
            return "posts in the channel" if to == "channel" else "posts in the incident feed"
        case SetSeverityAction(severity=severity):
            return f"sets the severity to {severity}"
        case RemindAction(every=every, until=until):
            return f"reminds every {format_duration(every)} until {until}"
        case StatusUpdateDueAction(every=every):
            return f"asks for a status update every {format_duration(every)}"
        case CreateFollowupAction():
            return "records a follow-up"
    raise AssertionError(action)


ACTION_TYPES = tuple(str(get_args(m.model_fields["type"].annotation)[0]) for m in ACTION_MODELS)


# -- steps and playbooks -------------------------------------------------------------------------
class Step(_Strict):
    id: Slug
    title: Annotated[str, Field(min_length=1, max_length=150)]
    details: str = ""  # the chat's markdown (bold, links, lists)
    runbook_url: Url | None = None
    owner_role: RoleId = COMMANDER  # who ticks it off
    due_after: Duration | None = None  # counted from the playbook's start; None: no deadline
    action: Action | None = None  # done by the bot when the step starts


def _fail(*errors: tuple[Loc, str, object]) -> ValidationError:
    return ValidationError.from_exception_data(
        "Playbook",
        [
            InitErrorDetails(type=PydanticCustomError("playbook", message), loc=loc, input=value)
            for loc, message, value in errors
        ],
    )


class DrillAlert(_Strict):
    after: Duration = timedelta(0)  # counted from the drill's start
    name: Annotated[str, Field(min_length=1, max_length=200)]
    summary: Annotated[str, Field(max_length=500)] = ""


class DrillPlan(_Strict):
    """What a game day simulates for this playbook: alerts firing, the on-call acknowledging,
    and (optionally) the impact stopping; the responders do the rest from the checklist."""

    severity: SeverityId | None = None  # else the playbook's lowest matching severity
    alerts: tuple[DrillAlert, ...] = ()
    acknowledge_after: Duration | None = timedelta(minutes=5)
    mitigate_after: Duration | None = None


class Playbook(_Strict):
    name: Slug
    description: Text
    match: Match | None = None  # None: never picked automatically, only started by name
    roles: tuple[RoleId, ...] = ()  # roles to fill besides the commander, who always is
    private: bool = False  # runs in a private channel and never posts to the public feed
    steps: tuple[Step, ...]  # in order; at least one
    drill: DrillPlan = Field(default_factory=DrillPlan)  # `incidentbot drill <name>`

    @field_validator("steps", mode="before")
    @classmethod
    def _some_steps(cls, steps: object) -> object:
        if isinstance(steps, list | tuple) and not steps:
            raise ValueError("a playbook needs at least one step")
        return steps

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        errors = []
        for index, role in enumerate(roles):
            if role in seen:
                errors.append(((index,), f"role {role!r} is listed twice", role))
            seen.add(role)
        if errors:
            raise _fail(*errors)
        return roles

    @field_validator("steps")
    @classmethod
    def _coherent_steps(cls, steps: tuple[Step, ...], info: ValidationInfo) -> tuple[Step, ...]:
        """Unique step ids, owners the playbook fills, no public posts from a private playbook."""
        errors: list[tuple[Loc, str, object]] = []
        first: dict[str, int] = {}
        filled = {COMMANDER, *info.data.get("roles", ())} if "roles" in info.data else None
        for index, step in enumerate(steps):
            if step.id in first:
                where = f"step {first[step.id] + 1}"
                errors.append(((index, "id"), f"duplicate step id {step.id!r} ({where})", step.id))
            first.setdefault(step.id, index)
            owner = step.owner_role
            if filled is not None and owner not in filled:
                message = f"owner_role {owner!r} is not filled by this playbook: add it to `roles`"
                errors.append(((index, "owner_role"), message, owner))
            action = step.action
            if info.data.get("private") and isinstance(action, PostAction) and action.to == "feed":
                message = "a private playbook must not post to the public feed"
                errors.append(((index, "action", "to"), message, action.to))
        if errors:
            raise _fail(*errors)
        return steps


# -- matching ------------------------------------------------------------------------------------
def match_score(
    playbook: Playbook,
    *,
    severity: str,
    service: str | None,
    labels: Mapping[str, str],
    catalog: Catalog,
) -> int | None:
    """None when the playbook does not fit the incident, else its specificity (higher wins)."""
    match = playbook.match
    if match is None:
        return None
    ranks = {s.id: rank for rank, s in enumerate(catalog.severities)}
    found = catalog.find_severity(severity)
    rank = ranks[found.id] if found is not None else None
    for bound, sign in ((match.severity_at_least, 1), (match.severity_at_most, -1)):
        # at least: rank <= the bound's rank; at most: rank >= it (0 is the most severe)
        if bound is not None and (
            rank is None or bound not in ranks or sign * (ranks[bound] - rank) < 0
        ):
            return None
    if match.services and (
        service is None or service.lower() not in {s.lower() for s in match.services}
    ):
        return None
    if not all(matcher.matches(labels) for matcher in match.labels):
        return None
    return match.specificity


def matching(
    playbooks: Iterable[Playbook],
    *,
    severity: str,
    service: str | None,
    labels: Mapping[str, str],
    catalog: Catalog,
) -> list[Playbook]:
    """The playbooks that fit, most specific first (more constraints), then by name."""
    scored = []
    for playbook in playbooks:
        score = match_score(
            playbook, severity=severity, service=service, labels=labels, catalog=catalog
        )
        if score is not None:
            scored.append((-score, playbook.name, playbook))
    return [playbook for _, _, playbook in sorted(scored, key=lambda item: item[:2])]
