"""Slack's published rate limits (docs.slack.dev/apis/web-api/rate-limits), a little under.

Slack evaluates Web API calls "per API method per app per workspace" in per-minute windows: tier
2 allows 20 a minute, tier 3 50, tier 4 100, "while allowing for occasional bursts". The bot
books 90 % of each tier's minute in a rolling window a second longer than a minute (the second
covers the time between booking and Slack counting), so a free window is spent at once and only
what exceeds it waits. chat.postMessage is "1 per second per channel, short bursts >1 allowed":
3 at once per channel, then about one a second.

With PostgreSQL the budgets are shared by every process of the deployment (the web replicas and
the schedulers: bot.store.budgets); with SQLite (one process by design) they stay in memory."""

from __future__ import annotations

from bot.adapters.pacing_gate import PacingGate
from bot.core.pacing import Budgets, Pacer, Window

MARGIN = 0.9
GUARD_S = 1.0  # booking → Slack's clock: the window is this much longer than Slack's minute
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
# The tier of every method the bot calls (each method's reference page, "Rate limits").
METHOD_TIERS = {
    "auth.test": 4,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.setTopic": 2,
    "pins.add": 2,
    "usergroups.list": 2,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
DEFAULT_TIER = 3


def tier_window(tier: int) -> Window:
    return Window(max(1, int(TIER_PER_MINUTE[tier] * MARGIN)), 60.0 + GUARD_S)


LIMITS = {method: tier_window(tier) for method, tier in METHOD_TIERS.items()}
DEFAULT = tier_window(DEFAULT_TIER)
# chat.postMessage, per channel: a burst of 3, then 3 every 3.3 s (0.9 a second on average).
POST_MESSAGE = Window(3, 3 / MARGIN)
LIMITS["chat.postMessage"] = POST_MESSAGE
PER_CHANNEL = {"chat.postMessage"}
MAX_SLEEP = 2.0  # shorter waits are slept in the worker; longer ones go back to the outbox


def slack_budgets() -> Pacer:
    """In-process budgets with Slack's limits (SQLite: one process)."""
    return Pacer(LIMITS, DEFAULT)


class SlackPacer:
    def __init__(self, budgets: Budgets | None = None) -> None:
        self.budgets: Budgets = budgets if budgets is not None else slack_budgets()
        self._gate = PacingGate(self.budgets, "slack", max_sleep=MAX_SLEEP)

    def before(self, method: str, channel: str | None) -> None:
        """Waits for the call's slot, or raises Deferred (back to the outbox, retried when the
        window frees) when that is more than MAX_SLEEP away."""
        scope = (channel or "") if method in PER_CHANNEL else ""
        self._gate.before(method, scope, f"{method} paced to Slack's rate limit")
