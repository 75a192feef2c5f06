"""Fault injection and Slack's rate-limit tiers for the emulated Web API."""

from __future__ import annotations

from dataclasses import dataclass

from ..common import faults as shared
from ..common.faults import Limit, TokenBuckets


@dataclass(frozen=True)
class Fault:
    """One queued failure for a Web API method (``"*"`` matches any method).

    ``status`` 200 answers ``{"ok": false, "error": error}`` (or, with ``error=None``, the
    normal answer after ``delay``); 429 answers ``ratelimited`` with ``Retry-After``; any
    other status answers that status with ``body`` (an HTML error page by default).
    ``apply=True`` performs the call's side effects before answering with the fault, like a
    Slack that did the work but lost the response.
    """

    method: str
    error: str | None = "internal_error"
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0
    body: str | None = None
    apply: bool = False

    @property
    def passthrough(self) -> bool:
        return self.status == 200 and self.error is None


class FaultBook(shared.FaultBook[Fault]):
    """Faults queued per Web API method."""

    def __init__(self) -> None:
        super().__init__(lambda fault: fault.method)


# Published tiers (requests per minute) — https://api.slack.com/apis/rate-limits: applied "per
# API method per app per workspace", in per-minute windows. Enforced here as rolling windows (at
# most the tier's count in any 60 s, all of it at once if the window is free: the strictest
# reading of "per minute", so a bot that passes here passes Slack), counted per method across
# every caller holding the workspace's token — two bot processes share one limit.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "auth.test": 4,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "conversations.unarchive": 2,
    "pins.add": 2,
    "pins.remove": 2,
    "reactions.add": 3,
    "reactions.get": 3,
    "reactions.remove": 2,
    "team.info": 3,
    "users.info": 4,
    "users.list": 2,
    "usergroups.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
DEFAULT_TIER = 3
WINDOW_S = 60.0
# chat.postMessage: "1 per second per channel, short bursts >1 allowed": a token bucket of 5.
POST_MESSAGE_LIMIT = (5, 1.0, True)


class RateLimiter(TokenBuckets):
    """A rolling window per method (the tier's count per minute, per workspace), and token
    buckets per channel for chat.postMessage; ``set_limit`` overrides a method."""

    def __init__(self) -> None:
        super().__init__({"chat.postMessage": Limit(*POST_MESSAGE_LIMIT)})

    def set_limit(
        self, method: str, *, per_minute: float, burst: int | None = None, per_channel: bool = False
    ) -> None:
        self._set(method, Limit.per_minute(per_minute, burst, per_key=per_channel))

    def default_limit(self, scope: str) -> Limit:
        per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(scope, DEFAULT_TIER)]
        return Limit.rolling(per_minute, WINDOW_S, per_key=False)

    def check(self, method: str, channel: str | None) -> int | None:
        """Consumes a token; returns Retry-After seconds when the call must be refused."""
        verdict = self.take(method, channel)
        return None if verdict.allowed else max(1, verdict.reset_s)
