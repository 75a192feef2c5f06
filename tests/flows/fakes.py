"""A recording Chat and Pager for flow tests: stub ports, as in the zulip_bots model (e2e tests
use the real clients against the emulators)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.catalog import PagerTarget
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import (
    CannotPage,
    CardView,
    ChecklistView,
    ConversationGone,
    IntegrationError,
    Line,
    Message,
    NameTaken,
    OnCall,
    Opened,
    PagePlan,
    PageRef,
    PageRequest,
    PagerRefused,
)
from bot.store.db import Database


@dataclass
class FakeChat:
    surface: str = "Slack"
    kind: str = "slack"
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    failures: list[IntegrationError] = field(default_factory=list)  # raised by the next calls
    gone: set[str] = field(default_factory=set)  # archived channels: every call on one fails
    channels: dict[str, str] = field(default_factory=dict)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    _seq: int = 0

    def _record(self, name: str, *args: object) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if args and args[0] in self.gone:
            raise ConversationGone("slack", "is_archived")
        self.calls.append((name, args))

    def _ts(self) -> str:
        self._seq += 1
        return f"1700000000.{self._seq:06d}"

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def create_channel(self, name: str, *, private: bool) -> str:
        if name in self.taken:
            self.calls.append(("create_channel:taken", (name,)))
            raise NameTaken(name)
        self._record("create_channel", name, private)
        self.taken.add(name)
        channel_id = f"C{len(self.channels) + 1:04d}"
        self.channels[channel_id] = name
        return channel_id

    def own_channel(self, name: str) -> str | None:
        self._record("own_channel", name)
        return next((cid for cid, n in self.channels.items() if n == name), None)

    def find_posted(self, channel_id: str, key: str) -> str | None:
        self._record("find_posted", channel_id, key)
        return None

    def invite(self, channel_id: str, users: Sequence[str]) -> None:
        self._record("invite", channel_id, tuple(users))

    def topic_for(self, card: CardView) -> str:
        return f"{card.severity.id} | {card.status.name} | {card.holder('commander')}"

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._record("set_topic", channel_id, topic)

    def post_card(self, channel_id: str, card: CardView, *, key: str | None = None) -> str:
        self._record("post_card", channel_id, card.status.id)
        return self._ts()

    def update_card(self, channel_id: str, ts: str, card: CardView) -> None:
        self._record("update_card", channel_id, ts, card.status.id, card.severity.id)

    def propose_mitigation(
        self, channel_id: str, card: CardView, at: datetime, *, key: str | None = None
    ) -> str:
        self._record("propose_mitigation", channel_id, at)
        return self._ts()

    def post_checklist(
        self, channel_id: str, checklist: ChecklistView, *, key: str | None = None
    ) -> str:
        self._record("post_checklist", channel_id, checklist.playbook)
        return self._ts()

    def update_checklist(self, channel_id: str, ts: str, checklist: ChecklistView) -> None:
        self._record("update_checklist", channel_id, ts, tuple(s.state for s in checklist.steps))

    def pin(self, channel_id: str, ts: str) -> None:
        self._record("pin", channel_id, ts)

    def post_line(
        self, channel_id: str, line: Line, card: CardView, *, key: str | None = None
    ) -> str:
        self._record("post_line", channel_id, line.kind, line.text)
        return self._ts()

    def announce(self, feed: str, card: CardView, *, key: str | None = None) -> tuple[str, str]:
        self._record("announce", feed, card.conversation_id)
        return "CFEED", self._ts()

    def update_announcement(self, channel_id: str, ts: str, card: CardView) -> None:
        self._record("update_announcement", channel_id, ts, card.status.id)

    def fetch_message(self, channel_id: str, ts: str) -> Message:
        self._record("fetch_message", channel_id, ts)
        return self.messages.get(
            (channel_id, ts),
            Message(
                "a message",
                "U0CAROL",
                f"https://x.slack.com/archives/{channel_id}/p{ts.replace('.', '')}",
            ),
        )

    def user_by_email(self, email: str) -> str | None:
        self._record("user_by_email", email)
        return {"alice@example.com": "U0ALICE", "bob@example.com": "U0BOB"}.get(email)

    def user_email(self, user_id: str) -> str | None:
        self._record("user_email", user_id)
        return {"U0ALICE": "alice@example.com", "U0BOB": "bob@example.com"}.get(user_id)

    def direct_message(self, user_id: str, line: Line) -> str:
        self._record("direct_message", user_id, line.text)
        return self._ts()

    def user_name(self, user_id: str) -> str | None:
        self._record("user_name", user_id)
        return {"U0ALICE": "alice", "U0BOB": "bob"}.get(user_id)

    def members(self, channel_id: str) -> list[str]:
        self._record("members", channel_id)
        return ["U0ALICE"]

    def archive(self, channel_id: str) -> None:
        self._record("archive", channel_id)

    def usergroup_members(self, handle: str) -> list[str] | None:
        self._record("usergroup_members", handle)
        return {"dba-oncall": ["U0CAROL"]}.get(handle)


class StepClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class World:
    """Flows over the real store with a recording chat and a clock that moves when told."""

    db: Database
    chat: FakeChat
    clock: StepClock
    flows: IncidentFlows
    runner: OutboxRunner


class FakePager:
    """A pager that records what it is asked. It pages a target's service, or its first
    responder; a second page adds the target's escalation policy, or its responders."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.calls: list[tuple[str, object]] = []

    def plan(
        self, target: PagerTarget, *, alert_born: bool, has_page: bool
    ) -> PagePlan | CannotPage:
        responder = target.responders[0].name if target.responders else None
        if has_page and (target.escalation_policy_id or responder):
            return PagePlan("responders", target.escalation_policy_id or str(responder))
        if target.service_id or responder:
            return PagePlan("alert", target.service_id or str(responder))
        return CannotPage("nothing to page", "map the service")

    def open(self, request: PageRequest) -> Opened:
        self.calls.append(("open", request))
        return Opened(f"{self.kind}-{request.key}", f"https://{self.kind}.example/{request.key}")

    def add_responders(self, page: PageRef, plan: PagePlan, message: str) -> None:
        self.calls.append(("add_responders", (page, plan)))

    def acknowledge(self, page: PageRef) -> None:
        self.calls.append(("acknowledge", page))

    def resolve(self, page: PageRef) -> None:
        self.calls.append(("resolve", page))

    def oncalls(self, target: PagerTarget) -> list[OnCall]:
        if target.schedule is None:
            raise PagerRefused("No schedule known", "name one in the catalog.")
        return [OnCall("Alice", "alice@example.com", 1, target.schedule, None)]

    def person_email(self, user_id: str) -> str | None:
        return {"p-alice": "alice@example.com"}.get(user_id)

    def asked(self, what: str) -> list[object]:
        return [args for call, args in self.calls if call == what]
