"""What the flows need from the outside world, as small protocols (adapters implement them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bot.core.catalog import PagerTarget, Responder, Role, Severity, Status
from bot.core.milestones import Milestone, Stamp
from bot.core.refusals import sentence


class IntegrationError(Exception):
    """A call to another system (the chat surface, the pager, the tracker) failed. `retryable`
    faults are retried with backoff. `service` and `code` are the adapter's own words for who
    answered and what (kept in the outbox's record of the failure)."""

    def __init__(
        self,
        service: str,
        code: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{service}: {code}" + (f" ({detail})" if detail else ""))
        self.service = service
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


class Deferred(IntegrationError):
    """Not now: the call would exceed the service's rate limit. Retried after `retry_after`
    seconds without counting as a failed attempt."""

    def __init__(self, service: str, what: str, retry_after: float) -> None:
        super().__init__(service, "paced", retryable=True, retry_after=retry_after, detail=what)


class RateLimited(IntegrationError):
    """The service refused the call for its rate limit: retried after `retry_after` seconds
    (None: it did not say; the usual backoff), counting as an attempt."""

    def __init__(
        self, service: str, retry_after: float | None, *, code: str = "ratelimited"
    ) -> None:
        super().__init__(service, code, retryable=True, retry_after=retry_after)


class ConversationGone(IntegrationError):
    """The conversation can no longer be posted to: archived, deleted, or the bot was removed
    from it. Permanent; `code` is the surface's own answer."""

    def __init__(self, service: str, code: str, *, detail: str = "") -> None:
        super().__init__(service, code, retryable=False, detail=detail)


class ChatRefused(IntegrationError):
    """A permanent refusal of the chat surface (a missing permission, a policy of the
    workspace, a revoked credential): `reason` says what is wrong and `fix` what to do."""

    def __init__(self, service: str, code: str, *, reason: str, fix: str) -> None:
        super().__init__(service, code, retryable=False, detail=f"{reason}; {fix}")
        self.reason = reason
        self.fix = fix


class NameTaken(IntegrationError):
    """A conversation of that name exists already."""

    def __init__(self, name: str) -> None:
        super().__init__("chat", "name_taken", retryable=False, detail=name)


@dataclass(frozen=True)
class AlertLine:
    name: str
    summary: str
    firing: bool
    links: dict[str, str]


@dataclass(frozen=True)
class PageLine:
    service: str | None
    status: str
    html_url: str | None


@dataclass(frozen=True)
class CardView:
    """Everything a renderer needs to draw an incident (card, topic, announcement)."""

    id: int
    title: str
    severity: Severity
    status: Status
    roles: tuple[tuple[Role, str | None], ...]
    milestones: dict[Milestone, Stamp]
    private: bool = False
    drill: bool = False
    description: str = ""
    summary: str | None = None
    conversation_id: str | None = None
    conversation_name: str | None = None
    review_url: str | None = None
    postmortem_key: str | None = None
    postmortem_url: str | None = None
    service: str | None = None
    alerts: tuple[AlertLine, ...] = ()
    pages: tuple[PageLine, ...] = ()

    def holder(self, role_id: str) -> str | None:
        return next((user for role, user in self.roles if role.id == role_id), None)


@dataclass(frozen=True)
class StepView:
    step: str
    title: str
    owner: str  # the role's name
    runbook_url: str | None
    due_at: datetime | None
    state: str  # open | running | done | skipped | failed
    by: str | None  # None on a done or failed step: the bot's action
    at: datetime | None
    skip_reason: str | None
    result: str | None = None  # what the bot's action did, or why it failed
    automated: str | None = None  # what the bot does for this step ("pages database")


@dataclass(frozen=True)
class ChecklistView:
    run_id: int
    playbook: str
    title: str
    steps: tuple[StepView, ...]


@dataclass(frozen=True)
class Line:
    """A short update posted into the incident channel."""

    kind: str
    text: str
    actor: str | None
    at: datetime
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    text: str
    user: str | None
    permalink: str


class Chat(Protocol):
    """The chat surface: conversations (the incident's, the feed, direct ones), messages in
    them and the people there. Errors the flows act on are `NameTaken`, `ConversationGone`,
    `ChatRefused`, `RateLimited` and `Deferred`; anything else is an `IntegrationError`."""

    surface: str  # the product's name, for texts that tell people where to look
    # A stable id of the surface (its adapter's, lowercase), stored with the ids it gives
    # (`incident.chat_surface`), so that ids another surface gave are never handed to this one.
    kind: str

    def create_channel(self, name: str, *, private: bool) -> str: ...
    def own_channel(self, name: str) -> str | None: ...
    def find_posted(self, channel_id: str, key: str) -> str | None: ...
    def invite(self, channel_id: str, users: Sequence[str]) -> None: ...
    def topic_for(self, card: CardView) -> str: ...
    def set_topic(self, channel_id: str, topic: str) -> None: ...
    def post_card(self, channel_id: str, card: CardView, *, key: str | None = None) -> str: ...
    def update_card(self, channel_id: str, ts: str, card: CardView) -> None: ...
    def pin(self, channel_id: str, ts: str) -> None: ...
    def propose_mitigation(
        self, channel_id: str, card: CardView, at: datetime, *, key: str | None = None
    ) -> str: ...
    def post_checklist(
        self, channel_id: str, checklist: ChecklistView, *, key: str | None = None
    ) -> str: ...
    def update_checklist(self, channel_id: str, ts: str, checklist: ChecklistView) -> None: ...
    def post_line(
        self, channel_id: str, line: Line, card: CardView, *, key: str | None = None
    ) -> str: ...
    def announce(self, feed: str, card: CardView, *, key: str | None = None) -> tuple[str, str]: ...
    def update_announcement(self, channel_id: str, ts: str, card: CardView) -> None: ...
    def fetch_message(self, channel_id: str, ts: str) -> Message: ...
    def user_by_email(self, email: str) -> str | None: ...
    def usergroup_members(self, handle: str) -> list[str] | None: ...
    def direct_message(self, user_id: str, line: Line) -> str: ...
    def user_name(self, user_id: str) -> str | None: ...
    def archive(self, channel_id: str) -> None: ...
    def members(self, channel_id: str) -> list[str]: ...
    def user_email(self, user_id: str) -> str | None: ...


@dataclass(frozen=True)
class TrackerIssue:
    key: str
    url: str


class Tracker(Protocol):
    """The tracker, as the post-mortem export needs it. Descriptions arrive as Markdown; the adapter
    writes them in the flavour its API version takes (wiki markup or ADF). `name`: the product's
    name people read ("… drafted in <name>"); `fix`: the settings to check when it refuses the
    post-mortem."""

    project: str
    name: str
    fix: str

    def find(self, *, label: str) -> TrackerIssue | None: ...
    def create(
        self,
        *,
        project: str,
        issue_type: str,
        summary: str,
        description: str,
        labels: Sequence[str],
        assignee_email: str | None = None,
        parent: str | None = None,
        security_level: str | None = None,
    ) -> TrackerIssue: ...
    def update(
        self,
        key: str,
        *,
        summary: str,
        description: str,
        labels: Sequence[str],
        security_level: str | None = None,
    ) -> None: ...
    def link(self, *, link_type: str, inward: str, outward: str) -> None: ...
    def remote_link(self, key: str, *, global_id: str, url: str, title: str) -> None: ...


class PagerRefused(Exception):
    """The pager cannot do this for this target, and a person can fix it: `reason` says what is
    wrong, `fix` what to set. The flows turn it into a refusal."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class PagePlan:
    """How a pager will page a target: `kind` is stored on PageRow.kind ("event", "incident",
    "alert", "responders"), `target` the id the pager pages (routing key, service, escalation
    policy, team…), stored on PageRow.target."""

    kind: str
    target: str


@dataclass(frozen=True)
class CannotPage:
    """Why a pager cannot page a target (`reason`, a clause: "no … for this service") and what
    a person sets so it can (`fix`: "set … in the catalog"); the flows turn it into a refusal."""

    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.reason}. {sentence(self.fix)}"


@dataclass(frozen=True)
class PageRequest:
    key: str  # our key: a retry with the same key never opens a second page
    plan: PagePlan
    title: str  # "[SEV1] Checkout is down"
    details: str  # the description and the links, as text
    severity_rank: int  # 0 = the catalog's most severe (each pager maps it onto its own scale)
    source: str  # the service, or "incidentbot"
    detected_at: datetime
    links: tuple[tuple[str, str], ...]  # (text, url): the conversation, the review page
    # the target's responders, and its escalation policy (if any) as an `escalation` responder
    responders: tuple[Responder, ...] = ()
    # what the pager may show as fields (incident, severity, status, service, description)
    facts: tuple[tuple[str, str | int | None], ...] = ()


@dataclass(frozen=True)
class Opened:
    """The page the pager opened: its incident / alert id (None when only its webhook will
    tell, as for events), and where people see it."""

    id: str | None
    url: str | None


@dataclass(frozen=True)
class PageRef:
    """A page the bot made, as stored."""

    key: str
    kind: str
    target: str
    pager_id: str | None  # PageRow.pager_incident_id


@dataclass(frozen=True)
class OnCall:
    name: str
    email: str | None
    level: int
    via: str  # the escalation policy / schedule it came from
    until: datetime | None
    chat: str | None = None  # their chat handle, when the flows matched them by email


class Pager(Protocol):
    """A pager (each vendor's adapter is one): opens pages, adds responders, follows acknowledgements
    and resolutions made in the conversation, and says who is on call. Its vendor's errors
    arrive as `IntegrationError` / `Deferred`."""

    kind: str  # its registry key: PageRow.pager, the catalog's `kind`
    name: str  # the product's name, for what the timeline says ("Paged … (checkout)")

    def plan(
        self, target: PagerTarget, *, alert_born: bool, has_page: bool
    ) -> PagePlan | CannotPage:
        """How to page `target`, or why it cannot and the fix. `has_page`: the
        incident already has an open page on this pager (a second page adds responders)."""
        ...

    def open(self, request: PageRequest) -> Opened: ...  # idempotent on request.key
    def add_responders(self, page: PageRef, plan: PagePlan, message: str) -> None: ...
    def acknowledge(self, page: PageRef) -> None: ...
    def resolve(self, page: PageRef) -> None: ...
    def oncalls(self, target: PagerTarget) -> list[OnCall]: ...  # PagerRefused: cannot say
    def person_email(self, user_id: str) -> str | None: ...


@dataclass(frozen=True)
class PagerEvent:
    """A pager's webhook event, parsed by its adapter, with the pager's own time."""

    pager: str  # the pager's display name (`Pager.name`)
    id: str  # the delivery's own id (the replay key is f"{pager kind}:event:{id}")
    action: str  # "triggered" | "acknowledged" | "resolved" | "reopened" | "note"
    page_id: str | None  # the pager's incident / alert id
    page_key: str | None  # our key echoed back (dedup_key / incident_key / alias)
    url: str | None
    agent_id: str | None  # the pager's user id (matched to chat people by email)
    agent_email: str | None  # when the payload carries it
    agent_name: str | None
    note: str | None  # for "note": what the timeline says, e.g. "escalated"
    occurred_at: datetime | None  # the pager's own time for the event (None: absent/unreadable)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


ConversationLink = Callable[[str, str | None], tuple[str, str]]
"""The chat surface's link to an incident's conversation: (its id, its name) → (label, url)."""


class ServiceDesk(Protocol):
    """The tracker's service desk, when post-mortems go there: raised as a request of the
    catalog's request type (None: the desk's default); the follow-ups stay tracker issues.
    `name` and `fix` as the tracker's: the texts about the post-mortem use the desk's."""

    name: str
    fix: str

    def create_request(
        self, *, request_type: str | None, summary: str, description: str, labels: Sequence[str]
    ) -> TrackerIssue: ...
