"""Slack's published rate limits (api.slack.com/apis/rate-limits), a little under, so that a
storm of incidents is paced instead of answered with 429s. Per workspace, per process: with
several processes Slack's Retry-After still holds the line (the outbox waits it out)."""

from __future__ import annotations

import time

from bot.core.pacing import Pacer
from bot.flows.ports import Deferred

MARGIN = 0.9
# calls per minute by tier; the burst lets a quiet bot act at once
_TIER = {2: 20, 3: 50, 4: 100}
_METHODS = {
    "conversations.create": 2,
    "conversations.setTopic": 2,
    "conversations.archive": 2,
    "pins.add": 2,
    "conversations.invite": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "chat.update": 3,
    "users.lookupByEmail": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
}
LIMITS = {
    method: (_TIER[tier] * MARGIN, max(1.0, _TIER[tier] * MARGIN / 6))
    for method, tier in _METHODS.items()
}
# chat.postMessage: "1 per second per channel, short bursts allowed" (paced per channel)
LIMITS["chat.postMessage"] = (60 * MARGIN, 3.0)
PER_CHANNEL = {"chat.postMessage", "chat.update"}
MAX_SLEEP = 2.0  # shorter waits are slept in the worker; longer ones go back to the outbox


class SlackPacer:
    def __init__(self, pacer: Pacer | None = None) -> None:
        self.pacer = pacer or Pacer(LIMITS)

    def before(self, method: str, channel: str | None) -> None:
        scope = channel or "" if method in PER_CHANNEL else ""
        wait = self.pacer.delay(method, time.monotonic(), scope)
        if wait > MAX_SLEEP:
            self.pacer.release(method, scope)
            raise Deferred("slack", f"{method} paced to Slack's rate limit", wait)
        if wait > 0:
            time.sleep(wait)
