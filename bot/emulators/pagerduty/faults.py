"""Fault injection and PagerDuty's rate limits for the emulated APIs."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

# Documented limits: REST API v2 960 requests/minute per API key (developer docs, "REST API
# Rate Limits"); Events API v2 "approximately 120 calls/minute per integration key".
REST_PER_MINUTE = 960
EVENTS_PER_MINUTE = 120


@dataclass(frozen=True)
class Fault:
    """One queued failure for a route such as ``"POST /incidents"``, ``"PUT /incidents/{id}"``,
    ``"POST /v2/enqueue"`` or ``"*"`` (any).

    ``status`` 429 answers like PagerDuty's rate limiting, 5xx with PagerDuty's internal-error
    body (or ``body``), any other status with ``body``; ``status=0`` drops the connection
    without an answer (a network error). ``apply=True`` performs the request first, like a
    PagerDuty that did the work but lost the response.
    """

    route: str
    status: int = 500
    delay: float = 0.0
    body: str | None = None
    apply: bool = False


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._queue.extend([fault] * times)

    def take(self, route: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault.route in (route, "*"):
                    return self._queue.pop(i)
        return None

    def pending(self, route: str | None = None) -> int:
        with self._lock:
            return sum(1 for f in self._queue if route is None or f.route == route)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until a request would be allowed again (ratelimit-reset)


class RateLimiter:
    """Token buckets: ``"rest"`` per API token, ``"events"`` per routing key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, float]] = {
            "rest": (REST_PER_MINUTE, REST_PER_MINUTE / 60.0),
            "events": (EVENTS_PER_MINUTE, EVENTS_PER_MINUTE / 60.0),
        }
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def set_limit(self, scope: str, *, per_minute: float, burst: int | None = None) -> None:
        if scope not in self._limits:
            raise ValueError(f"unknown rate-limit scope {scope!r} (rest or events)")
        capacity = burst if burst is not None else max(1, int(per_minute))
        with self._lock:
            self._limits[scope] = (capacity, per_minute / 60.0)
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != scope}

    def check(self, scope: str, key: str) -> Verdict:
        """Consumes a token if one is left."""
        with self._lock:
            capacity, per_second = self._limits[scope]
            now = time.monotonic()
            bucket = self._buckets.get((scope, key))
            if bucket is None:
                bucket = self._buckets[(scope, key)] = _Bucket(capacity, per_second, capacity, now)
            bucket.tokens = min(
                bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.per_second
            )
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            missing = max(0.0, 1.0 - bucket.tokens)
            reset = math.ceil(missing / bucket.per_second) if missing > 0 else 0
            return Verdict(allowed, int(capacity), int(bucket.tokens), max(reset, 0))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
