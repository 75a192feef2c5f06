"""Fault injection and Slack's rate-limit tiers for the emulated Web API."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


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


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._queue.extend([fault] * times)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault.method in (method, "*"):
                    return self._queue.pop(i)
        return None

    def pending(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for f in self._queue if method is None or f.method == method)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


# Published tiers (requests per minute) — https://api.slack.com/apis/rate-limits
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
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
DEFAULT_TIER = 3
# chat.postMessage: "1 per second per channel, short bursts allowed".
POST_MESSAGE_LIMIT = (5, 1.0, True)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per method (and per channel where Slack limits per channel)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, float, bool]] = {"chat.postMessage": POST_MESSAGE_LIMIT}
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def set_limit(
        self, method: str, *, per_minute: float, burst: int | None = None, per_channel: bool = False
    ) -> None:
        capacity = burst if burst is not None else max(1, int(per_minute))
        with self._lock:
            self._limits[method] = (capacity, per_minute / 60.0, per_channel)
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}

    def _limit(self, method: str) -> tuple[int, float, bool]:
        if method in self._limits:
            return self._limits[method]
        per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, DEFAULT_TIER)]
        return per_minute, per_minute / 60.0, False

    def check(self, method: str, channel: str | None) -> int | None:
        """Consumes a token; returns Retry-After seconds when the call must be refused."""
        with self._lock:
            capacity, per_second, per_channel = self._limit(method)
            key = (method, (channel or "") if per_channel else "")
            now = time.monotonic()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, per_second, capacity, now)
            bucket.tokens = min(
                bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / bucket.per_second))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
